#include "scrim/eval/real_photos.h"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/media/image_io.h"
#include "scrim/privacy/detectors.h"
#include "scrim/privacy/protector.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim {
namespace {

struct Annotated {
  fs::path image;
  json truth;
};

// Images (PNG/JPEG) with a JSON of the same stem next to them.
std::vector<Annotated> annotated_in(const fs::path& dir, int limit) {
  std::vector<Annotated> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (!is_image_path(f)) continue;
    fs::path js = f;
    js.replace_extension(".json");
    if (!fs::exists(js)) continue;
    json t = json::parse(read_file_text(js), nullptr, false);
    if (t.is_discarded()) throw Error(js.string() + ": malformed JSON");
    out.push_back({f, t});
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
  }
  return out;
}

std::vector<cv::Rect> boxes_of(const json& truth) {
  std::vector<cv::Rect> out;
  for (const auto& b : truth.value("faces", json::array()))
    if (b.is_array() && b.size() == 4) out.emplace_back(b[0].get<int>(), b[1].get<int>(), b[2].get<int>(), b[3].get<int>());
  return out;
}

std::vector<cv::Rect> people(cv::HOGDescriptor& hog, const cv::Mat& img) {
  std::vector<cv::Rect> found;
  std::vector<double> weights;
  hog.detectMultiScale(img, found, weights, 0, cv::Size(8, 8), cv::Size(), 1.05, 2.0);
  return found;
}

}  // namespace

json run_real_evaluation(const RealEvalOptions& o, const std::function<void(const std::string&)>& progress) {
  std::error_code ec;
  if (!fs::is_directory(o.realdata / "faces", ec))
    throw Error(o.realdata.string() + ": no faces/ folder (point --realdata at ../shared/realdata)");
  std::vector<Annotated> faces, texts;
  for (const char* d : {"faces/dlib_pascal", "faces/facemask_kaggle"})
    for (auto& a : annotated_in(o.realdata / d, o.limit)) faces.push_back(std::move(a));
  for (const char* d : {"text/scene_words", "text/plates", "text/icdar2015"})
    for (auto& a : annotated_in(o.realdata / d, o.limit)) texts.push_back(std::move(a));
  const std::vector<std::string> detector_names = {"yunet", "haar", "dlib"};
  std::vector<std::unique_ptr<RegionDetector>> detectors;
  for (const auto& n : detector_names) detectors.push_back(make_face_detector(n));
  auto ocr = make_text_detector(0.0);
  cv::HOGDescriptor hog;
  hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());

  // Raw decodes and raw people detections, shared by every protector.
  std::vector<cv::Mat> face_raw, text_raw;
  std::vector<std::vector<cv::Rect>> raw_people;
  for (const auto& a : faces) {
    face_raw.push_back(read_image(a.image));
    raw_people.push_back(people(hog, face_raw.back()));
  }
  for (const auto& a : texts) text_raw.push_back(read_image(a.image));

  json results = {{"realdata", o.realdata.string()}, {"face_images", faces.size()}, {"text_images", texts.size()}, {"protectors", json::array()}};
  for (const auto& spec : o.protectors) {
    auto protector = make_protector(spec);
    if (progress) progress(protector->spec());
    int total_faces = 0;
    std::vector<int> found(detectors.size(), 0);
    int people_total = 0, people_kept = 0;
    for (size_t i = 0; i < faces.size(); ++i) {
      cv::Mat img = protector->protect(face_raw[i]);
      auto truth = boxes_of(faces[i].truth);
      total_faces += static_cast<int>(truth.size());
      for (size_t d = 0; d < detectors.size(); ++d) {
        std::vector<cv::Rect> boxes;
        for (const auto& det : detectors[d]->detect(img)) boxes.push_back(det.box);
        found[d] += matched_boxes(truth, boxes, 0.5);
      }
      people_total += static_cast<int>(raw_people[i].size());
      people_kept += matched_boxes(raw_people[i], people(hog, img), 0.5);
    }
    double ocr_sum = 0;
    int ocr_n = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      std::string truth = texts[i].truth.value("text", "");
      if (truth.empty() || truth == "###") continue;
      cv::Mat img = protector->protect(text_raw[i]);
      std::string read;
      for (const auto& d : ocr->detect(img)) read += d.text + " ";
      ocr_sum += character_recall(truth, read);
      ++ocr_n;
    }
    json per = json::object();
    for (size_t d = 0; d < detectors.size(); ++d) per[detector_names[d]] = total_faces ? static_cast<double>(found[d]) / total_faces : 0.0;
    results["protectors"].push_back({{"protector", protector->spec()},
                                     {"faces", per},
                                     {"faces_total", total_faces},
                                     {"ocr_character_recall", ocr_n ? ocr_sum / ocr_n : 0.0},
                                     {"text_items", ocr_n},
                                     {"people_kept", people_total ? static_cast<double>(people_kept) / people_total : 0.0},
                                     {"people_total", people_total}});
  }
  return results;
}

std::string format_real_evaluation(const json& r) {
  std::string out = "protector                                  YuNet   Haar   dlib  | OCR chars | HOG people kept\n";
  char line[256];
  for (const auto& p : r["protectors"]) {
    std::snprintf(line, sizeof line, "  %-40s %5.3f  %5.3f  %5.3f |   %5.3f   |  %5.3f\n", p["protector"].get<std::string>().c_str(),
                  p["faces"]["yunet"].get<double>(), p["faces"]["haar"].get<double>(), p["faces"]["dlib"].get<double>(),
                  p["ocr_character_recall"].get<double>(), p["people_kept"].get<double>());
    out += line;
  }
  if (!r["protectors"].empty()) {
    const auto& f = r["protectors"][0];
    std::snprintf(line, sizeof line, "(face recall at IoU >= 0.5 over %d annotated faces; OCR over %d text items; %d people found by HOG in the raw photos)\n",
                  f["faces_total"].get<int>(), f["text_items"].get<int>(), f["people_total"].get<int>());
    out += line;
  }
  return out;
}

}  // namespace scrim
