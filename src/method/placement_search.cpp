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
                               const UtilityPrice* price, const PrivacyLossFn* measured) {
  const auto budget = blend.options().budget;
  torch::Tensor logits, bank, split, hidden;
  {
    torch::NoGradGuard no_grad;
    logits = blend.logits(x);
    bank = blend.bank(x);
    // What a fully hidden pixel shows: the obfuscations mixed by the blend's own split, up-sampled bilinearly (with
    // a guided up-sampling the mix near edges differs a little; with one obfuscation in the bank it is exact).
    split = torch::softmax(logits.slice(1, 1), 1);
    auto up = F::interpolate(split, F::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                        .mode(torch::kBilinear)
                                        .align_corners(false));
    hidden = (up.unsqueeze(2) * bank.slice(1, 1)).sum(1);  // [N, 3, S, S]
  }
  const int64_t n = x.size(0), g = logits.size(2), gx = logits.size(3);
  const auto worth = -change_per_cell(privacy_loss, x, hidden, g, gx);  // positive where hiding helps
  torch::NoGradGuard no_grad;
  auto has = (worth.clamp_min(0).sum({1, 2, 3}, true) > 0).to(x.scalar_type());
  torch::Tensor region;
  if (!price && !measured) {
    auto gain = worth.clamp_min(0);
    region = nets::BlendAnonymizerImpl::head_region(gain / gain.sum({1, 2, 3}, true).clamp_min(1e-30), budget);
    return region / region.sum({1, 2, 3}, true).clamp_min(1e-30) * has;
  }
  // A position's first-order privacy gain for its picture: the cells' mean changes summed over the pixels, times N
  // (the privacy loss is the batch's mean).
  const double pixels_per_cell = static_cast<double>(x.size(2) * x.size(3)) / static_cast<double>(g * gx);
  auto covered = nets::BlendAnonymizerImpl::head_coverage(worth, budget).view({n, g * gx});
  auto [first_order, index] = covered.topk(std::min<int64_t>(kPricedPositions, g * gx), 1);
  first_order = first_order * pixels_per_cell * static_cast<double>(n);
  const double preference = price ? price->preference : 1.0;
  const auto plain_cost = price ? price->loss(x) : torch::Tensor();
  const auto plain_privacy = measured ? (*measured)(x) : torch::Tensor();
  // The picture with the region centred at (cy, cx) hidden: measured, as the blend renders it; else with the
  // bilinear mask the first-order search's price was measured with (docs/results.md, "a fourteenth look").
  auto hide = [&](const torch::Tensor& candidate) {
    if (measured)
      return nets::BlendAnonymizerImpl::render(bank, torch::cat({1 - candidate, candidate * split}, 1), blend.options().upsample,
                                               blend.options().edge);
    auto mask = F::interpolate(
        candidate,
        F::InterpolateFuncOptions().size(std::vector<int64_t>{x.size(2), x.size(3)}).mode(torch::kBilinear).align_corners(false));
    return x.detach() + mask * (hidden - x.detach());
  };
  auto best_score = torch::full({n}, -std::numeric_limits<double>::infinity(), x.options());
  auto best_y = torch::zeros({n}, x.options()), best_x = torch::zeros({n}, x.options());
  auto consider = [&](const torch::Tensor& cy, const torch::Tensor& cx, const torch::Tensor& first_order_gain) {
    auto candidate = nets::BlendAnonymizerImpl::head_region_at(cy, cx, g, gx, budget);
    auto y = hide(candidate);
    auto gain = measured ? plain_privacy - (*measured)(y) : first_order_gain;
    auto score = preference * gain;
    if (price) score = score - (1 - preference) * (price->loss(y) - plain_cost);
    auto better = score > best_score;
    best_score = torch::where(better, score, best_score);
    best_y = torch::where(better, cy, best_y), best_x = torch::where(better, cx, best_x);
  };
  for (int64_t k = 0; k < index.size(1); ++k) {
    auto at = index.select(1, k);
    consider(torch::floor_divide(at, gx).to(x.scalar_type()) + 0.5, torch::remainder(at, gx).to(x.scalar_type()) + 0.5,
             first_order.select(1, k));
  }
  if (measured) {
    const auto centre_y = best_y.clone(), centre_x = best_x.clone();
    for (double dy : {-0.5, 0.0, 0.5})
      for (double dx : {-0.5, 0.0, 0.5})
        if (dy != 0 || dx != 0) consider(centre_y + dy, centre_x + dx, torch::Tensor());
  }
  region = nets::BlendAnonymizerImpl::head_region_at(best_y, best_x, g, gx, budget);
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
