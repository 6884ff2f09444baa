#include "scrim/data/vispr_attributes.h"


namespace scrim {

const std::vector<std::string>& vispr7_attributes() {
  static const std::vector<std::string> kAttributes = {
      "a4_gender", "a9_face_complete", "a10_face_partial", "a12_semi_nudity",
      "a17_color", "a64_rel_personal", "a65_rel_social"};
  return kAttributes;
}

// "a<digits>_<lowercase letters, digits and '_'>", e.g. a4_gender. Parsed by
// hand: std::regex recurses once per character and overflows the stack on long input.
bool is_vispr_attribute_id(const std::string& id) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (id.empty() || id[0] != 'a') return false;
  size_t i = 1;
  while (i < id.size() && digit(id[i])) ++i;
  if (i == 1 || i >= id.size() || id[i] != '_') return false;
  if (++i == id.size()) return false;
  for (; i < id.size(); ++i)
    if (!digit(id[i]) && !(id[i] >= 'a' && id[i] <= 'z') && id[i] != '_') return false;
  return true;
}

}  // namespace scrim
