#include "method/privacy_adversary.h"

#include <cmath>

namespace scrim::method {

namespace F = torch::nn::functional;

torch::Tensor uninformative_loss_per_row(const torch::Tensor& attribute_logits, const torch::Tensor& identity_logits,
                                         const torch::Tensor& attribute_target, const torch::Tensor& identity_target,
                                         double identity_weight) {
  if (!(identity_weight >= 0)) throw std::invalid_argument("uninformative_loss: the identity weight must not be negative");
  // Bernoulli KL: BCE against the target minus the target's own entropy.
  auto t = attribute_target.to(attribute_logits.options()).clamp(1e-6, 1 - 1e-6).unsqueeze(0).expand_as(attribute_logits);
  auto entropy = -(t * t.log() + (1 - t) * (1 - t).log());
  auto bce = F::binary_cross_entropy_with_logits(attribute_logits, t, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
  auto loss = (bce - entropy).sum(1) / static_cast<double>(std::max<int64_t>(1, attribute_logits.size(1)));
  if (identity_weight > 0 && identity_logits.defined() && identity_logits.numel() > 0) {
    auto q = identity_target.to(identity_logits.options()).clamp_min(1e-8);
    q = q / q.sum();
    auto logp = torch::log_softmax(identity_logits, 1);
    loss = loss + identity_weight * (q * (q.log().unsqueeze(0) - logp)).sum(1);
  }
  return loss;
}

torch::Tensor uninformative_loss(const torch::Tensor& attribute_logits, const torch::Tensor& identity_logits,
                                 const torch::Tensor& attribute_target, const torch::Tensor& identity_target, double identity_weight) {
  return uninformative_loss_per_row(attribute_logits, identity_logits, attribute_target, identity_target, identity_weight).mean();
}

torch::Tensor random_erasing(const torch::Tensor& x, int count) {
  if (count <= 0 || x.numel() == 0) return x;
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const int64_t lo = std::max<int64_t>(1, std::min(h, w) / 16), hi = std::max<int64_t>(lo + 1, std::min(h, w) / 4 + 1);
  auto out = x.clone();
  const auto sides_t = torch::randint(lo, hi, {n, count, 2}, torch::kLong);
  const auto corners_t = torch::rand({n, count, 2}, torch::kFloat64);
  const auto strength_t = torch::rand({n, count}, torch::kFloat64) * 0.5 + 0.5;
  auto sides = sides_t.accessor<int64_t, 3>();
  auto corners = corners_t.accessor<double, 3>();
  auto strength = strength_t.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < count; ++c) {
      const int64_t bh = sides[i][c][0], bw = sides[i][c][1];
      const auto y0 = static_cast<int64_t>(corners[i][c][0] * static_cast<double>(h - bh + 1));
      const auto x0 = static_cast<int64_t>(corners[i][c][1] * static_cast<double>(w - bw + 1));
      const double a = strength[i][c];
      out[i].slice(1, y0, y0 + bh).slice(2, x0, x0 + bw).mul_(1 - a).add_(0.5 * a);
    }
  return out;
}

PrivacyAdversary::PrivacyAdversary(AdversaryOptions options, int64_t attributes, int64_t identities)
    : options_(std::move(options)), attributes_(attributes), identities_(identities) {
  if (options_.target != "prevalence" && options_.target != "half")
    throw std::invalid_argument("privacy target must be prevalence or half, not " + options_.target);
  if (!(options_.identity_weight >= 0)) throw std::invalid_argument("the identity weight must not be negative");
  for (int i = 0; i < std::max(1, options_.members); ++i) members_.push_back(fresh_member());
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  attribute_positives_ = torch::zeros({std::max<int64_t>(attributes_, 1)}, f64);
  attribute_known_ = torch::zeros({std::max<int64_t>(attributes_, 1)}, f64);
  identity_counts_ = torch::zeros({identities_ > 1 ? identities_ : 0}, f64);
}

torch::Tensor PrivacyAdversary::attribute_target() const {
  auto half = torch::full_like(attribute_known_, 0.5);
  if (options_.target == "half") return half.to(torch::kFloat32);
  return torch::where(attribute_known_ > 0, attribute_positives_ / attribute_known_.clamp_min(1), half).to(torch::kFloat32);
}

torch::Tensor PrivacyAdversary::identity_target() const {
  auto n = identity_counts_.size(0);
  auto uniform = torch::full({n}, 1.0 / std::max<int64_t>(1, n), torch::kFloat64);
  if (options_.target == "half" || identity_counts_.sum().item<double>() == 0) return uniform.to(torch::kFloat32);
  return (identity_counts_ / identity_counts_.sum()).to(torch::kFloat32);
}

PrivacyAdversary::Member PrivacyAdversary::fresh_member() const {
  Member m;
  m.net = nets::PrivacyNet(options_.arch, std::max<int64_t>(attributes_, 1), identities_ > 1 ? identities_ : 0);
  m.net->to(options_.device);
  m.optimizer = std::make_unique<torch::optim::Adam>(m.net->parameters(), torch::optim::AdamOptions(options_.learning_rate));
  return m;
}

torch::Tensor PrivacyAdversary::privacy_loss(const torch::Tensor& x, double identity_weight) {
  return privacy_loss_per_picture(x, identity_weight).mean();
}

torch::Tensor PrivacyAdversary::privacy_loss_per_picture(const torch::Tensor& x, double identity_weight) {
  auto total = torch::zeros({x.size(0)}, x.options());
  const auto attr_target = attribute_target(), id_target = identity_target();
  for (auto& m : members_) {
    m.net->eval();  // batch statistics would let the anonymizer satisfy the members without removing content
    auto [attr, ident] = m.net->forward(x);
    total = total + uninformative_loss_per_row(attr, ident, attr_target, id_target, identity_weight);
    m.net->train();
  }
  return total / static_cast<double>(members_.size());
}

torch::Tensor PrivacyAdversary::supervised_loss(Member& m, const torch::Tensor& x, const torch::Tensor& attr_labels,
                                                const torch::Tensor& id_labels) const {
  auto [attr, ident] = m.net->forward(x);
  auto known = attr_labels.ge(0).to(torch::kFloat32);
  auto loss = torch::zeros({}, x.options());
  if (attributes_ > 0 && known.sum().item<double>() > 0) {
    auto bce = F::binary_cross_entropy_with_logits(attr, attr_labels.clamp_min(0),
                                                   F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
    loss = loss + (bce * known).sum() / known.sum();
  }
  auto id_known = id_labels.ge(0);
  if (ident.defined() && ident.numel() > 0 && id_known.any().item<bool>()) {
    auto rows = id_known.nonzero().view(-1);
    loss = loss + F::cross_entropy(ident.index_select(0, rows), id_labels.index_select(0, rows));
  }
  return loss;
}

double PrivacyAdversary::update(const torch::Tensor& x_in, const torch::Tensor& attr_in, const torch::Tensor& id_in) {
  auto x = random_erasing(x_in.detach(), options_.erasing);
  auto attr_labels = attr_in.to(options_.device), id_labels = id_in.to(options_.device);
  count_labels(attr_in, id_in);
  double sum = 0;
  for (auto& m : members_) {
    m.net->train();
    m.optimizer->zero_grad();
    auto loss = supervised_loss(m, x, attr_labels, id_labels);
    if (!loss.requires_grad()) continue;
    loss.backward();
    m.optimizer->step();
    sum += loss.item<double>();
  }
  return sum / static_cast<double>(members_.size());
}

double PrivacyAdversary::held_out_loss(const torch::Tensor& x, const torch::Tensor& attr_in, const torch::Tensor& id_in) {
  torch::NoGradGuard no_grad;
  auto attr_labels = attr_in.to(options_.device), id_labels = id_in.to(options_.device);
  double sum = 0;
  for (auto& m : members_) {
    m.net->eval();
    sum += supervised_loss(m, x.detach(), attr_labels, id_labels).item<double>();
    m.net->train();
  }
  return sum / static_cast<double>(members_.size());
}

void PrivacyAdversary::count_labels(const torch::Tensor& attr_labels, const torch::Tensor& id_labels) {
  auto a = attr_labels.to(torch::kCPU, torch::kFloat64);
  if (a.numel() > 0 && a.size(1) == attribute_known_.size(0)) {
    attribute_known_ += a.ge(0).to(torch::kFloat64).sum(0);
    attribute_positives_ += a.eq(1).to(torch::kFloat64).sum(0);
  }
  auto ids = id_labels.to(torch::kCPU, torch::kLong);
  auto n = identity_counts_.size(0);
  if (n > 0 && ids.numel() > 0) {
    auto known = ids.masked_select(ids.ge(0) & ids.lt(n));
    if (known.numel() > 0) identity_counts_ += torch::bincount(known, {}, n).to(torch::kFloat64);
  }
}

bool PrivacyAdversary::maybe_restart(int64_t step) {
  if (options_.restart_every <= 0 || step == 0 || step % options_.restart_every != 0) return false;
  auto which = static_cast<size_t>((step / options_.restart_every - 1) % static_cast<int64_t>(members_.size()));
  members_[which] = fresh_member();
  return true;
}

void PrivacyAdversary::average_toward(const PrivacyAdversary& other, int64_t n) {
  if (n < 1) throw std::invalid_argument("a running mean counts from 1");
  const auto mine = tensors(), theirs = other.tensors();
  if (mine.size() != theirs.size()) throw std::invalid_argument("averaging toward an adversary of another shape");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < mine.size(); ++i) {
    if (!mine[i].sizes().equals(theirs[i].sizes())) throw std::invalid_argument("averaging toward an adversary of another shape");
    // The label counts (the first three) and integer buffers (batch-norm's batch count) are copied, not averaged.
    if (i < 3 || !mine[i].is_floating_point()) mine[i].copy_(theirs[i]);
    else mine[i].add_(theirs[i].to(mine[i].device()) - mine[i], 1.0 / static_cast<double>(n));
  }
}

void PrivacyAdversary::save(torch::serialize::OutputArchive& archive) const {
  archive.write("attribute_positives", attribute_positives_, /*is_buffer=*/true);
  archive.write("attribute_known", attribute_known_, true);
  archive.write("identity_counts", identity_counts_, true);
  for (size_t i = 0; i < members_.size(); ++i) {
    torch::serialize::OutputArchive net, opt;
    members_[i].net->save(net);
    members_[i].optimizer->save(opt);
    archive.write("member" + std::to_string(i), net);
    archive.write("member" + std::to_string(i) + "_optimizer", opt);
  }
}

std::vector<torch::Tensor> PrivacyAdversary::tensors() const {
  std::vector<torch::Tensor> out{attribute_positives_, attribute_known_, identity_counts_};
  for (const auto& m : members_) {
    for (const auto& p : m.net->parameters()) out.push_back(p);
    for (const auto& b : m.net->buffers()) out.push_back(b);
  }
  return out;
}

void PrivacyAdversary::load(torch::serialize::InputArchive& archive) {
  // Checkpoints written before the label prior have no counts: those start again from zero.
  for (auto [key, counts] : {std::pair{"attribute_positives", &attribute_positives_}, {"attribute_known", &attribute_known_},
                             {"identity_counts", &identity_counts_}}) {
    torch::Tensor read;  // undefined: try_read hands over its own tensor instead of writing into a shared one
    if (archive.try_read(key, read, true)) *counts = read;
  }
  for (size_t i = 0; i < members_.size(); ++i) {
    torch::serialize::InputArchive net, opt;
    archive.read("member" + std::to_string(i), net);
    archive.read("member" + std::to_string(i) + "_optimizer", opt);
    members_[i].net->load(net);
    members_[i].optimizer->load(opt);
  }
}

}  // namespace scrim::method
