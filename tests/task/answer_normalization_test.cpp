#include "scrim/task/answer_normalization.h"

#include <gtest/gtest.h>

namespace scrim {

TEST(VqaNormalization, OfficialRules) {
  EXPECT_EQ(normalize_vqa_answer("Two"), "2");
  EXPECT_EQ(normalize_vqa_answer("the Red ball."), "red ball");
  EXPECT_EQ(normalize_vqa_answer("dont"), "don't");
  EXPECT_EQ(normalize_vqa_answer("yes!"), "yes");
  EXPECT_EQ(normalize_vqa_answer("1,000"), "1000");
  EXPECT_EQ(normalize_vqa_answer("3.5"), "3.5");
  EXPECT_EQ(normalize_vqa_answer("t-shirt"), "t shirt");
  EXPECT_EQ(normalize_vqa_answer("an apple"), "apple");
}

TEST(VqaAccuracy, HandComputedCases) {
  std::vector<std::string> ten(10, "red");
  EXPECT_DOUBLE_EQ(vqa_accuracy("red", ten), 1.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("blue", ten), 0.0);
  // 2 of 10 humans said "blue": leaving out one of those two leaves 1 match (1/3),
  // leaving out any of the other 8 leaves 2 matches (2/3): (2*1/3 + 8*2/3) / 10 = 0.6.
  std::vector<std::string> two = {"blue", "blue", "red", "red", "red", "red", "red", "red", "red", "red"};
  EXPECT_NEAR(vqa_accuracy("blue", two), 0.6, 1e-12);
  // 3 of 10: 3 subsets with 2 matches (2/3), 7 subsets with 3 (1): (3*2/3 + 7) / 10 = 0.9.
  std::vector<std::string> three = {"x", "x", "x", "y", "y", "y", "y", "y", "y", "y"};
  EXPECT_NEAR(vqa_accuracy("X.", three), 0.9, 1e-12);
  // 4 or more matches always give 1.
  std::vector<std::string> four = {"two", "2", "2", "2", "a", "b", "c", "d", "e", "f"};
  EXPECT_DOUBLE_EQ(vqa_accuracy("2", four), 1.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("2", {}), 0.0);
}

TEST(MajorityAnswer, NormalisedVotes) {
  EXPECT_EQ(majority_answer({"Two", "2", "three"}), "2");
}

TEST(CrudeStem, MatchesInflections) {
  EXPECT_EQ(crude_stem("waving"), crude_stem("wave"));
  EXPECT_EQ(crude_stem("waves"), crude_stem("waving"));
  EXPECT_EQ(crude_stem("running"), crude_stem("run"));
  EXPECT_EQ(crude_stem("sitting"), crude_stem("sits"));
  EXPECT_NE(crude_stem("walking"), crude_stem("waving"));
}

}  // namespace scrim
