// The zeroth-order estimator against autograd on functions whose gradient is known.
#include "optim/zo_estimator.h"

#include <gtest/gtest.h>

namespace scrim::optim {
namespace {

// Averages each grid cell: the projection of a gradient onto the coarse basis.
torch::Tensor project(const torch::Tensor& g, int grid) {
  namespace F = torch::nn::functional;
  auto small = F::adaptive_avg_pool2d(g.unsqueeze(0), F::AdaptiveAvgPool2dFuncOptions({grid, grid}));
  return F::interpolate(small, F::InterpolateFuncOptions().size(std::vector<int64_t>{g.size(1), g.size(2)}).mode(torch::kNearest))[0];
}

}  // namespace

TEST(ZerothOrderEstimator, RecoversALinearGradientInTheBasis) {
  torch::manual_seed(1);
  auto a = torch::randn({3, 32, 32});
  auto x = torch::rand({3, 32, 32});
  BatchLoss linear = [&](const torch::Tensor& p) { return (p * a).sum({1, 2, 3}); };
  auto target = project(a, 8);
  for (auto dist : {ProbeDistribution::kGaussian, ProbeDistribution::kRademacher}) {
    ZoOptions o;
    o.probes = 1024;
    o.grid = 8;
    o.distribution = dist;
    ZerothOrderEstimator zo(o);
    auto gen = at::detail::createCPUGenerator(7);
    auto g = zo.estimate(x, linear, gen);
    // Basis dimension d = 192: cos ~ 1 / sqrt(1 + d / q) = 0.92 in expectation.
    EXPECT_GT(cosine(g, target), 0.85);
    // A full-resolution gradient is only seen through the basis: the cosine with `a` itself is lower.
    EXPECT_LT(cosine(g, a), cosine(g, target));
  }
}

TEST(ZerothOrderEstimator, QuadraticLossAndProbeCountAgainstAutograd) {
  torch::manual_seed(2);
  auto t = torch::rand({3, 16, 16});
  auto x = torch::rand({3, 16, 16}, torch::requires_grad());
  auto loss_of = [&](const torch::Tensor& p) { return (p - t).pow(2).sum({1, 2, 3}); };
  auto truth = torch::autograd::grad({loss_of(x.unsqueeze(0)).sum()}, {x})[0];
  auto target = project(truth, 4);
  double previous = -1;
  for (int q : {4, 64, 512}) {
    ZoOptions o;
    o.probes = q;
    o.grid = 4;
    o.mu = 1e-3;
    ZerothOrderEstimator zo(o);
    double mean_cos = 0;
    for (int trial = 0; trial < 5; ++trial) {
      auto gen = at::detail::createCPUGenerator(100 + trial);
      mean_cos += cosine(zo.estimate(x.detach(), loss_of, gen), target) / 5;
    }
    EXPECT_GT(mean_cos, previous);  // more probes, better estimates
    previous = mean_cos;
  }
  EXPECT_GT(previous, 0.9);
}

TEST(ZerothOrderEstimator, SurrogateCarriesTheEstimateToTheParameters) {
  // x' = conv(x): with the true dL/dx' in the surrogate, autograd gives the true dL/dtheta.
  torch::manual_seed(3);
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 3, 3).padding(1));
  auto x = torch::rand({1, 3, 8, 8});
  auto t = torch::rand({1, 3, 8, 8});
  auto direct = (conv->forward(x) - t).pow(2).sum();
  auto true_grads = torch::autograd::grad({direct}, conv->parameters());
  auto xp = conv->forward(x);
  auto dldx = 2 * (xp - t).detach();
  auto via = torch::autograd::grad({ZerothOrderEstimator::surrogate(xp, dldx)}, conv->parameters());
  for (size_t i = 0; i < via.size(); ++i) EXPECT_TRUE(torch::allclose(via[i], true_grads[i], 1e-5, 1e-6));
}

TEST(ZerothOrderEstimator, GivenDirectionsAreUsedAsIs) {
  ZoOptions o;
  o.mu = 0.1;
  ZerothOrderEstimator zo(o);
  auto x = torch::zeros({1, 2, 2});
  auto u = torch::ones({1, 1, 2, 2});
  auto gen = at::detail::createCPUGenerator(1);
  // L(p) = sum(p): the difference quotient along u is sum(u) = 4, so g = 4 u.
  auto g = zo.estimate(x, [](const torch::Tensor& p) { return p.sum({1, 2, 3}); }, gen, u);
  EXPECT_TRUE(torch::allclose(g, 4 * torch::ones({1, 2, 2})));
}

}  // namespace scrim::optim
