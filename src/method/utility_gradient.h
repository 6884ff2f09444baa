// The utility side of the anonymizer's update: a scalar "surrogate" whose
// autograd gradient with respect to the anonymizer's parameters is the
// utility gradient. Two sources:
//  - BlackBoxGradient: zeroth-order estimates of dL_u/dx' from the oracle,
//    with the critical-history prior, subspace and query allocation
//    (optim/critical_history.h), reaching the parameters through the
//    surrogate sum(x' * stopgrad(g));
//  - WhiteBoxGradient: the true gradient through the in-process reference
//    MLLM — the upper bound a black-box method can approach.
// Private header: LibTorch inside.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "method/blackbox_utility.h"
#include "method/training_set.h"
#include "optim/critical_history.h"
#include "optim/zo_estimator.h"
#include "scrim/oracle/reference_mllm.h"

namespace scrim::method {

struct UtilityStep {
  torch::Tensor surrogate;      // scalar; its gradient w.r.t. the anonymizer is the utility gradient
  double loss = 0;              // mean utility loss of the batch (black box: at x' itself)
  double utility = -1;          // mean hard utility of the batch; -1 when not measured
  int64_t queries = 0;          // oracle queries this step
  int critical_samples = 0;     // samples whose probes changed the loss
};

class UtilityGradient {
 public:
  virtual ~UtilityGradient() = default;
  // x_prime: the protected frames [sum T, 3, S, S] (attached to the anonymizer's graph);
  // rows: the batch's sample indices; groups: each sample's frame rows in x_prime.
  virtual UtilityStep step(const torch::Tensor& x_prime, const std::vector<int64_t>& rows,
                           const std::vector<std::vector<int64_t>>& groups, uint64_t seed) = 0;
};

struct BlackBoxOptions {
  optim::ZoOptions zo;
  int scout_probes = 2;  // probe pairs per sample before the allocator spends the rest
};

class BlackBoxGradient : public UtilityGradient {
 public:
  BlackBoxGradient(BlackBoxUtility& utility, BlackBoxOptions options, optim::CriticalHistory& history, const TrainingSet& data)
      : utility_(utility), options_(options), estimator_(options.zo), history_(history), data_(data) {}
  UtilityStep step(const torch::Tensor& x_prime, const std::vector<int64_t>& rows, const std::vector<std::vector<int64_t>>& groups,
                   uint64_t seed) override;

  // The per-sample image-space estimates of the last step, [sum T, 3, S, S] (for measurements).
  const torch::Tensor& last_estimate() const { return last_; }

 private:
  torch::Tensor coarse_direction(const std::vector<int64_t>& shape, torch::Generator& gen) const;

  BlackBoxUtility& utility_;
  BlackBoxOptions options_;
  optim::ZerothOrderEstimator estimator_;
  optim::CriticalHistory& history_;
  const TrainingSet& data_;
  torch::Tensor last_;
};

class WhiteBoxGradient : public UtilityGradient {
 public:
  WhiteBoxGradient(ReferenceMllm& model, const TrainingSet& data) : model_(model), data_(data) {}
  UtilityStep step(const torch::Tensor& x_prime, const std::vector<int64_t>& rows, const std::vector<std::vector<int64_t>>& groups,
                   uint64_t seed) override;

 private:
  ReferenceMllm& model_;
  const TrainingSet& data_;
};

}  // namespace scrim::method
