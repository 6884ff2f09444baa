// VISPR privacy attribute ids (Orekondy et al., "Towards a Visual Privacy
// Advisor", ICCV 2017) and the 7-attribute subset used by Wu et al. (TPAMI 2020)
// and SPAct (CVPR 2022) for the privacy-utility trade-off.
#pragma once

#include <string>
#include <vector>

namespace scrim {

// a4_gender, a9_face_complete, a10_face_partial, a12_semi_nudity, a17_color,
// a64_rel_personal, a65_rel_social.
const std::vector<std::string>& vispr7_attributes();

// The 68 ids VISPR's annotations use (a0_safe and the 67 attributes).
const std::vector<std::string>& vispr_attribute_ids();

// True for ids of the form a<number>_<name> (e.g. "a17_color").
bool is_vispr_attribute_id(const std::string& id);

// Why `id` is a damaged label, or "" when it is fine: not of the form
// a<number>_<name>, or a known number with another name ("a17_colour"). An id
// with a number VISPR v1 does not use (a later version's) is not called damaged.
std::string misspelt_vispr_attribute(const std::string& id);

}  // namespace scrim
