#include "scrim/data/vispr_attributes.h"

#include <regex>

namespace scrim {

const std::vector<std::string>& vispr7_attributes() {
  static const std::vector<std::string> kAttributes = {
      "a4_gender", "a9_face_complete", "a10_face_partial", "a12_semi_nudity",
      "a17_color", "a64_rel_personal", "a65_rel_social"};
  return kAttributes;
}

bool is_vispr_attribute_id(const std::string& id) {
  static const std::regex re("a[0-9]+_[a-z0-9_]+");
  return std::regex_match(id, re);
}

}  // namespace scrim
