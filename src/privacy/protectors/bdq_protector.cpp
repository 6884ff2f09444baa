#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "privacy/protectors/protectors.h"
#include "scrim/core/error.h"

namespace scrim::protectors {
namespace {

// BDQ (Kumawat & Nagahara, "Privacy-Preserving Action Recognition via
// Motion Difference Quantization", CVPR 2022): Gaussian blur, then the
// difference with the previous frame (video only), then quantisation to a
// few levels. The paper learns the blur and the bins with the task model; here
// the bins are uniform and the parameters are set by the spec.
class BdqProtector : public Protector {
 public:
  explicit BdqProtector(const ProtectorSpec& s)
      : sigma_(s.number("sigma", 2)), levels_(static_cast<int>(s.number("levels", 6))), difference_(s.number("difference", 1) != 0) {
    if (sigma_ <= 0 || levels_ < 2) throw UsageError("bdq: sigma must be positive and levels at least 2");
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
    cv::Mat out;
    signal.convertTo(out, CV_32FC3, levels_ - 1);
    // Round to the nearest bin, then back to [0, 255].
    out.forEach<cv::Vec3f>([](cv::Vec3f& p, const int*) {
      for (int c = 0; c < 3; ++c) p[c] = std::round(std::clamp(p[c], 0.f, 1e6f));
    });
    out.convertTo(out, CV_8UC3, 255.0 / (levels_ - 1));
    return out;
  }
  void begin_video() override {
    in_video_ = true;
    previous_.release();
  }
  std::string spec() const override {
    char buf[96];
    std::snprintf(buf, sizeof buf, "bdq:sigma=%g,levels=%d,difference=%d", sigma_, levels_, difference_ ? 1 : 0);
    return buf;
  }

 private:
  double sigma_;
  int levels_;
  bool difference_;
  bool in_video_ = false;
  cv::Mat previous_;
};

}  // namespace

std::unique_ptr<Protector> make_bdq(const ProtectorSpec& s) { return std::make_unique<BdqProtector>(s); }

}  // namespace scrim::protectors
