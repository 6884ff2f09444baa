#include "optim/pareto_combiner.h"

#include <cmath>

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

namespace scrim::optim {

// A zeroth-order utility gradient: its signal m plus noise three times as long (cos(g_u, m) = 0.32, what the
// split-half figure estimates). Normalised by its own norm, the step descends utility at a third of the
// preference's rate; normalised and weighted by its signal's norm, at the preference's rate in expectation.
TEST(MgdaPreference, TheSplitHalfSignalNormKeepsTheUtilityRateOfANoisyEstimate) {
  torch::manual_seed(6);
  const int64_t dim = 400;
  auto gp = torch::randn({dim}, torch::kFloat64), m = torch::randn({dim}, torch::kFloat64);
  m = m - (m * gp).sum() / (gp * gp).sum() * gp;  // orthogonal objectives: no conflict
  const double w = 0.5, cos = 1 / std::sqrt(10.0);
  auto rate = [&](const ParetoStep& s, const torch::Tensor& g) { return (s.direction * g / g.norm()).sum().item<double>(); };
  auto exact = mgda_preference(gp, m, w);
  auto exact_mgda = mgda_two(gp, m, GradientNormalization::kL2);
  double raw_u = 0, corrected_u = 0, corrected_p = 0, mgda_u = 0;
  const int draws = 200;
  for (int i = 0; i < draws; ++i) {
    auto noise = torch::randn({dim}, torch::kFloat64);
    noise = noise - (noise * m).sum() / (m * m).sum() * m;  // (it may lean on g_p: the weighting sees that)
    auto gu = m + 3 * m.norm() * noise / noise.norm();
    raw_u += rate(mgda_preference(gp, gu, w), m) / draws;
    auto corrected = mgda_preference(gp, gu, w, cos);
    corrected_u += rate(corrected, m) / draws;
    corrected_p += rate(corrected, gp) / draws;
    mgda_u += rate(mgda_two(gp, gu, GradientNormalization::kL2, cos), m) / draws;
  }
  EXPECT_NEAR(corrected_u, rate(exact, m), 0.02 * rate(exact, m));
  EXPECT_NEAR(corrected_p, rate(exact, gp), 0.02 * rate(exact, gp));
  EXPECT_NEAR(raw_u, cos * rate(exact, m), 0.05 * rate(exact, m));  // the noise's share cut the utility's rate
  EXPECT_NEAR(mgda_u, rate(exact_mgda, m), 0.02 * rate(exact_mgda, m));  // the same for plain MGDA
}

}  // namespace scrim::optim
