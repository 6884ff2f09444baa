#include "optim/pareto_combiner.h"

#include <algorithm>

namespace scrim::optim {

ParetoStep mgda_two(const torch::Tensor& gp_in, const torch::Tensor& gu_in, GradientNormalization norm) {
  auto gp = gp_in.flatten().to(torch::kFloat64), gu = gu_in.flatten().to(torch::kFloat64);
  if (norm == GradientNormalization::kL2) {
    gp = gp / gp.norm().clamp_min(1e-12);
    gu = gu / gu.norm().clamp_min(1e-12);
  }
  auto diff = gp - gu;
  double denom = (diff * diff).sum().item<double>();
  double alpha = denom <= 1e-20 ? 0.5 : std::clamp(((gu - gp) * gu).sum().item<double>() / denom, 0.0, 1.0);
  return {(alpha * gp + (1 - alpha) * gu).to(gp_in.scalar_type()).view(gp_in.sizes()), alpha};
}

ParetoStep mgda_preference(const torch::Tensor& gp_in, const torch::Tensor& gu_in, double w) {
  auto gp = gp_in.flatten().to(torch::kFloat64), gu = gu_in.flatten().to(torch::kFloat64);
  // Scaling by 1/w makes the min-norm point descend each objective at a rate proportional to its weight.
  w = std::clamp(w, 0.01, 0.99);
  gp = gp / (w * gp.norm().clamp_min(1e-12));
  gu = gu / ((1 - w) * gu.norm().clamp_min(1e-12));
  auto step = mgda_two(gp, gu, GradientNormalization::kNone);
  step.direction = step.direction.to(gp_in.scalar_type()).view(gp_in.sizes());
  return step;
}

ParetoStep weighted_sum(const torch::Tensor& gp, const torch::Tensor& gu, double alpha) {
  return {alpha * gp + (1 - alpha) * gu, alpha};
}

}  // namespace scrim::optim
