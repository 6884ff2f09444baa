// A transfer prior for the black-box utility gradient: the white-box gradient
// of a local differentiable utility model (a scrim reference MLLM that is not
// the black box) in the probe space's own coordinates. The estimator spends
// one probe pair on this direction — which measures the black box's own
// directional derivative there, so the prior's sign and scale come from the
// black box — and the rest on directions orthogonal to it (P-RGF, Cheng et
// al., NeurIPS 2019; the subspace variant of its prior-guided estimator).
// The prior model is fixed: learning it online from the black box's replies
// (LeBA, Simulator Attack) is not built. Private header: LibTorch inside.
#pragma once

#include <memory>

#include <torch/torch.h>

#include "method/probe_space.h"
#include "method/training_set.h"
#include "scrim/reference/reference_mllm.h"

namespace scrim::method {

class PriorSource {
 public:
  virtual ~PriorSource() = default;
  // A prior direction for sample b of `space` (training-set row `row`), in its coordinates.
  virtual torch::Tensor prior(const ProbeSpace& space, size_t b, int64_t row) = 0;
};

class SurrogatePrior : public PriorSource {
 public:
  SurrogatePrior(std::shared_ptr<ReferenceMllm> model, const TrainingSet& data) : model_(std::move(model)), data_(data) {}
  // d/dc of the surrogate's log-odds margin loss at the sample's point, through the images the probes would send.
  torch::Tensor prior(const ProbeSpace& space, size_t b, int64_t row) override;

 private:
  std::shared_ptr<ReferenceMllm> model_;
  const TrainingSet& data_;
};

}  // namespace scrim::method
