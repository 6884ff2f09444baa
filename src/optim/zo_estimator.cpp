#include "optim/zo_estimator.h"

#include <algorithm>
#include <cmath>

#include "scrim/core/error.h"

namespace scrim::optim {

namespace F = torch::nn::functional;

std::vector<int64_t> ZerothOrderEstimator::coarse_shape(const torch::Tensor& like) const {
  auto c = like.size(0), h = like.size(1), w = like.size(2);
  return {c, options_.grid > 0 ? std::min<int64_t>(options_.grid, h) : h, options_.grid > 0 ? std::min<int64_t>(options_.grid, w) : w};
}

torch::Tensor ZerothOrderEstimator::expand(const torch::Tensor& coarse, const torch::Tensor& like) const {
  auto z = coarse.dim() == 3 ? coarse.unsqueeze(0) : coarse;
  torch::Tensor out = z;
  if (z.size(2) != like.size(1) || z.size(3) != like.size(2)) {
    // Nearest up-sampling keeps the coarse coordinates independent and of unit variance.
    out = F::interpolate(z, F::InterpolateFuncOptions().size(std::vector<int64_t>{like.size(1), like.size(2)}).mode(torch::kNearest));
  }
  return coarse.dim() == 3 ? out[0] : out;
}

torch::Tensor ZerothOrderEstimator::project(const torch::Tensor& image) const {
  auto shape = coarse_shape(image);
  // Cell means: exact for the nearest-up-sampled basis when the cells tile the image evenly.
  auto cells = F::adaptive_avg_pool2d(image.unsqueeze(0), F::AdaptiveAvgPool2dFuncOptions({shape[1], shape[2]}))[0];
  return expand(cells, image);
}

torch::Tensor ZerothOrderEstimator::sample(const std::vector<int64_t>& shape, torch::Generator& gen) const {
  return options_.distribution == ProbeDistribution::kGaussian ? at::normal(0.0, 1.0, shape, gen)
                                                               : at::bernoulli(torch::full(shape, 0.5), gen).mul_(2).sub_(1);
}

torch::Tensor ZerothOrderEstimator::combine(const torch::Tensor& directions, const torch::Tensor& differences) const {
  if (directions.size(0) != differences.numel() || directions.size(0) == 0)
    throw UsageError("ZerothOrderEstimator::combine(): one difference per direction, at least one");
  auto q = directions.size(0);
  std::vector<int64_t> shape(static_cast<size_t>(directions.dim()), 1);
  shape[0] = q;
  return (differences.to(directions.scalar_type()).view(shape) * directions).sum(0) / (2.0 * options_.mu * static_cast<double>(q));
}

SplitEstimate ZerothOrderEstimator::combine_split(const torch::Tensor& directions, const torch::Tensor& differences) const {
  auto q = directions.size(0);
  auto even = torch::arange(0, q, 2, torch::kLong), odd = torch::arange(1, q, 2, torch::kLong);
  SplitEstimate s;
  s.a = combine(directions.index_select(0, even), differences.index_select(0, even));
  s.b = odd.numel() > 0 ? combine(directions.index_select(0, odd), differences.index_select(0, odd)) : torch::zeros_like(s.a);
  s.weight_a = static_cast<double>(even.numel()) / static_cast<double>(q);
  s.weight_b = static_cast<double>(odd.numel()) / static_cast<double>(q);
  s.g = s.weight_a * s.a + s.weight_b * s.b;
  return s;
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  auto fa = a.flatten().to(torch::kFloat64), fb = b.flatten().to(torch::kFloat64);
  double na = fa.norm().item<double>(), nb = fb.norm().item<double>();
  if (na == 0 || nb == 0) return 0.0;
  return (fa * fb).sum().item<double>() / (na * nb);
}

namespace {

// a . b / |g / (weight_a + weight_b)|^2, signed; false when undefined.
bool signed_cos2(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& g, double weight_a, double weight_b, double& cos2) {
  double total = weight_a + weight_b;
  if (total <= 0 || weight_b <= 0 || weight_a <= 0 || !a.defined() || !b.defined()) return false;
  double ab = (a.flatten().to(torch::kFloat64) * b.flatten().to(torch::kFloat64)).sum().item<double>();
  double norm = g.flatten().to(torch::kFloat64).norm().item<double>() / total;
  if (norm <= 0) return false;
  cos2 = ab / (norm * norm);
  return true;
}

}  // namespace

double split_half_cosine(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& g, double weight_a, double weight_b) {
  double cos2 = 0;
  if (!signed_cos2(a, b, g, weight_a, weight_b, cos2) || cos2 <= 0) return 0.0;
  return std::min(1.0, std::sqrt(cos2));
}

bool split_half_cos2(const SplitEstimate& e, double& cos2) { return signed_cos2(e.a, e.b, e.g, e.weight_a, e.weight_b, cos2); }

double pooled_split_half_cosine(double cos2_sum, int64_t samples) {
  if (samples <= 0 || cos2_sum <= 0) return 0.0;
  return std::min(1.0, std::sqrt(cos2_sum / static_cast<double>(samples)));
}

}  // namespace scrim::optim
