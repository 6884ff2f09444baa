#include "scrim/privacy/attacker.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include <torch/torch.h>

#include "nets/privacy_net.h"
#include "scrim/core/error.h"
#include "scrim/media/tensor_image.h"

namespace scrim {

const std::vector<std::string>& attacker_architectures() {
  static const std::vector<std::string> kArchs = {"small", "resnet18"};
  return kArchs;
}

namespace {

struct Tensors {
  torch::Tensor images;      // [N, 3, S, S] uint8
  torch::Tensor attributes;  // [N, A] float, -1 unknown
  torch::Tensor identity;    // [N] long, -1 unknown
};

Tensors to_tensors(const AttackerData& d, int size, size_t attributes) {
  if (d.images.empty()) throw UsageError("attacker: no images");
  Tensors t;
  t.images = images_to_batch(d.images, size).mul(255.0).round().to(torch::kUInt8);
  auto n = static_cast<int64_t>(d.images.size());
  t.attributes = torch::full({n, static_cast<int64_t>(std::max<size_t>(1, attributes))}, -1.0f);
  for (int64_t i = 0; i < n && attributes > 0; ++i)
    for (size_t a = 0; a < attributes; ++a) t.attributes[i][static_cast<int64_t>(a)] = static_cast<float>(d.attributes.at(i).at(a));
  t.identity = torch::full({n}, -1, torch::kLong);
  for (int64_t i = 0; i < n && i < static_cast<int64_t>(d.identity.size()); ++i) t.identity[i] = d.identity[i];
  return t;
}

// Masked, class-balanced losses: unknown labels (-1) contribute nothing.
torch::Tensor loss_of(const std::pair<torch::Tensor, torch::Tensor>& out, const torch::Tensor& attrs, const torch::Tensor& ids,
                      const torch::Tensor& pos_weight, const torch::Tensor& id_weight) {
  torch::Tensor loss = torch::zeros({});
  if (pos_weight.defined()) {
    auto known = (attrs >= 0).to(torch::kFloat32);
    auto target = attrs.clamp_min(0);
    auto bce = torch::nn::functional::binary_cross_entropy_with_logits(
        out.first, target, torch::nn::functional::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(pos_weight).reduction(torch::kNone));
    loss = (bce * known).sum() / known.sum().clamp_min(1.0);
  }
  if (out.second.defined()) {
    auto mask = ids >= 0;
    if (mask.any().item<bool>()) {
      auto idx = mask.nonzero().squeeze(1);
      loss = loss + torch::nn::functional::cross_entropy(out.second.index_select(0, idx), ids.index_select(0, idx),
                                                         torch::nn::functional::CrossEntropyFuncOptions().weight(id_weight));
    }
  }
  return loss;
}

}  // namespace

AttackerResult train_and_test_attacker(const AttackerData& train, const AttackerData& test, const std::vector<std::string>& names,
                                       int identities, const AttackerOptions& o,
                                       const std::function<void(const AttackerEpoch&)>& on_epoch) {
  auto start = std::chrono::steady_clock::now();
  torch::manual_seed(o.seed);
  std::mt19937_64 rng(o.seed);
  const size_t A = names.size();
  Tensors all = to_tensors(train, o.input_size, A);
  Tensors te = to_tensors(test, o.input_size, A);
  bool with_identity = identities > 0 && (all.identity >= 0).any().item<bool>();

  // The validation split: each epoch is measured there (AttackerEpoch), none is chosen by it.
  int64_t n = all.images.size(0);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  int64_t n_val = std::clamp<int64_t>(static_cast<int64_t>(n * o.val_fraction), 1, std::max<int64_t>(1, n - 1));
  auto val_idx = torch::tensor(std::vector<int64_t>(order.begin(), order.begin() + n_val));
  std::vector<int64_t> train_rows(order.begin() + n_val, order.end());
  if (train_rows.empty()) train_rows = order;

  // Class balance: positive weight neg/pos per attribute, inverse-frequency identity weights.
  auto tr_attrs = all.attributes.index_select(0, torch::tensor(train_rows));
  auto pos = (tr_attrs == 1).sum(0).to(torch::kFloat32), neg = (tr_attrs == 0).sum(0).to(torch::kFloat32);
  auto pos_weight = (neg / pos.clamp_min(1.0)).clamp(0.1, 10.0);
  torch::Tensor id_weight;
  if (with_identity) {
    auto ids = all.identity.index_select(0, torch::tensor(train_rows));
    auto counts = torch::zeros({identities});
    for (int64_t i = 0; i < ids.size(0); ++i)
      if (ids[i].item<int64_t>() >= 0) counts[ids[i].item<int64_t>()] += 1;
    id_weight = (counts.sum() / (counts.clamp_min(1.0) * identities)).clamp(0.1, 10.0);
  }

  auto batch_of = [&](const Tensors& t, const torch::Tensor& idx, bool flip) {
    auto x = t.images.index_select(0, idx).to(torch::kFloat32).div(255.0);
    if (flip) x = x.flip({3});
    return x;
  };
  AttackerResult result;
  result.arch = o.arch;

  // Two networks, the attribute classifier (BCE) and the identity classifier
  // (cross-entropy), trained apart: they were when each had its own early
  // stopping (one shared stopping point let the quickly overfitting identity
  // head end attribute training early), and the figures since compare with them.
  auto fit = [&](bool identity_head) {
    torch::Tensor pw = identity_head ? torch::Tensor() : pos_weight;
    torch::Tensor iw = identity_head ? id_weight : torch::Tensor();
    nets::PrivacyNet net(o.arch, identity_head ? 1 : static_cast<int64_t>(A), identity_head ? identities : 0);
    torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.learning_rate).weight_decay(1e-4));
    // Each epoch measured on the validation split (attacker.h): its loss and what it reads there.
    auto validate = [&](int epoch) {
      torch::NoGradGuard g;
      net->eval();
      AttackerEpoch e;
      e.identity = identity_head;
      e.epoch = epoch;
      int64_t batches = 0;
      std::vector<torch::Tensor> outputs;
      for (int64_t b = 0; b < val_idx.size(0); b += 256) {
        auto part = val_idx.slice(0, b, std::min<int64_t>(val_idx.size(0), b + 256));
        auto out = net->forward(batch_of(all, part, false));
        e.loss += loss_of(out, all.attributes.index_select(0, part), all.identity.index_select(0, part), pw, iw).item<double>();
        outputs.push_back(identity_head ? out.second.argmax(1) : torch::sigmoid(out.first));
        ++batches;
      }
      e.loss /= static_cast<double>(std::max<int64_t>(1, batches));
      net->train();
      const auto predicted = torch::cat(outputs);
      const auto attrs = all.attributes.index_select(0, val_idx);
      const auto ids = all.identity.index_select(0, val_idx);
      if (identity_head) {
        std::vector<int> p, t;
        for (int64_t i = 0; i < ids.size(0); ++i)
          if (ids[i].item<int64_t>() >= 0) p.push_back(static_cast<int>(predicted[i].item<int64_t>())), t.push_back(static_cast<int>(ids[i].item<int64_t>()));
        if (!t.empty()) e.score = top1_accuracy(p, t);
      } else {
        std::vector<AttributeScores> per(A);
        for (size_t a = 0; a < A; ++a)
          for (int64_t i = 0; i < attrs.size(0); ++i) {
            const int label = static_cast<int>(attrs[i][static_cast<int64_t>(a)].item<float>());
            if (label < 0) continue;
            per[a].scores.push_back(predicted[i][static_cast<int64_t>(a)].item<double>());
            per[a].labels.push_back(label);
          }
        const auto cmap = class_mean_average_precision(per);
        if (!cmap.per_attribute_ap.empty()) e.score = cmap.cmap;
      }
      return e;
    };
    AttackerEpoch last;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
      std::shuffle(train_rows.begin(), train_rows.end(), rng);
      net->train();
      for (size_t b = 0; b < train_rows.size(); b += o.batch) {
        std::vector<int64_t> rows(train_rows.begin() + b, train_rows.begin() + std::min(train_rows.size(), b + o.batch));
        if (rows.size() < 2) continue;  // batch norm needs two samples
        auto idx = torch::tensor(rows);
        bool flip = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
        auto loss = loss_of(net->forward(batch_of(all, idx, flip)), all.attributes.index_select(0, idx),
                            all.identity.index_select(0, idx), pw, iw);
        opt.zero_grad();
        loss.backward();
        opt.step();
      }
      last = validate(epoch + 1);
      if (on_epoch) on_epoch(last);
    }
    result.epochs_run = std::max(result.epochs_run, last.epoch);
    if (!identity_head) result.validation_cmap = last.score;
    net->eval();
    return net;
  };
  auto attribute_net = fit(false);
  nets::PrivacyNet identity_net{nullptr};
  if (with_identity) identity_net = fit(true);

  // Test.
  torch::NoGradGuard g;
  std::vector<torch::Tensor> attr_scores, id_pred;
  int64_t nt = te.images.size(0);
  for (int64_t b = 0; b < nt; b += 256) {
    auto idx = torch::arange(b, std::min(nt, b + 256));
    auto x = batch_of(te, idx, false);
    attr_scores.push_back(torch::sigmoid(attribute_net->forward(x).first));
    if (identity_net) id_pred.push_back(identity_net->forward(x).second.argmax(1));
  }
  auto scores = torch::cat(attr_scores);
  std::vector<AttributeScores> per;
  for (size_t a = 0; a < A; ++a) {
    AttributeScores s;
    s.attribute = names[a];
    for (int64_t i = 0; i < nt; ++i) {
      int label = static_cast<int>(te.attributes[i][static_cast<int64_t>(a)].item<float>());
      if (label < 0) continue;
      s.scores.push_back(scores[i][static_cast<int64_t>(a)].item<double>());
      s.labels.push_back(label);
    }
    per.push_back(std::move(s));
  }
  result.attributes = class_mean_average_precision(per);
  if (!id_pred.empty()) {
    auto pred = torch::cat(id_pred);
    std::vector<int> p, t;
    for (int64_t i = 0; i < nt; ++i) {
      if (te.identity[i].item<int64_t>() < 0) continue;
      p.push_back(static_cast<int>(pred[i].item<int64_t>()));
      t.push_back(static_cast<int>(te.identity[i].item<int64_t>()));
    }
    if (!t.empty()) result.identity_top1 = top1_accuracy(p, t);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace scrim
