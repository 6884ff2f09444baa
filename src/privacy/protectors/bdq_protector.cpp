#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "method/bdq_parameters.h"
#include "privacy/protectors/protectors.h"
#include "scrim/core/error.h"

namespace scrim::protectors {
namespace {

// BDQ (Kumawat & Nagahara, "Privacy-Preserving Action Recognition via
// Motion Difference Quantization", CVPR 2022): Gaussian blur, then the
// difference with the previous frame (video only), then quantisation to a
// few levels. The paper learns the blur and the bins with the task model:
// `bdq:model=PATH` takes both from an encoder trained by `scrim train
// --anonymizer bdq` (against the black-box MLLM and the privacy attackers);
// without a model the bins are uniform and the spec sets the parameters.
class BdqProtector : public Protector {
 public:
  explicit BdqProtector(const ProtectorSpec& s)
      : sigma_(s.number("sigma", 2)), levels_(static_cast<int>(s.number("levels", 6))), difference_(s.number("difference", 1) != 0),
        model_(s.text("model", "")) {
    if (!model_.empty()) {
      if (s.params.count("sigma") || s.params.count("levels")) throw UsageError("bdq: model= sets sigma and levels; give one or the other");
      auto learned = method::read_bdq_parameters(model_);
      sigma_ = learned.sigma;
      levels_ = learned.levels();
      boundaries_ = learned.boundaries;
    }
    if (sigma_ <= 0 || levels_ < 2) throw UsageError("bdq: sigma must be positive and levels at least 2");
    if (boundaries_.empty())
      for (int i = 0; i + 1 < levels_; ++i) boundaries_.push_back((i + 0.5) / (levels_ - 1));  // uniform bins
  }
  cv::Mat protect(const cv::Mat& bgr) override {
    cv::Mat blurred;
    cv::GaussianBlur(bgr, blurred, cv::Size(0, 0), scaled(sigma_, bgr), 0, cv::BORDER_REFLECT);
    blurred.convertTo(blurred, CV_32FC3, 1.0 / 255.0);
    cv::Mat signal = blurred;
    if (difference_ && in_video_) {
      if (!previous_.empty() && previous_.size() == blurred.size()) signal = (blurred - previous_) * 0.5 + 0.5;  // centre at mid-grey
      previous_ = blurred.clone();
    }
    // The number of bin boundaries below each value, back to [0, 255].
    cv::Mat out(signal.size(), CV_8UC3);
    const auto& b = boundaries_;
    const double scale = 255.0 / (levels_ - 1);
    signal.forEach<cv::Vec3f>([&](const cv::Vec3f& p, const int* pos) {
      auto& o = out.at<cv::Vec3b>(pos[0], pos[1]);
      for (int c = 0; c < 3; ++c)
        o[c] = cv::saturate_cast<uchar>(scale * static_cast<double>(std::upper_bound(b.begin(), b.end(), static_cast<double>(p[c])) - b.begin()));
    });
    return out;
  }
  void begin_video() override {
    in_video_ = true;
    previous_.release();
  }
  std::string spec() const override {
    char buf[96];
    if (!model_.empty()) {
      std::snprintf(buf, sizeof buf, ",difference=%d", difference_ ? 1 : 0);
      return "bdq:model=" + model_ + buf;
    }
    std::snprintf(buf, sizeof buf, "bdq:sigma=%g,levels=%d,difference=%d", sigma_, levels_, difference_ ? 1 : 0);
    return buf;
  }

 private:
  double sigma_;
  int levels_;
  bool difference_;
  std::string model_;
  std::vector<double> boundaries_;  // sorted, in [0, 1]
  bool in_video_ = false;
  cv::Mat previous_;
};

}  // namespace

std::unique_ptr<Protector> make_bdq(const ProtectorSpec& s) { return std::make_unique<BdqProtector>(s); }

}  // namespace scrim::protectors
