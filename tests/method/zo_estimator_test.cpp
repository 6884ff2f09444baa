// The zeroth-order estimator's arithmetic: the coarse basis's projection and the
// surrogate that carries an estimate to the parameters. The estimates
// themselves, through the code the trainer runs, are tested in blackbox_gradient_test.cpp.
#include "optim/zo_estimator.h"

#include <gtest/gtest.h>

namespace scrim::optim {

TEST(ZerothOrderEstimator, ProjectionOntoTheCoarseBasisIsOrthogonal) {
  torch::manual_seed(1);
  ZerothOrderEstimator zo(ZoOptions{8, 0.01, 4});
  auto g = torch::randn({3, 16, 16});
  auto p = zo.project(g);
  EXPECT_TRUE(torch::allclose(zo.project(p), p, 1e-5, 1e-6));          // idempotent
  EXPECT_NEAR(((g - p) * p).sum().item<double>(), 0.0, 1e-3);           // the rest is orthogonal to the basis
  auto coarse = torch::randn({3, 4, 4});
  EXPECT_TRUE(torch::allclose(zo.project(zo.expand(coarse, g)), zo.expand(coarse, g), 1e-5, 1e-6));  // the basis is kept
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

}  // namespace scrim::optim
