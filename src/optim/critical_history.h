// Critical-history enhanced optimization (our reconstruction of Hui et al.,
// IJCV 2026; see DESIGN.md). A black-box MLLM's utility is nearly piecewise
// constant: most probes change nothing, and the informative ("critical")
// samples are those near a decision boundary. The history keeps
//  (a) per sample: the last estimate and its criticality, reused as a prior
//      direction when the sample returns;
//  (b) a global subspace: the top-k directions of recent critical estimates,
//      mixed into the probe distribution as in Guided ES (Maheswaranathan et
//      al., ICML 2019): u = sqrt(a) e_n + sqrt((1 - a) n / k) U e_k;
//  (c) a query allocator that spends a batch's probes on critical samples first.
// Each part can be switched off (--history none|prior|subspace|full).
// Directions are handled in the coarse basis (grid x grid per channel).
// Private header: LibTorch inside.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace scrim::optim {

enum class HistoryMode { kNone, kPrior, kSubspace, kFull };
HistoryMode parse_history_mode(const std::string& text);  // throws UsageError

struct HistoryOptions {
  HistoryMode mode = HistoryMode::kFull;
  int subspace_rank = 4;          // k
  int memory = 32;                // recent critical estimates kept for the subspace
  double isotropic_weight = 0.5;  // a: share of the probe variance outside the subspace
  double critical_threshold = 0;  // criticality above this counts as critical
};

class CriticalHistory {
 public:
  explicit CriticalHistory(HistoryOptions options) : options_(options) {}

  // Records a sample's estimate (coarse coordinates, any shape) and its criticality
  // (e.g. the mean absolute loss difference over its probes).
  void record(const std::string& sample_id, const torch::Tensor& coarse_estimate, double criticality);

  // The last estimate of a sample, when the prior is on and the sample was critical.
  std::optional<torch::Tensor> prior(const std::string& sample_id) const;

  // An orthonormal basis [k', D] of the recent critical estimates (k' <= k; empty when none or off).
  torch::Tensor subspace() const;

  // A probe direction in coarse coordinates of `shape`: isotropic, or Guided-ES mixed with the subspace.
  torch::Tensor sample(const std::vector<int64_t>& shape, torch::Generator& gen) const;

  // Splits `budget` probes over samples: `minimum` each, the rest to the samples
  // with the highest scouting criticality first (all to uncritical ones only when
  // none is critical). Without the allocator (none/prior/subspace): an even split.
  std::vector<int> allocate(const std::vector<double>& scout_criticality, int budget, int minimum) const;

  const HistoryOptions& options() const { return options_; }
  // Everything a checkpoint needs to resume exactly.
  std::map<std::string, torch::Tensor> state() const;
  void load_state(const std::map<std::string, torch::Tensor>& state);

 private:
  bool uses_prior() const { return options_.mode == HistoryMode::kPrior || options_.mode == HistoryMode::kFull; }
  bool uses_subspace() const { return options_.mode == HistoryMode::kSubspace || options_.mode == HistoryMode::kFull; }

  HistoryOptions options_;
  std::map<std::string, std::pair<torch::Tensor, double>> per_sample_;
  std::deque<torch::Tensor> recent_;  // flattened critical estimates, newest last
};

}  // namespace scrim::optim
