#include "scrim/privacy/detectors.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>

#include "scrim/core/error.h"

namespace fs = std::filesystem;

namespace scrim {

static std::vector<fs::path> model_dirs() {
  if (const char* env = std::getenv("SCRIM_MODELS_DIR"); env && *env) return {fs::path(env)};
  std::error_code ec;
  fs::path bin = fs::read_symlink("/proc/self/exe", ec).parent_path();
  // Installed: P/bin/scrim and P/share/scrim/models. Build tree: build/scrim and
  // build/tests/scrim_tests, with the models copied to build/share/scrim/models.
  return {(bin / "../share/scrim/models").lexically_normal(), (bin / "share/scrim/models").lexically_normal()};
}

fs::path find_model_file(const std::string& name) {
  std::error_code ec;
  for (const auto& dir : model_dirs())
    if (fs::is_regular_file(dir / name, ec)) return dir / name;
  std::string looked;
  for (const auto& dir : model_dirs()) looked += (looked.empty() ? "" : ", ") + (dir / name).string();
  throw Error("model " + name + " not found (looked for " + looked + "; install scrim with `cmake --install` or set SCRIM_MODELS_DIR)");
}

double iou(const cv::Rect& a, const cv::Rect& b) {
  double inter = (a & b).area();
  double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

int matched_boxes(const std::vector<cv::Rect>& truth, const std::vector<cv::Rect>& found, double threshold) {
  std::vector<bool> used(found.size(), false);
  int matched = 0;
  for (const auto& t : truth) {
    int best = -1;
    double best_iou = threshold;
    for (size_t j = 0; j < found.size(); ++j) {
      if (used[j]) continue;
      double v = iou(t, found[j]);
      if (v >= best_iou) best_iou = v, best = static_cast<int>(j);
    }
    if (best >= 0) used[best] = true, ++matched;
  }
  return matched;
}

double character_recall(const std::string& truth, const std::string& recognised) {
  auto clean = [](const std::string& s) {
    std::string out;
    for (unsigned char c : s)
      if (!std::isspace(c)) out += static_cast<char>(std::tolower(c));
    return out;
  };
  std::string a = clean(truth), b = clean(recognised);
  if (a.empty()) return 0.0;
  std::vector<int> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return static_cast<double>(prev[b.size()]) / a.size();
}

namespace {

class YuNetDetector : public RegionDetector {
 public:
  YuNetDetector(const fs::path& model, double min_score) {
    try {
      detector_ = cv::FaceDetectorYN::create(model.string(), "", cv::Size(320, 320), static_cast<float>(min_score), 0.3f);
    } catch (const cv::Exception& e) {
      throw Error(model.string() + ": cannot load the YuNet face detector: " + one_line(e.msg));
    }
    if (!detector_) throw Error(model.string() + ": cannot load the YuNet face detector");
  }
  std::vector<Detection> detect(const cv::Mat& bgr) override {
    // YuNet's coarsest feature map is 1/32 of the input: pad small images
    // (bottom and right, so boxes keep their coordinates) to at least 64x64.
    cv::Mat input = bgr;
    if (bgr.cols < 64 || bgr.rows < 64)
      cv::copyMakeBorder(bgr, input, 0, std::max(0, 64 - bgr.rows), 0, std::max(0, 64 - bgr.cols), cv::BORDER_CONSTANT, cv::Scalar::all(0));
    std::lock_guard lock(mutex_);  // one network instance; its input size changes per image
    detector_->setInputSize(input.size());
    cv::Mat faces;
    try {
      detector_->detect(input, faces);
    } catch (const cv::Exception& e) {
      throw Error("YuNet face detector failed on a " + std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) + " image: " + one_line(e.msg));
    }
    std::vector<Detection> out;
    for (int i = 0; i < faces.rows; ++i) {
      cv::Rect box(cvRound(faces.at<float>(i, 0)), cvRound(faces.at<float>(i, 1)), cvRound(faces.at<float>(i, 2)),
                   cvRound(faces.at<float>(i, 3)));
      out.push_back({box & cv::Rect(0, 0, bgr.cols, bgr.rows), faces.at<float>(i, 14), ""});
    }
    return out;
  }
  std::string name() const override { return "yunet"; }

 private:
  cv::Ptr<cv::FaceDetectorYN> detector_;
  std::mutex mutex_;
};

class CascadeDetector : public RegionDetector {
 public:
  CascadeDetector(const std::string& file, std::string name, int min_size) : name_(std::move(name)), min_size_(min_size) {
    std::string path = "/usr/share/opencv4/haarcascades/" + file;
    if (!cascade_.load(path)) throw Error(path + ": cannot load the cascade (is opencv-data installed?)");
  }
  std::vector<Detection> detect(const cv::Mat& bgr) override {
    cv::Mat grey;
    cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(grey, grey);
    std::vector<cv::Rect> boxes;
    std::lock_guard lock(mutex_);
    cascade_.detectMultiScale(grey, boxes, 1.1, 3, 0, cv::Size(min_size_, min_size_));
    std::vector<Detection> out;
    for (const auto& b : boxes) out.push_back({b, 1.0, ""});
    return out;
  }
  std::string name() const override { return name_; }

 private:
  cv::CascadeClassifier cascade_;
  std::string name_;
  int min_size_;
  std::mutex mutex_;
};

class DlibHogDetector : public RegionDetector {
 public:
  DlibHogDetector() : detector_(dlib::get_frontal_face_detector()) {}
  std::vector<Detection> detect(const cv::Mat& bgr) override {
    // dlib's HOG window is 80x80: small images are doubled first, as dlib's own examples do.
    double up = std::min(bgr.cols, bgr.rows) < 800 ? 2.0 : 1.0;
    cv::Mat src = bgr;
    if (up > 1) cv::resize(bgr, src, cv::Size(), up, up, cv::INTER_LINEAR);
    dlib::cv_image<dlib::bgr_pixel> img(src);
    std::vector<dlib::rectangle> faces;
    {
      std::lock_guard lock(mutex_);
      faces = detector_(img);
    }
    std::vector<Detection> out;
    for (const auto& f : faces) {
      cv::Rect box(static_cast<int>(f.left() / up), static_cast<int>(f.top() / up), static_cast<int>(f.width() / up),
                   static_cast<int>(f.height() / up));
      out.push_back({box & cv::Rect(0, 0, bgr.cols, bgr.rows), 1.0, ""});
    }
    return out;
  }
  std::string name() const override { return "dlib"; }

 private:
  dlib::frontal_face_detector detector_;
  std::mutex mutex_;
};

class TesseractWords : public RegionDetector {
 public:
  explicit TesseractWords(double min_conf) : min_conf_(min_conf) {
    setMsgSeverity(L_SEVERITY_NONE);  // Leptonica prints harmless clipping warnings to stderr
    if (api_.Init(nullptr, "eng", tesseract::OEM_LSTM_ONLY) != 0)
      throw Error("Tesseract: cannot load the English model (is tesseract-ocr-eng installed?)");
    api_.SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
    api_.SetVariable("debug_file", "/dev/null");  // no "Detected N diacritics" chatter
  }
  ~TesseractWords() override { api_.End(); }
  std::vector<Detection> detect(const cv::Mat& bgr) override {
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    std::lock_guard lock(mutex_);
    api_.SetImage(rgb.data, rgb.cols, rgb.rows, 3, static_cast<int>(rgb.step));
    api_.SetSourceResolution(150);
    std::vector<Detection> out;
    if (api_.Recognize(nullptr) != 0) return out;
    std::unique_ptr<tesseract::ResultIterator> it(api_.GetIterator());
    if (!it) return out;
    do {
      const char* word = it->GetUTF8Text(tesseract::RIL_WORD);
      if (!word) continue;
      std::string text(word);
      delete[] word;
      float conf = it->Confidence(tesseract::RIL_WORD);
      int x1, y1, x2, y2;
      if (conf < min_conf_ || !it->BoundingBox(tesseract::RIL_WORD, &x1, &y1, &x2, &y2)) continue;
      if (std::none_of(text.begin(), text.end(), [](unsigned char c) { return std::isalnum(c); })) continue;
      // Sparse-text mode sometimes returns a "word" spanning foliage or a whole car: no word is that big.
      // (Tight crops of a single word are small images, and keep their big boxes.)
      bool big_image = rgb.cols * rgb.rows > 40000;
      if (big_image && ((x2 - x1) * (y2 - y1) > rgb.cols * rgb.rows / 10 || (y2 - y1) > rgb.rows / 3)) continue;
      out.push_back({cv::Rect(x1, y1, x2 - x1, y2 - y1), conf / 100.0, text});
    } while (it->Next(tesseract::RIL_WORD));
    return out;
  }
  std::string name() const override { return "tesseract"; }

 private:
  tesseract::TessBaseAPI api_;
  double min_conf_;
  std::mutex mutex_;
};

}  // namespace

std::unique_ptr<RegionDetector> make_face_detector(const std::string& kind, double min_score) {
  if (kind == "yunet") {
    // No silent fallback to the far weaker Haar cascade: a missing model is an error.
    return std::make_unique<YuNetDetector>(find_model_file("face_detection_yunet_2022mar.onnx"), min_score);
  }
  if (kind == "haar") return std::make_unique<CascadeDetector>("haarcascade_frontalface_default.xml", "haar", 16);
  if (kind == "dlib") return std::make_unique<DlibHogDetector>();
  throw UsageError("unknown face detector '" + kind + "' (use yunet, haar or dlib)");
}

std::unique_ptr<RegionDetector> make_plate_detector() {
  return std::make_unique<CascadeDetector>("haarcascade_russian_plate_number.xml", "plates", 12);
}

std::unique_ptr<RegionDetector> make_text_detector(double min_confidence) {
  return std::make_unique<TesseractWords>(min_confidence);
}

}  // namespace scrim
