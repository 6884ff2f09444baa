#include "optim/pareto_combiner.h"

#include <gtest/gtest.h>

namespace scrim::optim {

TEST(MgdaTwo, ClosedFormCases) {
  auto t = [](std::vector<double> v) { return torch::tensor(v, torch::kFloat64); };
  auto ortho = mgda_two(t({1, 0}), t({0, 1}));
  EXPECT_DOUBLE_EQ(ortho.alpha, 0.5);
  EXPECT_TRUE(torch::allclose(ortho.direction, t({0.5, 0.5})));
  auto same = mgda_two(t({2, 0}), t({1, 0}));  // the shorter gradient is the min-norm point
  EXPECT_DOUBLE_EQ(same.alpha, 0.0);
  auto opposite = mgda_two(t({1, 0}), t({-1, 0}));  // Pareto-stationary: no common descent
  EXPECT_DOUBLE_EQ(opposite.alpha, 0.5);
  EXPECT_NEAR(opposite.direction.norm().item<double>(), 0.0, 1e-12);
  auto normalised = mgda_two(t({10, 0}), t({0, 1}), GradientNormalization::kL2);
  EXPECT_DOUBLE_EQ(normalised.alpha, 0.5);
}

TEST(MgdaTwo, MatchesABruteForceMinimumAndDescendsOnBoth) {
  torch::manual_seed(4);
  for (int trial = 0; trial < 20; ++trial) {
    auto gp = torch::randn({50}, torch::kFloat64), gu = torch::randn({50}, torch::kFloat64);
    auto step = mgda_two(gp, gu);
    double best = 1e300, best_alpha = 0;
    for (int i = 0; i <= 10000; ++i) {
      double a = i / 10000.0;
      double n = (a * gp + (1 - a) * gu).norm().item<double>();
      if (n < best) best = n, best_alpha = a;
    }
    EXPECT_NEAR(step.alpha, best_alpha, 1e-3);
    EXPECT_NEAR(step.direction.norm().item<double>(), best, 1e-6);
    // The min-norm direction d satisfies d.g >= |d|^2 for both gradients.
    double d2 = (step.direction * step.direction).sum().item<double>();
    EXPECT_GE((step.direction * gp).sum().item<double>(), d2 - 1e-9);
    EXPECT_GE((step.direction * gu).sum().item<double>(), d2 - 1e-9);
  }
  auto w = weighted_sum(torch::ones({3}), torch::zeros({3}), 0.25);
  EXPECT_TRUE(torch::allclose(w.direction, torch::full({3}, 0.25)));
}

}  // namespace scrim::optim

namespace scrim::optim {

TEST(MgdaPreference, DescendsEachObjectiveInProportionToItsWeight) {
  torch::manual_seed(5);
  for (double w : {0.2, 0.5, 0.8}) {
    auto gp = torch::randn({40}, torch::kFloat64) * 7, gu = torch::randn({40}, torch::kFloat64) * 0.01;
    auto step = mgda_preference(gp, gu, w);
    double rate_p = (step.direction * gp / gp.norm()).sum().item<double>();
    double rate_u = (step.direction * gu / gu.norm()).sum().item<double>();
    ASSERT_GT(rate_p, 0);
    ASSERT_GT(rate_u, 0);
    EXPECT_NEAR(rate_p / rate_u, w / (1 - w), 1e-6) << "w = " << w;  // the scales of gp and gu do not matter
  }
}

}  // namespace scrim::optim
