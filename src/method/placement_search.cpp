#include "method/placement_search.h"

#include <limits>

namespace scrim::method {
namespace F = torch::nn::functional;

namespace {
// The first-order change of loss(x) per cell of the G x GX grid if each pixel showed `hidden` instead.
torch::Tensor change_per_cell(const PrivacyLossFn& loss, const torch::Tensor& x, const torch::Tensor& hidden, int64_t g, int64_t gx) {
  auto probe = x.detach().clone().requires_grad_(true);
  auto grad = torch::autograd::grad({loss(probe)}, {probe})[0];
  torch::NoGradGuard no_grad;
  auto change = (grad * (hidden - x.detach())).sum(1, true);
  return F::adaptive_avg_pool2d(change, F::AdaptiveAvgPool2dFuncOptions(std::vector<int64_t>{g, gx}));
}
}  // namespace

torch::Tensor placement_target(nets::BlendAnonymizerImpl& blend, const torch::Tensor& x, const PrivacyLossFn& privacy_loss,
                               const UtilityPrice* price) {
  const auto budget = blend.options().budget;
  torch::Tensor logits, hidden;
  {
    torch::NoGradGuard no_grad;
    logits = blend.logits(x);
    // What a fully hidden pixel shows: the obfuscations mixed by the blend's own split, up-sampled bilinearly (with
    // a guided up-sampling the mix near edges differs a little; with one obfuscation in the bank it is exact).
    auto split = torch::softmax(logits.slice(1, 1), 1);
    auto up = F::interpolate(split, F::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                        .mode(torch::kBilinear)
                                        .align_corners(false));
    hidden = (up.unsqueeze(2) * blend.bank(x).slice(1, 1)).sum(1);  // [N, 3, S, S]
  }
  const int64_t n = x.size(0), g = logits.size(2), gx = logits.size(3);
  const auto worth = -change_per_cell(privacy_loss, x, hidden, g, gx);  // positive where hiding helps
  torch::NoGradGuard no_grad;
  auto has = (worth.clamp_min(0).sum({1, 2, 3}, true) > 0).to(x.scalar_type());
  torch::Tensor region;
  if (!price) {
    auto gain = worth.clamp_min(0);
    region = nets::BlendAnonymizerImpl::head_region(gain / gain.sum({1, 2, 3}, true).clamp_min(1e-30), budget);
  } else {
    // A position's first-order privacy gain for its picture: the cells' mean changes summed over the pixels, times N
    // (the privacy loss is the batch's mean).
    const double pixels_per_cell = static_cast<double>(x.size(2) * x.size(3)) / static_cast<double>(g * gx);
    auto covered = nets::BlendAnonymizerImpl::head_coverage(worth, budget).view({n, g * gx});
    auto [gain, index] = covered.topk(std::min<int64_t>(kPricedPositions, g * gx), 1);
    gain = gain * pixels_per_cell * static_cast<double>(n);
    const auto plain = price->loss(x);
    auto best_score = torch::full({n}, -std::numeric_limits<double>::infinity(), x.options());
    region = torch::zeros({n, 1, g, gx}, x.options());
    for (int64_t k = 0; k < index.size(1); ++k) {
      auto at = index.select(1, k);
      auto candidate = nets::BlendAnonymizerImpl::head_region_at(torch::floor_divide(at, gx).to(x.scalar_type()) + 0.5,
                                                                 torch::remainder(at, gx).to(x.scalar_type()) + 0.5, g, gx, budget);
      auto mask = F::interpolate(candidate, F::InterpolateFuncOptions()
                                                .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                                .mode(torch::kBilinear)
                                                .align_corners(false));
      auto cost = price->loss(x.detach() + mask * (hidden - x.detach())) - plain;
      auto score = price->preference * gain.select(1, k) - (1 - price->preference) * cost;
      auto better = score > best_score;
      best_score = torch::where(better, score, best_score);
      region = torch::where(better.view({n, 1, 1, 1}), candidate, region);
    }
  }
  return region / region.sum({1, 2, 3}, true).clamp_min(1e-30) * has;
}

torch::Tensor placement_loss(nets::BlendAnonymizerImpl& blend, const torch::Tensor& x, const torch::Tensor& target) {
  const auto n = x.size(0);
  auto scores = blend.logits(x).select(1, 0).reshape({n, -1});
  auto log_p = torch::log_softmax(scores, 1);
  auto t = target.reshape({n, -1});
  auto per_picture = -(t * log_p).sum(1);
  auto count = t.sum(1).gt(0).to(log_p.scalar_type()).sum();
  return per_picture.sum() / count.clamp_min(1);
}

}  // namespace scrim::method
