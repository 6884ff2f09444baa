// The privacy side of the min-max game: an ensemble of attacker networks f_B
// (attributes + identity) trained on the anonymizer's current output, with
// periodic restarts so the anonymizer cannot overfit one attacker (the
// ensemble/restarting strategy of Wu et al., TPAMI 2020). The anonymizer's
// privacy loss pushes every member's outputs toward the uninformative: 0.5 for
// each attribute, a uniform distribution over identities.
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
  torch::Device device = torch::kCPU;
};

class PrivacyAdversary {
 public:
  PrivacyAdversary(AdversaryOptions options, int64_t attributes, int64_t identities);

  // L_p for the anonymizer: 0 when every member is uninformative. Differentiable in x.
  torch::Tensor privacy_loss(const torch::Tensor& x);
  // One training step of every member on (detached) protected images; returns the
  // members' mean supervised loss (higher: the images leak less).
  double update(const torch::Tensor& x, const torch::Tensor& attribute_labels, const torch::Tensor& identity_labels);
  // Restarts one member when the schedule says so; returns whether it did.
  bool maybe_restart(int64_t step);

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  struct Member {
    nets::PrivacyNet net{nullptr};
    std::unique_ptr<torch::optim::Adam> optimizer;
  };
  Member fresh_member() const;

  AdversaryOptions options_;
  int64_t attributes_, identities_;
  std::vector<Member> members_;
};

}  // namespace scrim::method
