#include "optim/pareto_combiner.h"

#include <algorithm>

namespace scrim::optim {

ParetoStep mgda_two(const torch::Tensor& gp_in, const torch::Tensor& gu_in, GradientNormalization norm, double gu_signal_cos) {
  auto gp = gp_in.flatten().to(torch::kFloat64), gu = gu_in.flatten().to(torch::kFloat64);
  const double c = std::clamp(gu_signal_cos, 1e-6, 1.0);
  if (norm == GradientNormalization::kL2) {
    gp = gp / gp.norm().clamp_min(1e-12);
    gu = gu / (c * gu.norm().clamp_min(1e-12));  // its signal's norm: the signal becomes a unit vector
  }
  // alpha = ((g_u - g_p) . g_u) / |g_p - g_u|^2, with |g_u|^2 the signal's squared length c^2 |g_u|^2: the
  // difference form, corrected by (1 - c^2) |g_u|^2 (exactly the uncorrected one at c = 1, and without the
  // cancellation of expanding |g_p - g_u|^2 when g_p ~ g_u).
  auto diff = gp - gu;
  const double noise_sq = (1 - c * c) * (gu * gu).sum().item<double>();
  const double denom = (diff * diff).sum().item<double>() - noise_sq;
  double alpha = denom <= 1e-20 ? 0.5 : std::clamp((((gu - gp) * gu).sum().item<double>() - noise_sq) / denom, 0.0, 1.0);
  return {(alpha * gp + (1 - alpha) * gu).to(gp_in.scalar_type()).view(gp_in.sizes()), alpha};
}

ParetoStep mgda_preference(const torch::Tensor& gp_in, const torch::Tensor& gu_in, double w, double gu_signal_cos) {
  auto gp = gp_in.flatten().to(torch::kFloat64), gu = gu_in.flatten().to(torch::kFloat64);
  // Scaling by 1/w makes the min-norm point descend each objective at a rate proportional to its weight.
  w = std::clamp(w, 0.01, 0.99);
  const double c = std::clamp(gu_signal_cos, 1e-6, 1.0);
  gp = gp / (w * gp.norm().clamp_min(1e-12));
  gu = gu / ((1 - w) * c * gu.norm().clamp_min(1e-12));
  auto step = mgda_two(gp, gu, GradientNormalization::kNone, c);
  step.direction = step.direction.to(gp_in.scalar_type()).view(gp_in.sizes());
  return step;
}

ParetoStep weighted_sum(const torch::Tensor& gp, const torch::Tensor& gu, double alpha) {
  return {alpha * gp + (1 - alpha) * gu, alpha};
}

}  // namespace scrim::optim
