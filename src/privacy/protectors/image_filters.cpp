// The whole-image baselines: raw, Gaussian blur, pixelation, down-sampling.
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "privacy/protectors/protectors.h"

namespace scrim::protectors {

double scaled(double at_112, const cv::Mat& image) { return at_112 * std::sqrt(static_cast<double>(image.cols) * image.rows) / 112.0; }

cv::Mat gaussian_blur(const cv::Mat& bgr, double sigma) {
  cv::Mat out;
  double factor = std::floor(sigma / 4.0);
  if (factor < 2 || std::min(bgr.cols, bgr.rows) / factor < 16) {
    cv::GaussianBlur(bgr, out, cv::Size(0, 0), sigma, 0, cv::BORDER_REFLECT);
    return out;
  }
  cv::Mat small, blurred;
  cv::resize(bgr, small, cv::Size(std::max(1, static_cast<int>(bgr.cols / factor)), std::max(1, static_cast<int>(bgr.rows / factor))), 0, 0,
             cv::INTER_AREA);
  // Area down-sampling by f already blurs with sigma of about f/2; the rest is done small.
  double rest = std::sqrt(std::max(0.25, sigma * sigma - 0.25 * factor * factor)) / factor;
  cv::GaussianBlur(small, blurred, cv::Size(0, 0), rest, 0, cv::BORDER_REFLECT);
  cv::resize(blurred, out, bgr.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

class Raw : public Protector {
 public:
  cv::Mat protect(const cv::Mat& bgr) const override { return bgr.clone(); }
  std::string spec() const override { return "raw"; }
};

// Parameter ranges: the lower ends are the weakest settings that still change
// an image (a protector that returns its input unchanged is refused); the
// upper ends are the 112-px reference side, beyond which nothing is left.
// Sizes are floored at the lower end in pixels too, so tiny images change.
class Blur : public Protector {
 public:
  static constexpr double kMinSigma = 0.5;
  explicit Blur(const ProtectorSpec& s) : sigma_(s.number("sigma", 6, kMinSigma, 112)) {}
  cv::Mat protect(const cv::Mat& bgr) const override { return gaussian_blur(bgr, std::max(kMinSigma, scaled(sigma_, bgr))); }
  std::string spec() const override { return "blur:sigma=" + fmt(sigma_); }

 private:
  double sigma_;
};

class Pixelate : public Protector {
 public:
  static constexpr double kMinBlock = 2;
  explicit Pixelate(const ProtectorSpec& s) : block_(s.number("block", 8, kMinBlock, 112)) {}
  cv::Mat protect(const cv::Mat& bgr) const override {
    double b = std::max(kMinBlock, scaled(block_, bgr));
    cv::Size small(std::max(1, static_cast<int>(std::round(bgr.cols / b))), std::max(1, static_cast<int>(std::round(bgr.rows / b))));
    cv::Mat tiny, out;
    cv::resize(bgr, tiny, small, 0, 0, cv::INTER_AREA);
    cv::resize(tiny, out, bgr.size(), 0, 0, cv::INTER_NEAREST);
    return out;
  }
  std::string spec() const override { return "pixelate:block=" + fmt(block_); }

 private:
  double block_;
};

class Downsample : public Protector {
 public:
  static constexpr double kMinFactor = 1.5;
  explicit Downsample(const ProtectorSpec& s) : factor_(s.number("factor", 4, kMinFactor, 112)) {}
  cv::Mat protect(const cv::Mat& bgr) const override {
    double f = std::max(kMinFactor, scaled(factor_, bgr));
    cv::Size small(std::max(1, static_cast<int>(bgr.cols / f)), std::max(1, static_cast<int>(bgr.rows / f)));
    cv::Mat tiny, out;
    cv::resize(bgr, tiny, small, 0, 0, cv::INTER_AREA);
    cv::resize(tiny, out, bgr.size(), 0, 0, cv::INTER_LINEAR);
    return out;
  }
  std::string spec() const override { return "downsample:factor=" + fmt(factor_); }

 private:
  double factor_;
};

}  // namespace

std::unique_ptr<Protector> make_raw() { return std::make_unique<Raw>(); }
std::unique_ptr<Protector> make_blur(const ProtectorSpec& s) { return std::make_unique<Blur>(s); }
std::unique_ptr<Protector> make_pixelate(const ProtectorSpec& s) { return std::make_unique<Pixelate>(s); }
std::unique_ptr<Protector> make_downsample(const ProtectorSpec& s) { return std::make_unique<Downsample>(s); }

}  // namespace scrim::protectors
