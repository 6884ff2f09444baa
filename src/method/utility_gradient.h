// The utility side of the anonymizer's update: a scalar "surrogate" whose
// autograd gradient with respect to the anonymizer's parameters is the
// utility gradient. Two sources:
//  - BlackBoxGradient: zeroth-order estimates of dL_u/dc from the oracle in a
//    probe space (method/probe_space.h: a coarse pixel basis on x', or the
//    control-space anonymizer's blend weights), with the critical-history
//    prior, subspace and query allocation (optim/critical_history.h), reaching
//    the parameters through the surrogate sum(c * stopgrad(g)). The probe pairs
//    alternate between two halves, so every step also measures its own quality
//    (optim::split_half_cosine) without a true gradient;
//  - WhiteBoxGradient: the true gradient through the in-process reference
//    MLLM — the upper bound a black-box method can approach.
// Private header: LibTorch inside.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "method/batch_share.h"
#include "method/blackbox_utility.h"
#include "method/probe_space.h"
#include "method/surrogate_prior.h"
#include "method/training_set.h"
#include "optim/critical_history.h"
#include "optim/zo_estimator.h"
#include "scrim/reference/reference_mllm.h"

namespace scrim::method {

struct UtilityStep {
  torch::Tensor surrogate;      // scalar; its gradient w.r.t. the anonymizer is the utility gradient
  // The same split into the two halves of the probes: surrogate = half_a + half_b (black box only).
  torch::Tensor half_a, half_b;
  double weight_a = 0, weight_b = 0;  // the halves' mean shares of the estimate
  double loss = 0;              // mean utility loss of the batch (black box: at x' itself)
  double utility = -1;          // mean hard utility of the batch; -1 when not measured
  int64_t queries = 0;          // oracle queries this step
  int critical_samples = 0;     // samples whose probes changed the loss
  int64_t pairs = 0, flat_pairs = 0;  // probe pairs, and those whose loss difference is below float resolution
  double prior_alpha = -1;      // the prior's measured cosine with the black box's gradient, batch mean; -1: no prior
  int prior_samples = 0;        // the samples prior_alpha averages over
  // The per-sample split-half cos^2 in the probe space (optim::split_half_cos2), summed over the samples where
  // it is defined, and their count: optim::pooled_split_half_cosine of the two is the batch's own figure.
  double split_half_cos2_sum = 0;
  int split_half_samples = 0;
};

// |L+ - L-| at or below this counts as flat: float32 log-softmax over logits of order 10 resolves ~1e-6.
constexpr double kFlatDifference = 1e-6;

class UtilityGradient {
 public:
  virtual ~UtilityGradient() = default;
  // space: the batch's protected frames and where to probe them; rows: the batch's sample indices.
  UtilityStep step(const ProbeSpace& space, const std::vector<int64_t>& rows, uint64_t seed) {
    return step(space, rows, seed, BatchShare(nullptr, static_cast<int64_t>(rows.size())));
  }
  // Data-parallel: `space` and `rows` hold this rank's share of the global batch. The
  // surrogate is this share's part of the global batch's mean (summed over the ranks, the
  // mean); loss, utility and the halves' weights are this share's parts of global means,
  // the counts this share's; the black box's allocation and history span the global batch.
  virtual UtilityStep step(const ProbeSpace& space, const std::vector<int64_t>& rows, uint64_t seed, const BatchShare& share) = 0;
};

// How probes use a transfer prior v (set_prior). kSubspace: the first pair along v measures its component
// exactly, the rest are orthogonal to it and shrunk by m / (m + D) (the best shrink whatever v's cosine).
// kPrgf: P-RGF as published (Cheng et al. NeurIPS 2019): the scouts (one pair along v, the rest orthogonal,
// isotropic whatever the history) measure v's cosine alpha and |g|, every further pair mixes v and an
// orthogonal direction by lambda*(alpha, D, m) (optim/prior_mixing.h), and the estimate is the mixed pairs'
// plain average, scaled to |g| as all the pairs measure it (its own scale depends on lambda). A sample left
// without mixed pairs gets the subspace estimate.
enum class PriorMix { kSubspace, kPrgf };

struct BlackBoxOptions {
  optim::ZoOptions zo;
  int scout_probes = 2;  // probe pairs per sample before the allocator spends the rest
  PriorMix prior_mix = PriorMix::kSubspace;
};

class BlackBoxGradient : public UtilityGradient {
 public:
  BlackBoxGradient(ProbeScorer& utility, BlackBoxOptions options, optim::CriticalHistory& history, const TrainingSet& data)
      : utility_(utility), options_(options), estimator_(options.zo), history_(history), data_(data) {}
  using UtilityGradient::step;
  // Each sample's probe directions come from its own stream, derived from `seed` and its
  // position in the global batch, so cutting the batch between ranks changes none of them.
  // Ranks exchange the scouts' criticality (the allocator spends the global batch's probes)
  // and the history's new entries (every rank records all of them, in batch order).
  UtilityStep step(const ProbeSpace& space, const std::vector<int64_t>& rows, uint64_t seed, const BatchShare& share) override;
  // A transfer prior (method/surrogate_prior.h): each sample's first probe pair follows it, the rest
  // are used as options.prior_mix says; nullptr: none.
  void set_prior(PriorSource* prior) { prior_ = prior; }

  // The per-sample estimates of the last step, in each sample's probe coordinates (for measurements).
  const std::vector<optim::SplitEstimate>& last_estimates() const { return last_; }
  const optim::ZerothOrderEstimator& estimator() const { return estimator_; }

 private:
  // A random direction in the space (orthogonal to `avoid` when it is defined) and its dual, which
  // the estimate accumulates (the direction itself unless the space has a weighted basis).
  // isotropic: a plain Gaussian even where the history would mix its subspace in (P-RGF's alpha and lambda*
  // assume E[u u^T] = I).
  std::pair<torch::Tensor, torch::Tensor> direction(const ProbeSpace& space, size_t b, torch::Generator& gen, const torch::Tensor& avoid,
                                                    bool isotropic = false) const;
  // P-RGF's alpha from the scouts (the first pair along `prior`, the rest isotropic and orthogonal to it);
  // -1 when there is no orthogonal scout or no signal.
  double scouted_alpha(const torch::Tensor& prior, const std::vector<torch::Tensor>& dirs, const std::vector<double>& diffs) const;
  // P-RGF: |g| from all of a sample's pairs (`scout` scouts, then pairs mixed at `lambda` of size^2 size2).
  double gradient_norm(const torch::Tensor& prior, const std::vector<double>& diffs, int scout, double lambda, double size2) const;
  // The estimate from a first pair along `prior` and the rest orthogonal to it.
  optim::SplitEstimate with_prior(const torch::Tensor& prior, const std::vector<torch::Tensor>& dirs, const std::vector<double>& diffs) const;
  // Records the step's estimates (this share's, flattened float32) and criticalities in the history:
  // with several ranks, every rank records the whole global batch's, in batch order.
  void record_history(const BatchShare& share, const std::vector<int64_t>& rows, const std::vector<torch::Tensor>& estimates,
                      const std::vector<double>& criticality, const StepFailures& failures);

  ProbeScorer& utility_;
  BlackBoxOptions options_;
  optim::ZerothOrderEstimator estimator_;
  optim::CriticalHistory& history_;
  const TrainingSet& data_;
  PriorSource* prior_ = nullptr;
  std::vector<optim::SplitEstimate> last_;
};

class WhiteBoxGradient : public UtilityGradient {
 public:
  // margin_cap: the black box's capped margin (capped_margin_loss), read exactly; 0: uncapped.
  WhiteBoxGradient(ReferenceMllm& model, const TrainingSet& data, double margin_cap = 0)
      : model_(model), data_(data), margin_cap_(margin_cap) {}
  using UtilityGradient::step;
  UtilityStep step(const ProbeSpace& space, const std::vector<int64_t>& rows, uint64_t seed, const BatchShare& share) override;

 private:
  ReferenceMllm& model_;
  const TrainingSet& data_;
  double margin_cap_;
};

}  // namespace scrim::method
