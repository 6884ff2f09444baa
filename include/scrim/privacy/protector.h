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

class Protector {
 public:
  virtual ~Protector() = default;
  // 8-bit BGR in, 8-bit BGR of the same size out. Not thread-safe: one per thread.
  virtual cv::Mat protect(const cv::Mat& bgr) = 0;
  // Called before the first frame of a video: clears frame memory and the previous frame.
  virtual void begin_video() {}
  // The normalised spec, with every parameter spelled out.
  virtual std::string spec() const = 0;
};

// A parsed spec: "name:positional,key=value,...".
struct ProtectorSpec {
  std::string name;
  std::string positional;                     // e.g. "faces+plates" for regions, a path for anonymizer
  std::map<std::string, std::string> params;  // key -> value
  static ProtectorSpec parse(const std::string& text);
  double number(const std::string& key, double fallback) const;
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
