#include "scrim/eval/metrics.h"

#include <gtest/gtest.h>

namespace scrim {

TEST(AveragePrecision, MatchesScikitLearn) {
  // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.8333...
  EXPECT_NEAR(*average_precision({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 5.0 / 6.0, 1e-12);
  // Ties form one threshold: 0.9 -> P=1, R=0.5; {0.8, 0.8} -> P=2/3, R=1.
  EXPECT_NEAR(*average_precision({0.9, 0.8, 0.8, 0.1}, {1, 0, 1, 0}), 0.5 + 0.5 * 2.0 / 3.0, 1e-12);
  // All scores tied: AP is the positive rate.
  EXPECT_NEAR(*average_precision({0.5, 0.5, 0.5, 0.5}, {1, 0, 1, 0}), 0.5, 1e-12);
  EXPECT_NEAR(*average_precision({0.9, 0.1}, {1, 0}), 1.0, 1e-12);
  EXPECT_FALSE(average_precision({0.3, 0.2}, {0, 0}).has_value());
}

TEST(Cmap, SkipsAttributesWithoutPositives) {
  auto r = class_mean_average_precision({{"a", {0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}},
                                         {"b", {0.9, 0.1}, {1, 0}},
                                         {"none", {0.3, 0.2}, {0, 0}}});
  EXPECT_NEAR(r.cmap, (5.0 / 6.0 + 1.0) / 2, 1e-12);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0], "none");
  // F1 at 0.5: a -> predictions 0,0,0,1: tp 1, fn 1 -> 2/3; b -> 1.
  EXPECT_NEAR(r.mean_f1, (2.0 / 3.0 + 1.0) / 2, 1e-12);
}

TEST(F1AndTop1, HandComputed) {
  EXPECT_NEAR(f1_at({0.9, 0.2, 0.6, 0.4}, {1, 1, 0, 0}), 0.5, 1e-12);
  EXPECT_EQ(f1_at({0.1}, {0}), 0.0);
  EXPECT_NEAR(top1_accuracy({1, 2, 3, 4}, {1, 2, 0, 0}), 0.5, 1e-12);
}

TEST(PrivacyFloor, UninformativeCmapIsTheMeanPrevalence) {
  // a: 1 positive in 4 -> 0.25; b: 2 in 3 -> 2/3; "none" has no positive and is left out, as cMAP leaves it out.
  // The scores are ignored: the floor is what a constant scorer would get.
  std::vector<AttributeScores> attrs = {{"a", {0.9, 0.8, 0.7, 0.6}, {1, 0, 0, 0}},
                                        {"b", {0.1, 0.2, 0.3}, {1, 1, 0}},
                                        {"none", {0.3, 0.2}, {0, 0}}};
  EXPECT_NEAR(uninformative_cmap(attrs), (0.25 + 2.0 / 3.0) / 2, 1e-12);
  EXPECT_EQ(uninformative_cmap({{"none", {0.3}, {0}}}), 0.0);
  // Identity: the most frequent known class's share.
  EXPECT_NEAR(majority_class_rate({3, 1, 3, -1, 2, 3}), 3.0 / 5.0, 1e-12);
  EXPECT_EQ(majority_class_rate({-1, -1}), 0.0);
}

TEST(PrivacyFloor, LeakageIsZeroAtTheFloorAndOneAtRaw) {
  EXPECT_NEAR(*leakage(0.96, 0.66, 0.96), 1.0, 1e-12);
  EXPECT_NEAR(*leakage(0.66, 0.66, 0.96), 0.0, 1e-12);
  EXPECT_NEAR(*leakage(0.885, 0.66, 0.96), 0.75, 1e-12);
  EXPECT_FALSE(leakage(0.7, 0.66, 0.66).has_value());  // raw at the floor: no scale
  EXPECT_FALSE(leakage(0.7, 0.66, 0.60).has_value());
}

TEST(Pareto, FrontAndHypervolume) {
  std::vector<ParetoPoint> pts = {{0.9, 0.1, "a"}, {0.5, 0.5, "b"}, {0.4, 0.4, "dominated"}, {0.1, 0.9, "c"}};
  EXPECT_TRUE(dominates(pts[1], pts[2]));
  EXPECT_FALSE(dominates(pts[0], pts[1]));
  auto front = pareto_front(pts);
  ASSERT_EQ(front.size(), 3u);
  EXPECT_EQ(front[0].name, "c");
  EXPECT_EQ(front[2].name, "a");
  // 0.1*0.9 + (0.5-0.1)*0.5 + (0.9-0.5)*0.1
  EXPECT_NEAR(hypervolume(pts, {0, 0, "ref"}), 0.33, 1e-12);
  EXPECT_NEAR(hypervolume({{0.5, 0.5, "x"}}, {0.2, 0.1, "ref"}), 0.3 * 0.4, 1e-12);
  EXPECT_EQ(hypervolume({{0.1, 0.9, "x"}}, {0.2, 0.0, "ref"}), 0.0);
}

}  // namespace scrim
