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

// True for ids of the form a<number>_<name> (e.g. "a17_color").
bool is_vispr_attribute_id(const std::string& id);

}  // namespace scrim
