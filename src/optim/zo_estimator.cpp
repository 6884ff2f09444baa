#include "optim/zo_estimator.h"

#include "scrim/core/error.h"

namespace scrim::optim {

std::vector<int64_t> ZerothOrderEstimator::coarse_shape(const torch::Tensor& like) const {
  auto c = like.size(0), h = like.size(1), w = like.size(2);
  return {c, options_.grid > 0 ? std::min<int64_t>(options_.grid, h) : h, options_.grid > 0 ? std::min<int64_t>(options_.grid, w) : w};
}

torch::Tensor ZerothOrderEstimator::expand(const torch::Tensor& coarse, const torch::Tensor& like) const {
  auto z = coarse.dim() == 3 ? coarse.unsqueeze(0) : coarse;
  torch::Tensor out = z;
  if (z.size(2) != like.size(1) || z.size(3) != like.size(2)) {
    namespace F = torch::nn::functional;
    // Nearest up-sampling keeps the coarse coordinates independent and of unit variance.
    out = F::interpolate(z, F::InterpolateFuncOptions().size(std::vector<int64_t>{like.size(1), like.size(2)}).mode(torch::kNearest));
  }
  return coarse.dim() == 3 ? out[0] : out;
}

torch::Tensor ZerothOrderEstimator::sample_direction(const torch::Tensor& like, torch::Generator& gen) const {
  auto shape = coarse_shape(like);
  torch::Tensor z = options_.distribution == ProbeDistribution::kGaussian ? at::normal(0.0, 1.0, shape, gen)
                                                                          : at::bernoulli(torch::full(shape, 0.5), gen).mul_(2).sub_(1);
  return expand(z, like);
}

torch::Tensor ZerothOrderEstimator::estimate(const torch::Tensor& x, const BatchLoss& loss, torch::Generator& gen,
                                             const torch::Tensor& given) const {
  if (x.dim() != 3) throw UsageError("ZerothOrderEstimator::estimate(): x must be [C, H, W]");
  torch::NoGradGuard no_grad;
  torch::Tensor u;
  if (given.defined()) {
    u = given;
  } else {
    std::vector<torch::Tensor> dirs;
    for (int k = 0; k < options_.probes; ++k) dirs.push_back(sample_direction(x, gen));
    u = torch::stack(dirs);
  }
  auto xd = x.detach().unsqueeze(0);
  // One call for all 2q probes. Probes may leave [0, 1]; callers clamp when the black box needs it.
  auto probes = torch::cat({xd + options_.mu * u, xd - options_.mu * u});
  auto values = loss(probes).to(torch::kFloat32).view({-1});
  int64_t q = u.size(0);
  auto diff = (values.slice(0, 0, q) - values.slice(0, q, 2 * q)) / (2 * options_.mu);  // [q]
  return (diff.view({q, 1, 1, 1}) * u).mean(0);
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  auto fa = a.flatten().to(torch::kFloat64), fb = b.flatten().to(torch::kFloat64);
  double na = fa.norm().item<double>(), nb = fb.norm().item<double>();
  if (na == 0 || nb == 0) return 0.0;
  return (fa * fb).sum().item<double>() / (na * nb);
}

}  // namespace scrim::optim
