#include "nets/bdq_encoder.h"

#include <algorithm>
#include <cmath>

#include "scrim/core/error.h"

namespace scrim::nets {

namespace F = torch::nn::functional;

BdqEncoderImpl::BdqEncoderImpl(const BdqEncoderOptions& o) : options_(o) {
  if (o.levels < 2 || o.sigma <= 0) throw UsageError("BDQ encoder: levels >= 2 and sigma > 0");
  log_sigma_ = register_parameter("log_sigma", torch::tensor({std::log(o.sigma)}));
  // Uniform bins to start with: boundaries half-way between the levels.
  boundaries_ = register_parameter("boundaries", (torch::arange(o.levels - 1, torch::kFloat32) + 0.5) / static_cast<double>(o.levels - 1));
}

torch::Tensor BdqEncoderImpl::forward(const torch::Tensor& x) {
  // A blur that is differentiable in sigma: the kernel is computed from it, on a radius wide enough for sigma <= 8.
  auto sigma = log_sigma_.exp().clamp(0.3, 8.0);
  const int64_t radius = 12;
  auto t = torch::arange(-radius, radius + 1, x.options());
  auto k = torch::exp(-(t * t) / (2 * sigma * sigma));
  k = k / k.sum();
  auto c = x.size(1);
  auto kx = k.view({1, 1, 1, -1}).repeat({c, 1, 1, 1});
  auto ky = k.view({1, 1, -1, 1}).repeat({c, 1, 1, 1});
  auto y = F::pad(x, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReplicate));
  y = F::conv2d(F::conv2d(y, kx, F::Conv2dFuncOptions().groups(c)), ky, F::Conv2dFuncOptions().groups(c));
  // Quantisation: the number of boundaries below each value, softened while training.
  auto b = boundaries_.view({1, -1, 1, 1, 1});
  auto steps = is_training() ? torch::sigmoid(options_.sharpness * (y.unsqueeze(1) - b)) : y.unsqueeze(1).gt(b).to(y.dtype());
  return steps.sum(1) / static_cast<double>(options_.levels - 1);
}

double BdqEncoderImpl::sigma() const { return std::clamp(std::exp(log_sigma_.item<double>()), 0.3, 8.0); }

std::vector<double> BdqEncoderImpl::boundaries() const {
  auto b = boundaries_.detach().to(torch::kFloat64).contiguous();
  std::vector<double> out(b.data_ptr<double>(), b.data_ptr<double>() + b.numel());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace scrim::nets
