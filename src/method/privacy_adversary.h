// The privacy side of the min-max game: an ensemble of attacker networks f_B
// (attributes + identity) trained on the anonymizer's current output, with
// periodic restarts so the anonymizer cannot overfit one attacker (the
// ensemble/restarting strategy of Wu et al., TPAMI 2020). The anonymizer's
// privacy loss pushes every member's outputs toward the uninformative: what an
// attacker that reads nothing answers, the label prior (each attribute's
// prevalence, the identities' frequencies, counted from the labels the members
// train on) — not 0.5 and uniform, which for an attribute of prevalence 0.88 is
// a wrong answer the anonymizer can only reach by fooling the members. The
// members run in eval mode inside the loss, so the anonymizer cannot satisfy
// them through BatchNorm batch statistics.
// Private header: LibTorch inside.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "nets/privacy_net.h"

namespace scrim::method {

struct AdversaryOptions {
  std::string arch = "small";
  int members = 2;
  int restart_every = 0;  // steps between restarts of the oldest member; 0: never
  double learning_rate = 1e-3;
  // What the loss calls uninformative: "prevalence" (the label prior) or
  // "half" (0.5 per attribute, uniform identities: the earlier target).
  std::string target = "prevalence";
  // The identity KL's weight in the privacy loss (the attributes' mean KL has weight 1). The members
  // learn identity either way; the weight only says how much the anonymizer is asked to hide it.
  double identity_weight = 1.0;
  // Random erasing of the members' training images (Zhong et al., AAAI 2020): this many
  // rectangles per image, each blended toward the bank's grey. A member that has seen
  // erased regions answers them with what the rest of the picture says — near the prior
  // when the rest says nothing — so erasing the evidence lowers the privacy loss; a member
  // that never saw one answers an erased head arbitrarily, and the loss stops rewarding
  // erasure once the anonymizer has drifted from the raw pictures (measured:
  // bench/privacy_gradient_bench.cpp). 0: off.
  int erasing = 0;
  torch::Device device = torch::kCPU;
};

// `count` random rectangles per image of x [N, 3, S, S] (sides S/16 to S/4, anywhere),
// each blended toward grey 0.5 at a strength drawn from [0.5, 1]. Uses torch's default generator.
torch::Tensor random_erasing(const torch::Tensor& x, int count);

// KL(target || prediction) averaged over the attributes (Bernoulli) plus identity_weight times the
// identities' (categorical), averaged over the batch: 0 exactly when the
// logits give the target probabilities. attribute_target: [A]; identity_target: [I]
// (ignored when identity_logits is undefined or empty).
torch::Tensor uninformative_loss(const torch::Tensor& attribute_logits, const torch::Tensor& identity_logits,
                                 const torch::Tensor& attribute_target, const torch::Tensor& identity_target,
                                 double identity_weight = 1.0);
// The same per row [N], before the batch's mean.
torch::Tensor uninformative_loss_per_row(const torch::Tensor& attribute_logits, const torch::Tensor& identity_logits,
                                         const torch::Tensor& attribute_target, const torch::Tensor& identity_target,
                                         double identity_weight = 1.0);

class PrivacyAdversary {
 public:
  PrivacyAdversary(AdversaryOptions options, int64_t attributes, int64_t identities);

  // L_p for the anonymizer: 0 when every member is uninformative. Differentiable in x.
  torch::Tensor privacy_loss(const torch::Tensor& x) { return privacy_loss(x, options_.identity_weight); }
  // The same with another identity weight (the diagnostics' split into the attribute and the identity terms).
  torch::Tensor privacy_loss(const torch::Tensor& x, double identity_weight);
  // Each picture's L_p [N] (privacy_loss is their mean): what hiding part of one picture gains, measured.
  torch::Tensor privacy_loss_per_picture(const torch::Tensor& x) { return privacy_loss_per_picture(x, options_.identity_weight); }
  torch::Tensor privacy_loss_per_picture(const torch::Tensor& x, double identity_weight);
  // One training step of every member on (detached) protected images; returns the
  // members' mean supervised loss (higher: the images leak less).
  double update(const torch::Tensor& x, const torch::Tensor& attribute_labels, const torch::Tensor& identity_labels);
  // The members' mean supervised loss on images they do not train on (eval mode, no gradient): what
  // they read of pictures they have not seen. Higher: the images leak less.
  double held_out_loss(const torch::Tensor& x, const torch::Tensor& attribute_labels, const torch::Tensor& identity_labels);
  // The outputs the loss pushes toward: [A] attribute probabilities and [I]
  // identity probabilities (the label prior so far; 0.5 and uniform before any
  // label, or always with target "half").
  torch::Tensor attribute_target() const;
  torch::Tensor identity_target() const;
  // Restarts one member when the schedule says so; returns whether it did.
  bool maybe_restart(int64_t step);
  // Moves every member's parameters and floating-point buffers a 1/n step toward `other`'s (an adversary of the same
  // options and sizes) and copies its label counts and integer buffers. Called with n = 1, 2, 3, ... after each of
  // other's updates, this adversary holds the running mean of other's weights over those updates (Polyak averaging;
  // Izmailov et al., "Averaging Weights Leads to Wider Optima and Better Generalization", UAI 2018); n = 1 copies.
  // Its optimizers are untouched: an average is read, not trained.
  void average_toward(const PrivacyAdversary& other, int64_t n);

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);
  // Every member's parameters and buffers and the label counts (to compare copies across processes).
  std::vector<torch::Tensor> tensors() const;

 private:
  struct Member {
    nets::PrivacyNet net{nullptr};
    std::unique_ptr<torch::optim::Adam> optimizer;
  };
  Member fresh_member() const;
  // A member's attribute BCE over the known labels plus its identity cross-entropy.
  torch::Tensor supervised_loss(Member& m, const torch::Tensor& x, const torch::Tensor& attribute_labels,
                                const torch::Tensor& identity_labels) const;
  void count_labels(const torch::Tensor& attribute_labels, const torch::Tensor& identity_labels);

  AdversaryOptions options_;
  int64_t attributes_, identities_;
  std::vector<Member> members_;
  // Label counts over every update: positives and known labels per attribute, identity frequencies.
  torch::Tensor attribute_positives_, attribute_known_, identity_counts_;
};

}  // namespace scrim::method
