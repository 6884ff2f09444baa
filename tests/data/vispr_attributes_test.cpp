#include "scrim/data/vispr_attributes.h"

#include <string>

#include <gtest/gtest.h>

namespace scrim {

TEST(VisprAttributes, IdsAreANumberedNameParsedWithoutRecursion) {
  for (const char* ok : {"a4_gender", "a9_face_complete", "a64_rel_personal", "a1_x"})
    EXPECT_TRUE(is_vispr_attribute_id(ok)) << ok;
  for (const char* bad : {"", "a", "a4", "a4_", "a_gender", "b4_gender", "a4-gender", "a4_Gender", "a4_gen der", " a4_gender"})
    EXPECT_FALSE(is_vispr_attribute_id(bad)) << bad;
  // std::regex_match recursed once per character and overflowed the stack on this.
  EXPECT_TRUE(is_vispr_attribute_id("a1_" + std::string(200000, 'z')));
  EXPECT_FALSE(is_vispr_attribute_id("a1_" + std::string(200000, 'z') + "!"));
}

}  // namespace scrim
