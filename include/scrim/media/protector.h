// A protector maps an image (or a video frame) to a protected image of the
// same size. Everything that hides private content implements it: the
// baselines, the region hiders, the BDQ encoder and the trained anonymizer
// (built from spec strings by scrim/privacy/protector.h). The interface sits in
// media, below the method, because the trainer reproduces a protector's output.
#pragma once

#include <memory>
#include <string>

#include <opencv2/core/mat.hpp>

namespace scrim {

// The frames of one video, protected in order. It holds what a protector
// carries from frame to frame (the region hider's box memory, BDQ's previous
// frame), so that no image ever depends on another outside its own video.
class VideoSession {
 public:
  virtual ~VideoSession() = default;
  virtual cv::Mat protect(const cv::Mat& bgr) = 0;
};

class Protector {
 public:
  virtual ~Protector() = default;
  // 8-bit BGR in, 8-bit BGR of the same size out. The result depends on this
  // image alone (const: a protector keeps no memory of earlier images), so one
  // protector may serve a folder or a proxy's clients in turn. Not thread-safe: one per thread.
  virtual cv::Mat protect(const cv::Mat& bgr) const = 0;
  // A session for the frames of one video; the protector must outlive it.
  // By default each frame is protected alone.
  virtual std::unique_ptr<VideoSession> video_session() const;
  // The normalised spec, with every parameter spelled out.
  virtual std::string spec() const = 0;
};

}  // namespace scrim
