#include "scrim/media/protector.h"

namespace scrim {
namespace {

// The default video session, for protectors without frame-to-frame memory: each frame alone.
class FrameByFrame : public VideoSession {
 public:
  explicit FrameByFrame(const Protector& protector) : protector_(protector) {}
  cv::Mat protect(const cv::Mat& bgr) override { return protector_.protect(bgr); }

 private:
  const Protector& protector_;
};

}  // namespace

std::unique_ptr<VideoSession> Protector::video_session() const { return std::make_unique<FrameByFrame>(*this); }

}  // namespace scrim
