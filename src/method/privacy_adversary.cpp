#include "method/privacy_adversary.h"

#include <cmath>

namespace scrim::method {

namespace F = torch::nn::functional;

PrivacyAdversary::PrivacyAdversary(AdversaryOptions options, int64_t attributes, int64_t identities)
    : options_(std::move(options)), attributes_(attributes), identities_(identities) {
  for (int i = 0; i < std::max(1, options_.members); ++i) members_.push_back(fresh_member());
}

PrivacyAdversary::Member PrivacyAdversary::fresh_member() const {
  Member m;
  m.net = nets::PrivacyNet(options_.arch, std::max<int64_t>(attributes_, 1), identities_ > 1 ? identities_ : 0);
  m.net->to(options_.device);
  m.optimizer = std::make_unique<torch::optim::Adam>(m.net->parameters(), torch::optim::AdamOptions(options_.learning_rate));
  return m;
}

torch::Tensor PrivacyAdversary::privacy_loss(const torch::Tensor& x) {
  auto total = torch::zeros({}, x.options());
  for (auto& m : members_) {
    m.net->eval();  // the anonymizer's step must not move the members' batch statistics
    auto [attr, ident] = m.net->forward(x);
    // Binary cross-entropy against 0.5, minus its minimum ln 2.
    auto p = torch::sigmoid(attr);
    total = total + (F::binary_cross_entropy_with_logits(attr, torch::full_like(p, 0.5)) - std::log(2.0));
    if (ident.defined() && ident.numel() > 0) {
      // Cross-entropy of the uniform distribution against the prediction, minus its minimum ln I.
      auto logp = torch::log_softmax(ident, 1);
      total = total + (-logp.mean(1).mean() - std::log(static_cast<double>(ident.size(1))));
    }
    m.net->train();
  }
  return total / static_cast<double>(members_.size());
}

double PrivacyAdversary::update(const torch::Tensor& x_in, const torch::Tensor& attr_in, const torch::Tensor& id_in) {
  auto x = x_in.detach();
  auto attr_labels = attr_in.to(options_.device), id_labels = id_in.to(options_.device);
  double sum = 0;
  for (auto& m : members_) {
    m.net->train();
    m.optimizer->zero_grad();
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
    if (!loss.requires_grad()) continue;
    loss.backward();
    m.optimizer->step();
    sum += loss.item<double>();
  }
  return sum / static_cast<double>(members_.size());
}

bool PrivacyAdversary::maybe_restart(int64_t step) {
  if (options_.restart_every <= 0 || step == 0 || step % options_.restart_every != 0) return false;
  auto which = static_cast<size_t>((step / options_.restart_every - 1) % static_cast<int64_t>(members_.size()));
  members_[which] = fresh_member();
  return true;
}

void PrivacyAdversary::save(torch::serialize::OutputArchive& archive) const {
  for (size_t i = 0; i < members_.size(); ++i) {
    torch::serialize::OutputArchive net, opt;
    members_[i].net->save(net);
    members_[i].optimizer->save(opt);
    archive.write("member" + std::to_string(i), net);
    archive.write("member" + std::to_string(i) + "_optimizer", opt);
  }
}

void PrivacyAdversary::load(torch::serialize::InputArchive& archive) {
  for (size_t i = 0; i < members_.size(); ++i) {
    torch::serialize::InputArchive net, opt;
    archive.read("member" + std::to_string(i), net);
    archive.read("member" + std::to_string(i) + "_optimizer", opt);
    members_[i].net->load(net);
    members_[i].optimizer->load(opt);
  }
}

}  // namespace scrim::method
