#include "method/probe_space.h"

#include "nets/blend_anonymizer.h"

namespace scrim::method {

namespace {

torch::Tensor rows_of(const std::vector<int64_t>& group) { return torch::tensor(group, torch::kLong); }

}  // namespace

PixelProbeSpace::PixelProbeSpace(torch::Tensor x_prime, std::vector<std::vector<int64_t>> groups, const optim::ZerothOrderEstimator& basis)
    : ProbeSpace(std::move(groups)), x_prime_(std::move(x_prime)), basis_(basis) {
  auto xd = x_prime_.detach().to(torch::kCPU);
  for (const auto& g : groups_) images_.push_back(xd.index_select(0, rows_of(g)).reshape({-1, xd.size(2), xd.size(3)}));
}

torch::Tensor PixelProbeSpace::images(size_t b, const torch::Tensor& offsets) const {
  return images_[b].unsqueeze(0) + basis_.expand(offsets, images_[b]);
}

torch::Tensor PixelProbeSpace::to_image(size_t b, const torch::Tensor& coarse) const {
  return basis_.expand(coarse, images_[b]).view({-1, 3, x_prime_.size(2), x_prime_.size(3)});
}

torch::Tensor PixelProbeSpace::surrogate(const std::vector<torch::Tensor>& g) const {
  auto full = torch::zeros(x_prime_.sizes(), x_prime_.options().requires_grad(false));
  for (size_t b = 0; b < g.size(); ++b) full.index_copy_(0, rows_of(groups_[b]).to(full.device()), to_image(b, g[b]).to(full.device()));
  return optim::ZerothOrderEstimator::surrogate(x_prime_, full) / static_cast<double>(g.size());
}

ControlProbeSpace::ControlProbeSpace(torch::Tensor bank, torch::Tensor weights, torch::Tensor residual,
                                     std::vector<std::vector<int64_t>> groups, torch::Tensor features, nets::Upsample upsample,
                                     nets::Edge edge)
    : ProbeSpace(std::move(groups)),
      bank_(bank.detach()),
      weights_(std::move(weights)),
      features_(features.defined() ? features.detach() : features),
      upsample_(upsample),
      edge_(edge) {
  bases_.resize(groups_.size());
  auto rendered = nets::BlendAnonymizerImpl::render(bank_, weights_, upsample_, edge_);
  residual_ = residual.defined() ? residual.detach() : torch::zeros_like(rendered);
  x_prime_ = rendered + residual_;
  output_ = residual.defined() ? (rendered + residual).clamp(0, 1) : rendered;  // as BlendAnonymizer::forward
}

std::vector<int64_t> ControlProbeSpace::shape(size_t b) const {
  return {static_cast<int64_t>(groups_[b].size()), weights_.size(1), weights_.size(2), weights_.size(3)};
}

torch::Tensor ControlProbeSpace::point(size_t b) const { return weights_.detach().index_select(0, rows_of(groups_[b]).to(weights_.device())).cpu(); }

torch::Tensor ControlProbeSpace::images(size_t b, const torch::Tensor& offsets) const {
  auto rows = rows_of(groups_[b]).to(bank_.device());
  auto bank = bank_.index_select(0, rows), residual = residual_.index_select(0, rows);  // [T, K, 3, S, S], [T, 3, S, S]
  auto p = offsets.size(0), t = bank.size(0);
  auto w = (point(b).unsqueeze(0) + offsets).to(bank.device()).reshape({p * t, bank.size(1), weights_.size(2), weights_.size(3)});
  auto banks = bank.unsqueeze(0).expand({p, -1, -1, -1, -1, -1}).reshape({p * t, bank.size(1), 3, bank.size(3), bank.size(4)});
  auto out =
      nets::BlendAnonymizerImpl::render(banks, w, upsample_, edge_).view({p, t, 3, bank.size(3), bank.size(4)}) + residual.unsqueeze(0);
  return out.reshape({p, t * 3, bank.size(3), bank.size(4)}).cpu();
}

torch::Tensor ControlProbeSpace::constrain(const torch::Tensor& direction) const {
  // Dimension -3 is the bank (k) in both [T, K, G, G] and [P, T, K, G, G].
  return direction - direction.mean(-3, true);
}

ProbeSpace::Basis ControlProbeSpace::basis(size_t b) const {
  if (!features_.defined()) return {};
  if (bases_[b].q.defined()) return bases_[b];
  torch::NoGradGuard no_grad;
  auto rows = rows_of(groups_[b]).to(features_.device());
  auto m = point(b).to(torch::kFloat64);                                                  // [T, K, G, G]
  auto f = features_.index_select(0, rows).cpu().to(torch::kFloat64);                     // [T, C, G, G]
  f = torch::cat({f, torch::ones_like(f.slice(1, 0, 1))}, 1);                              // the bias as a constant feature
  auto t = m.size(0), k = m.size(1), c = f.size(1);
  // d m_j / d W[k, c] = m_j (delta_jk - m_k) f_c per cell: column (k, c) of the head's Jacobian.
  auto eye = torch::eye(k, torch::kFloat64).view({k, 1, 1, k, 1, 1});                     // [k, 1, 1, j, 1, 1]
  auto mj = m.unsqueeze(0).unsqueeze(0);                                                   // [1, 1, T, j, G, G]
  auto mk = m.permute({1, 0, 2, 3}).unsqueeze(1).unsqueeze(3);                             // [k, 1, T, 1, G, G]
  auto fc = f.permute({1, 0, 2, 3}).unsqueeze(0).unsqueeze(3);                             // [1, c, T, 1, G, G]
  auto columns = (mj * (eye - mk) * fc).reshape({k * c, -1});                              // [k c, T K G G]
  auto svd = torch::linalg_svd(columns, /*full_matrices=*/false);
  auto s = std::get<1>(svd), vh = std::get<2>(svd);
  int64_t r = (s > 1e-6 * s.max()).sum().item<int64_t>();
  r = std::max<int64_t>(1, r);
  bases_[b] = {vh.slice(0, 0, r).to(torch::kFloat32).reshape({-1, t, k, m.size(2), m.size(3)}), s.slice(0, 0, r).to(torch::kFloat32)};
  return bases_[b];
}

torch::Tensor ControlProbeSpace::surrogate(const std::vector<torch::Tensor>& g) const {
  auto full = torch::zeros(weights_.sizes(), weights_.options().requires_grad(false));
  for (size_t b = 0; b < g.size(); ++b) full.index_copy_(0, rows_of(groups_[b]).to(full.device()), g[b].to(full.device()).to(full.scalar_type()));
  return optim::ZerothOrderEstimator::surrogate(weights_, full) / static_cast<double>(g.size());
}


std::unique_ptr<ProbeSpace> make_probe_space(const AnonymizerModel& model, const torch::Tensor& x, std::vector<std::vector<int64_t>> groups,
                                             const optim::ZerothOrderEstimator& basis, bool head_basis) {
  if (auto* blend = blend_anonymizer(model)) {
    auto residual = blend->options().residual ? blend->residual(x) : torch::Tensor();
    auto features = head_basis ? blend->features(x).detach() : torch::Tensor();
    return std::make_unique<ControlProbeSpace>(blend->bank(x), blend->weights(x), residual, std::move(groups), features,
                                               blend->options().upsample, blend->options().edge);
  }
  return std::make_unique<PixelProbeSpace>(model.forward(x), std::move(groups), basis);
}

}  // namespace scrim::method
