// A protector maps an image (or a video frame) to a protected image of the
// same size. Everything that hides private content implements it: the
// baselines, the region hiders, the BDQ encoder and, later, the trained
// anonymizer. Selected by a spec string such as "blur:sigma=6".
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

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

// A parsed spec: "name:positional,key=value,...".
struct ProtectorSpec {
  std::string name;
  std::string positional;                     // e.g. "faces+plates" for regions, a path for anonymizer
  std::map<std::string, std::string> params;  // key -> value
  static ProtectorSpec parse(const std::string& text);
  // A finite number in [min, max] (the fallback when absent); anything else
  // (not a number, NaN, infinite, out of range) is a scrim::UsageError naming the parameter.
  double number(const std::string& key, double fallback, double min, double max) const;
  // The same for a whole number.
  int integer(const std::string& key, int fallback, int min, int max) const;
  std::string text(const std::string& key, const std::string& fallback) const;
};

struct ProtectorParam {
  std::string name, default_value, help;
};
struct ProtectorInfo {
  std::string name, example, help;
  std::vector<ProtectorParam> params;
};
// Every protector with its parameters and defaults (`scrim protect --list`).
const std::vector<ProtectorInfo>& protector_catalog();

// Builds a protector; throws scrim::UsageError naming the bad part of the spec.
std::unique_ptr<Protector> make_protector(const std::string& spec);

}  // namespace scrim
