#include "method/placement_search.h"

namespace scrim::method {
namespace F = torch::nn::functional;

torch::Tensor placement_target(nets::BlendAnonymizerImpl& blend, const torch::Tensor& x, const PrivacyLossFn& privacy_loss) {
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
  auto probe = x.detach().clone().requires_grad_(true);
  auto grad = torch::autograd::grad({privacy_loss(probe)}, {probe})[0];
  const int64_t g = logits.size(2), gx = logits.size(3);
  torch::NoGradGuard no_grad;
  // First-order change of the loss per pixel if it were hidden, averaged per cell: negative where hiding helps.
  auto change = (grad * (hidden - x.detach())).sum(1, true);
  auto per_cell = F::adaptive_avg_pool2d(change, F::AdaptiveAvgPool2dFuncOptions(std::vector<int64_t>{g, gx}));
  auto gain = (-per_cell).clamp_min(0);
  auto total = gain.sum({1, 2, 3}, true);
  auto has = (total > 0).to(x.scalar_type());
  auto region = nets::BlendAnonymizerImpl::head_region(gain / total.clamp_min(1e-30), budget);
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
