#include "optim/critical_history.h"

#include <numeric>

#include <gtest/gtest.h>

#include "optim/zo_estimator.h"
#include "scrim/core/error.h"

namespace scrim::optim {

TEST(CriticalHistory, SubspaceGuidedProbesFindAGradientTheHistoryHasSeen) {
  // A linear black box on a 192-dimensional coarse space whose gradient lies in a
  // 2-D subspace; the history has seen noisy estimates from that subspace.
  torch::manual_seed(5);
  const int64_t n = 192;
  auto basis = std::get<0>(torch::linalg::qr(torch::randn({n, 2})));  // [n, 2]
  auto grad = torch::matmul(basis, torch::tensor({1.0f, -0.6f}));
  auto loss = [&](const torch::Tensor& x) { return torch::matmul(x, grad); };  // x: [n]
  auto run = [&](HistoryMode mode) {
    HistoryOptions o;
    o.mode = mode;
    o.subspace_rank = 2;
    CriticalHistory h(o);
    for (int i = 0; i < 8; ++i)
      h.record("s" + std::to_string(i), torch::matmul(basis, torch::randn({2})) + 0.05 * torch::randn({n}), 1.0);
    auto gen = at::detail::createCPUGenerator(9);
    double mean_cos = 0;
    for (int trial = 0; trial < 20; ++trial) {
      auto g = torch::zeros({n});
      for (int k = 0; k < 8; ++k) {  // q = 8 antithetic probes
        auto u = h.sample({n}, gen);
        g += (loss(0.01 * u) - loss(-0.01 * u)) / 0.02 * u / 8;
      }
      mean_cos += cosine(g, grad) / 20;
    }
    return mean_cos;
  };
  double none = run(HistoryMode::kNone), guided = run(HistoryMode::kSubspace);
  EXPECT_LT(none, 0.35);    // ~ sqrt(q / n) = 0.2 without history
  EXPECT_GT(guided, 0.6);   // the subspace carries half the probe variance
}

TEST(CriticalHistory, PriorOnlyForCriticalSamplesAndOnlyWhenOn) {
  HistoryOptions o;
  o.mode = HistoryMode::kPrior;
  CriticalHistory h(o);
  h.record("a", torch::ones({4}), 0.5);
  h.record("b", torch::ones({4}), 0.0);
  EXPECT_TRUE(h.prior("a").has_value());
  EXPECT_FALSE(h.prior("b").has_value());
  EXPECT_FALSE(h.prior("c").has_value());
  EXPECT_FALSE(h.subspace().defined());  // prior mode keeps no subspace
  o.mode = HistoryMode::kNone;
  CriticalHistory off(o);
  off.record("a", torch::ones({4}), 0.5);
  EXPECT_FALSE(off.prior("a").has_value());
  EXPECT_THROW(parse_history_mode("most"), UsageError);
}

TEST(CriticalHistory, AllocatorSpendsTheBudgetOnCriticalSamplesFirst) {
  HistoryOptions o;
  CriticalHistory full(o);
  // Two scouting probes each, the rest split over the samples that flipped,
  // the most critical first (as in DESIGN.md's experiment).
  auto a = full.allocate({0.0, 0.3, 0.0, 0.9}, 21, 2);
  EXPECT_EQ(a, (std::vector<int>{2, 8, 2, 9}));
  EXPECT_EQ(std::accumulate(a.begin(), a.end(), 0), 21);
  EXPECT_EQ(full.allocate({0, 0, 0}, 9, 2), (std::vector<int>{3, 3, 3}));
  o.mode = HistoryMode::kNone;
  EXPECT_EQ(CriticalHistory(o).allocate({0.0, 0.3, 0.0, 0.9}, 20, 2), (std::vector<int>{5, 5, 5, 5}));
}

TEST(CriticalHistory, StateRoundTrips) {
  CriticalHistory h({});
  for (int i = 0; i < 5; ++i) h.record("s" + std::to_string(i), torch::randn({12}), i * 0.1);
  CriticalHistory copy({});
  copy.load_state(h.state());
  EXPECT_TRUE(torch::allclose(copy.subspace(), h.subspace()));
  EXPECT_TRUE(torch::allclose(*copy.prior("s3"), *h.prior("s3")));
}

}  // namespace scrim::optim
