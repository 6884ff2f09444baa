#include "reference/reference_augment.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace scrim {

torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
  int radius = std::max(1, static_cast<int>(std::ceil(2.5 * sigma)));
  auto t = torch::arange(-radius, radius + 1, torch::kFloat32);
  auto k = torch::exp(-(t * t) / (2 * sigma * sigma));
  k = k / k.sum();
  auto c = x.size(1);
  auto kx = k.view({1, 1, 1, -1}).repeat({c, 1, 1, 1});
  auto ky = k.view({1, 1, -1, 1}).repeat({c, 1, 1, 1});
  namespace F = torch::nn::functional;
  auto y = F::pad(x, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReplicate));
  y = F::conv2d(y, kx, F::Conv2dFuncOptions().groups(c));
  return F::conv2d(y, ky, F::Conv2dFuncOptions().groups(c));
}

torch::Tensor augment(torch::Tensor x, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  double r = u(rng);
  namespace F = torch::nn::functional;
  if (r < 0.4) return x;
  if (r < 0.55) return gaussian_blur(x, 0.5 + u(rng) * 1.0);
  if (r < 0.7) return (x + torch::randn_like(x) * (0.01 + 0.04 * u(rng))).clamp(0, 1);
  if (r < 0.85) {
    double brightness = 0.8 + 0.4 * u(rng), contrast = 0.8 + 0.4 * u(rng);
    auto mean = x.mean({1, 2, 3}, true);
    return ((x - mean) * contrast + mean * brightness).clamp(0, 1);
  }
  auto h = x.size(2), w = x.size(3);
  auto small = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{h / 2, w / 2}).mode(torch::kArea));
  return F::interpolate(small, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
}

// Moving the scene a few pixels keeps every answer (the person in the middle
// stays in the middle) but takes away the absolute position a network can use
// to recognise a training picture and recall its answer instead of reading it
// (trained on 4,000 pictures, the reference models fit their training split to
// 99-100% and not the test split: README).
torch::Tensor translate(const torch::Tensor& x, int64_t dx, int64_t dy) {
  int64_t m = std::max(std::abs(dx), std::abs(dy));
  if (m == 0) return x;
  namespace F = torch::nn::functional;
  auto padded = F::pad(x, F::PadFuncOptions({m, m, m, m}).mode(torch::kReplicate));
  return padded.slice(2, m - dy, m - dy + x.size(2)).slice(3, m - dx, m - dx + x.size(3)).contiguous();
}

}  // namespace scrim
