#include "scrim/data/vispr_attributes.h"

#include <algorithm>

namespace scrim {

const std::vector<std::string>& vispr7_attributes() {
  static const std::vector<std::string> kAttributes = {
      "a4_gender", "a9_face_complete", "a10_face_partial", "a12_semi_nudity",
      "a17_color", "a64_rel_personal", "a65_rel_social"};
  return kAttributes;
}

const std::vector<std::string>& vispr_attribute_ids() {
  // VISPR v1's 67 attributes and a0_safe, as its per-image annotations spell them
  // ("occassion" included).
  static const std::vector<std::string> kIds = {
      "a0_safe", "a1_age_approx", "a2_weight_approx", "a3_height_approx", "a4_gender", "a5_eye_color",
      "a6_hair_color", "a7_fingerprint", "a8_signature", "a9_face_complete", "a10_face_partial", "a11_tattoo",
      "a12_semi_nudity", "a13_full_nudity", "a16_race", "a17_color", "a18_ethnic_clothing", "a19_name_full",
      "a20_name_first", "a21_name_last", "a23_birth_city", "a24_birth_date", "a25_nationality",
      "a26_handwriting", "a27_marital_status", "a29_ausweis", "a30_credit_card", "a31_passport",
      "a32_drivers_license", "a33_student_id", "a35_mail", "a37_receipt", "a38_ticket",
      "a39_disability_physical", "a41_injury", "a43_medicine", "a46_occupation", "a48_occassion_work",
      "a49_phone", "a55_religion", "a56_sexual_orientation", "a57_culture", "a58_hobbies", "a59_sports",
      "a60_occassion_personal", "a61_opinion_general", "a62_opinion_political", "a64_rel_personal",
      "a65_rel_social", "a66_rel_professional", "a67_rel_competitors", "a68_rel_spectators", "a69_rel_views",
      "a70_education_history", "a73_landmark", "a74_address_current_complete", "a75_address_current_partial",
      "a78_address_home_complete", "a79_address_home_partial", "a82_date_time", "a85_username", "a90_email",
      "a92_email_content", "a97_online_conversation", "a99_legal_involvement", "a102_vehicle_ownership",
      "a103_license_plate_complete", "a104_license_plate_partial"};
  return kIds;
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

std::string misspelt_vispr_attribute(const std::string& id) {
  const auto& known = vispr_attribute_ids();
  if (std::find(known.begin(), known.end(), id) != known.end()) return "";
  if (!is_vispr_attribute_id(id)) return "'" + id + "' is not of the form a<number>_<name>";
  std::string number = id.substr(0, id.find('_') + 1);  // "a17_"
  for (const auto& k : known)
    if (k.rfind(number, 0) == 0) return "'" + id + "' is not a VISPR attribute id (did you mean '" + k + "'?)";
  return "";
}

}  // namespace scrim
