#include "method/privacy_focus.h"

namespace scrim::method {

torch::Tensor keep_top_cells(const torch::Tensor& g, int64_t cells) {
  const int64_t n = g.size(0), grid_cells = g.size(2) * g.size(3);
  if (cells >= grid_cells) return g;
  auto energy = g.pow(2).sum(1).view({n, grid_cells});
  auto top = std::get<1>(energy.topk(std::max<int64_t>(cells, 0), 1));
  auto mask = torch::zeros({n, grid_cells}, g.options()).scatter_(1, top, 1.0);
  return g * mask.view({n, 1, g.size(2), g.size(3)});
}

FocusedPrivacy focused_privacy_loss(nets::BlendAnonymizerImpl& anonymizer, PrivacyAdversary& adversary, const torch::Tensor& x,
                                    int64_t cells) {
  auto w = anonymizer.weights(x);
  auto leaf = w.detach().requires_grad_(true);
  FocusedPrivacy out;
  out.output = nets::BlendAnonymizerImpl::render(anonymizer.bank(x), leaf, anonymizer.options().upsample, anonymizer.options().edge);
  out.loss = adversary.privacy_loss(out.output);
  auto g = torch::autograd::grad({out.loss}, {leaf})[0];
  out.surrogate = (w * keep_top_cells(g, cells).detach()).sum();
  out.output = out.output.detach();
  out.loss = out.loss.detach();
  return out;
}

}  // namespace scrim::method
