// A prior for the black-box utility gradient: the white-box gradient of a local
// differentiable utility model (a scrim reference MLLM that is not the black
// box) in the probe space's own coordinates. The estimator spends one probe
// pair on this direction — which measures the black box's own directional
// derivative there, so the prior's sign and scale come from the black box — and
// the rest on directions orthogonal to it (P-RGF, Cheng et al., NeurIPS 2019;
// the subspace variant of its prior-guided estimator).
//
// Learned online (learning_rate > 0): every probe pair the black box answers is
// a measured directional derivative, free training data. The surrogate is
// trained to reproduce them — its own differences along the same directions,
// correlated with the black box's (a scale-free loss, so log-prob margins and
// hard labels both teach it) — so what the black box said is kept as a model,
// not as a buffer (LeBA, Yang et al. NeurIPS 2020; Simulator Attack, Ma et al.
// CVPR 2021). Private header: LibTorch inside.
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
  // What the black box answered along sample b's probe directions: (L+ - L-) at radius mu per direction.
  virtual void observe(const ProbeSpace& space, size_t b, int64_t row, const std::vector<torch::Tensor>& directions,
                       const std::vector<double>& differences, double mu) {}
};

struct SurrogatePriorOptions {
  double learning_rate = 0;  // Adam on the surrogate's parameters; 0: a fixed transfer prior
  int max_pairs = 8;         // probe pairs per sample it learns from (its forward passes cost 2 images each)
};

class SurrogatePrior : public PriorSource {
 public:
  SurrogatePrior(std::shared_ptr<ReferenceMllm> model, const TrainingSet& data, SurrogatePriorOptions options = {});
  // d/dc of the surrogate's log-odds margin loss at the sample's point, through the images the probes would send.
  torch::Tensor prior(const ProbeSpace& space, size_t b, int64_t row) override;
  // One update toward the black box's differences (online only). Records the agreement before it.
  void observe(const ProbeSpace& space, size_t b, int64_t row, const std::vector<torch::Tensor>& directions,
               const std::vector<double>& differences, double mu) override;

  // The cosine between the surrogate's and the black box's differences over the probes observed since the
  // last call (mean per sample; NaN when none had a signal), and the number of samples it covers. Resets.
  std::pair<double, int> take_agreement();

  bool online() const { return options_.learning_rate > 0; }
  // The learned state (the surrogate's weights and its optimizer), for the run's checkpoint.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  std::shared_ptr<ReferenceMllm> model_;
  const TrainingSet& data_;
  SurrogatePriorOptions options_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  double agreement_sum_ = 0;
  int agreement_count_ = 0;
};

}  // namespace scrim::method
