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
      : sigma_(s.number("sigma", 2, 0.1, 112)), levels_(s.integer("levels", 6, 2, 64)), difference_(s.integer("difference", 1, 0, 1) != 0),
        model_(s.text("model", "")) {
    if (!model_.empty()) {
      if (s.params.count("sigma") || s.params.count("levels")) throw UsageError("bdq: model= sets sigma and levels; give one or the other");
      auto learned = method::read_bdq_parameters(model_);
      sigma_ = learned.sigma;
      levels_ = learned.levels();
      boundaries_ = learned.boundaries;
      if (!std::isfinite(sigma_) || sigma_ <= 0 || levels_ < 2) throw Error(model_ + ": the learned BDQ blur or bins are out of range");
    }
    if (boundaries_.empty())
      for (int i = 0; i + 1 < levels_; ++i) boundaries_.push_back((i + 0.5) / (levels_ - 1));  // uniform bins
  }

  // Blurred, in [0, 1] floats.
  cv::Mat blurred(const cv::Mat& bgr) const {
    cv::Mat out;
    cv::GaussianBlur(bgr, out, cv::Size(0, 0), scaled(sigma_, bgr), 0, cv::BORDER_REFLECT);
    out.convertTo(out, CV_32FC3, 1.0 / 255.0);
    return out;
  }

  // The number of bin boundaries below each value, back to [0, 255].
  cv::Mat quantised(const cv::Mat& signal) const {
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

  cv::Mat protect(const cv::Mat& bgr) const override { return quantised(blurred(bgr)); }
  std::unique_ptr<VideoSession> video_session() const override;

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
};

// On video BDQ quantises the difference with the previous blurred frame.
class BdqVideoSession : public VideoSession {
 public:
  explicit BdqVideoSession(const BdqProtector& bdq) : bdq_(bdq) {}
  cv::Mat protect(const cv::Mat& bgr) override {
    cv::Mat now = bdq_.blurred(bgr);
    cv::Mat signal = now;
    if (!previous_.empty() && previous_.size() == now.size()) signal = (now - previous_) * 0.5 + 0.5;  // centre at mid-grey
    previous_ = now;
    return bdq_.quantised(signal);
  }

 private:
  const BdqProtector& bdq_;
  cv::Mat previous_;
};

std::unique_ptr<VideoSession> BdqProtector::video_session() const {
  if (!difference_) return Protector::video_session();
  return std::make_unique<BdqVideoSession>(*this);
}

}  // namespace

std::unique_ptr<Protector> make_bdq(const ProtectorSpec& s) { return std::make_unique<BdqProtector>(s); }

}  // namespace scrim::protectors
