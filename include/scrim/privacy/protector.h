// The protectors by spec string, such as "blur:sigma=6": the catalog and the
// factory of every Protector (scrim/media/protector.h) — the baselines, the
// region hiders, the BDQ encoder and the trained anonymizer.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scrim/media/protector.h"

namespace scrim {

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
