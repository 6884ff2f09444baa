// The privacy ceiling of a protector that knows exactly where the private
// evidence is: copies a manifest of still images with every private question's
// evidence box (the main person's face, name tags, signs, licence plates in the
// synthetic benchmark) filled with grey, so that `scrim eval --protector raw`
// on the copy measures what a perfect detector-driven fill would reach —
// utility through the MLLM and attacker cMAP — beside the real detectors'
// `regions:*` figures. A diagnostic, not a protector: it reads the labels.
//
// --shape ellipse fills the ellipse inscribed in each box instead (for the face box: about the head's own
// outline, the tightest head-hiding region, without the box's corners over the neck and shoulders).
// --fill blur:S / pixelate:B puts the picture's own Gaussian blur (sigma S pixels) or pixelation (B-pixel blocks)
// there instead of grey: the ceilings of the blend anonymizer's other obfuscations, which keep the colours round
// the head (the shirt's collar) that a grey fill spills over (docs/results.md, "a ninth look").
// --fill colour:B,G,R fills with one colour (8-bit BGR): a skin tone instead of grey, say.
// --keep-top F leaves the top fraction F of each (scaled) box shown and fills the rest: for the face box, the
// face from the brows down without the hat or the hair above them (docs/results.md, "a tenth look").
//
//   scrim_bench_evidence_fill MANIFEST OUT_DIR [--scale 1.3] [--types identity,name_tag,sign_text,plate_text]
//                             [--shape box|ellipse] [--fill grey|blur:S|pixelate:B|colour:B,G,R] [--keep-top F]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "scrim/core/error.h"
#include "scrim/data/manifest.h"

namespace fs = std::filesystem;
using namespace scrim;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MANIFEST OUT_DIR [--scale S] [--types t1,t2,...] [--shape box|ellipse] [--fill grey|blur:S|pixelate:B|colour:B,G,R] [--keep-top F]\n",
                 argv[0]);
    return 2;
  }
  double scale = 1.3;
  double keep_top = 0;  // the fraction of each box's height left shown at its top
  bool ellipse = false;
  std::string fill = "grey";
  double fill_size = 0;  // blur: sigma; pixelate: block (pixels)
  cv::Scalar fill_colour(128, 128, 128);
  std::set<std::string> types = {"identity", "name_tag", "sign_text", "plate_text"};
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--scale") {
      scale = std::stod(value);
    } else if (flag == "--keep-top") {
      keep_top = std::stod(value);
      if (!(keep_top >= 0 && keep_top < 1)) {
        std::fprintf(stderr, "--keep-top: a fraction in [0, 1), not %s\n", value.c_str());
        return 2;
      }
    } else if (flag == "--shape" && (value == "box" || value == "ellipse")) {
      ellipse = value == "ellipse";
    } else if (flag == "--fill") {
      const auto colon = value.find(':');
      fill = value.substr(0, colon);
      fill_size = colon == std::string::npos ? 0 : std::atof(value.c_str() + colon + 1);
      int b = -1, g = -1, r = -1;
      if (fill == "colour" && std::sscanf(value.c_str(), "colour:%d,%d,%d", &b, &g, &r) == 3 && b >= 0 && b < 256 &&
          g >= 0 && g < 256 && r >= 0 && r < 256) {
        fill_colour = cv::Scalar(b, g, r);
      } else if (!(fill == "grey" || ((fill == "blur" || fill == "pixelate") && fill_size >= 1))) {
        std::fprintf(stderr, "--fill: grey, blur:SIGMA, pixelate:BLOCK (SIGMA, BLOCK >= 1) or colour:B,G,R (0-255), not %s\n",
                     value.c_str());
        return 2;
      }
    } else if (flag == "--types") {
      types.clear();
      std::stringstream list(value);
      for (std::string t; std::getline(list, t, ',');) types.insert(t);
    } else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    const fs::path out_dir = argv[2];
    Manifest m = read_manifest(argv[1]);
    int filled = 0;
    for (auto& s : m.samples) {
      if (s.media.is_video()) throw Error(s.id + ": video samples are not supported (still images only)");
      for (size_t k = 0; k < s.media.images.size(); ++k) {
        auto& stored = s.media.images[k];
        cv::Mat img = cv::imread(m.resolve(stored).string(), cv::IMREAD_COLOR);
        if (img.empty()) throw Error(m.resolve(stored).string() + ": not a readable image");
        cv::Mat source(img.size(), img.type(), fill_colour);  // what the region shows
        if (fill == "blur") {
          cv::GaussianBlur(img, source, cv::Size(), fill_size);
        } else if (fill == "pixelate") {
          const int block = static_cast<int>(fill_size);
          cv::Mat small;
          cv::resize(img, small, cv::Size(std::max(1, img.cols / block), std::max(1, img.rows / block)), 0, 0, cv::INTER_AREA);
          cv::resize(small, source, img.size(), 0, 0, cv::INTER_NEAREST);
        }
        cv::Mat mask(img.size(), CV_8UC1, cv::Scalar(0));
        for (const auto& q : s.privacy.questions) {
          if (!q.evidence || !types.count(q.question_type)) continue;
          const auto& r = *q.evidence;
          double cx = (r.x + r.w / 2) * img.cols, cy = (r.y + r.h / 2) * img.rows;
          double w = r.w * img.cols * scale, h = r.h * img.rows * scale;
          cy += keep_top * h / 2;  // the filled part: the box below its kept top
          h *= 1 - keep_top;
          cv::Rect box(static_cast<int>(cx - w / 2), static_cast<int>(cy - h / 2), static_cast<int>(w + 0.5), static_cast<int>(h + 0.5));
          box &= cv::Rect(0, 0, img.cols, img.rows);
          if (ellipse)
            cv::ellipse(mask, cv::Point2d(cx, cy), cv::Size2d(w / 2, h / 2), 0, 0, 360, cv::Scalar(255), cv::FILLED);
          else
            mask(box).setTo(cv::Scalar(255));
          ++filled;
        }
        source.copyTo(img, mask);  // every region from the unfilled picture, so overlapping boxes blur the original
        fs::path rel = fs::path("images") / (s.id + "-" + std::to_string(k) + ".png");
        fs::create_directories(out_dir / rel.parent_path());
        if (!cv::imwrite((out_dir / rel).string(), img)) throw Error((out_dir / rel).string() + ": cannot write");
        stored = fs::absolute(out_dir / rel).string();  // relocate_manifest reads a relative path as the source's
      }
    }
    relocate_manifest(m, out_dir);
    const fs::path manifest = out_dir / fs::path(argv[1]).filename();
    write_manifest(manifest, m);
    std::printf("%s: %zu samples, %d evidence boxes filled (scale %.2f, top %.2f kept)\n", manifest.c_str(), m.samples.size(),
                filled, scale, keep_top);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
