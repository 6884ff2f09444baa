// P-RGF's lambda* (optim/prior_mixing.h) checked against what it claims to be: the mixing weight that
// maximises the expected cosine of the prior-guided estimate, measured by Monte Carlo on constructed
// gradients and priors of known cosine — not against a copy of the formula.
#include "optim/prior_mixing.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace scrim::optim {
namespace {

// The mean cosine with g = e_0 of sum_i (g . u_i) u_i over `trials` draws, u_i = sqrt(lambda) v +
// sqrt(1 - lambda) xi_i, v a unit prior of cosine alpha with g and xi_i random unit directions orthogonal to v.
double mean_cosine(double alpha, double lambda, int dim, int probes, int trials, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(dim, 0.0), xi(dim), u(dim), est(dim);
  v[0] = alpha;
  v[1] = std::sqrt(1 - alpha * alpha);
  double total = 0;
  for (int t = 0; t < trials; ++t) {
    std::fill(est.begin(), est.end(), 0.0);
    for (int i = 0; i < probes; ++i) {
      double along = 0, norm = 0;
      for (auto& x : xi) x = normal(rng);
      for (int j = 0; j < dim; ++j) along += xi[j] * v[j];
      for (int j = 0; j < dim; ++j) xi[j] -= along * v[j], norm += xi[j] * xi[j];
      norm = std::sqrt(norm);
      for (int j = 0; j < dim; ++j) u[j] = std::sqrt(lambda) * v[j] + std::sqrt(1 - lambda) * xi[j] / norm;
      const double derivative = u[0];  // g . u with g = e_0
      for (int j = 0; j < dim; ++j) est[j] += derivative * u[j];
    }
    double n2 = 0;
    for (double x : est) n2 += x * x;
    total += est[0] / std::sqrt(n2);
  }
  return total / trials;
}

}  // namespace

TEST(PriorMixing, PrgfLambdaMaximisesTheEstimatesExpectedCosine) {
  const int dim = 50, probes = 5, trials = 4000;
  // A weak prior (alpha^2 (D + 2q - 2) < 1): lambda* = 0, pure random probes; a strong one: 1, all along it;
  // a middling one: strictly between, and better than both ends.
  for (double alpha : {0.1, 0.3, 0.6}) {
    const double best = prgf_lambda(alpha, dim, probes);
    const double at_best = mean_cosine(alpha, best, dim, probes, trials, 7);
    for (double lambda = 0; lambda <= 1.0001; lambda += 0.1)
      EXPECT_GE(at_best, mean_cosine(alpha, std::min(1.0, lambda), dim, probes, trials, 7) - 0.01)
          << "alpha " << alpha << ": lambda " << lambda << " beats lambda* " << best;
  }
  EXPECT_EQ(prgf_lambda(0.1, dim, probes), 0.0);
  EXPECT_EQ(prgf_lambda(0.6, dim, probes), 1.0);
  const double middle = prgf_lambda(0.3, dim, probes);
  EXPECT_GT(middle, 0.05);
  EXPECT_LT(middle, 0.95);
  EXPECT_GT(mean_cosine(0.3, middle, dim, probes, trials, 9), mean_cosine(0.3, 0.0, dim, probes, trials, 9) + 0.02);
  EXPECT_GT(mean_cosine(0.3, middle, dim, probes, trials, 9), mean_cosine(0.3, 1.0, dim, probes, trials, 9) + 0.02);
  EXPECT_EQ(prgf_lambda(-0.6, dim, probes), 1.0);  // the sign is measured, not guessed
  EXPECT_THROW(prgf_lambda(0.3, 1, probes), std::invalid_argument);
}

}  // namespace scrim::optim
