// The utility loss L_u(x') as the black box sees it: protected frames are sent
// to the oracle (losslessly, as PNG) with the sample's task prompt, and the
// task scorer turns the reply into a loss (minus the log-odds margin of the
// right answer when the service gives log-probs, task/scorer.h; else 1 - utility). Private header: LibTorch inside.
#pragma once

#include <algorithm>

#include <atomic>
#include <vector>

#include <torch/torch.h>

#include "method/training_set.h"
#include "scrim/oracle/oracle.h"

namespace scrim::method {

struct UtilityLosses {
  torch::Tensor loss;     // [P]
  torch::Tensor utility;  // [P] hard utility (right or wrong; VQA: soft accuracy)
};

// Scores probe images of samples (the oracle through the task scorer; tests: a known function).
class ProbeScorer {
 public:
  virtual ~ProbeScorer() = default;
  // Several samples' probes [P, T*3, H, W] (row, probes) -> their losses and utilities.
  virtual std::vector<UtilityLosses> evaluate_many(const std::vector<std::pair<int64_t, torch::Tensor>>& work) = 0;
};

// What a reply's loss is: minus the log-odds margin (the default), -log p of the
// right answer (saturates on confident answers; kept to measure that), or 1 - utility (hard labels).
enum class UtilityLoss { kMargin, kNegLogProb, kHardLabel };

// The margin loss capped where the answer is right by `cap` nats or more: max(-margin, -cap)
// (the confidence parameter kappa of Carlini & Wagner's loss, IEEE S&P 2017). Utility is the
// right answer; confidence the task does not need is not defended, so the privacy side may
// spend it. cap <= 0: uncapped.
inline double capped_margin_loss(double loss, double cap) { return cap > 0 ? std::max(loss, -cap) : loss; }

class BlackBoxUtility : public ProbeScorer {
 public:
  // margin_cap: capped_margin_loss's cap for the margin loss (0: uncapped).
  BlackBoxUtility(Oracle& oracle, const TrainingSet& data, int concurrency, int top_logprobs, UtilityLoss loss, double margin_cap = 0)
      : oracle_(oracle), data_(data), concurrency_(concurrency), top_logprobs_(top_logprobs), loss_(loss), margin_cap_(margin_cap) {}

  // Losses of P versions of sample `row`: probes [P, T*3, H, W] (values clamped to [0, 1]).
  UtilityLosses evaluate(int64_t row, const torch::Tensor& probes) { return evaluate_many({{row, probes}})[0]; }
  // Several samples' probes in one batch of queries (the concurrency applies across them).
  std::vector<UtilityLosses> evaluate_many(const std::vector<std::pair<int64_t, torch::Tensor>>& work) override;

  int64_t queries() const { return queries_; }

 private:
  Oracle& oracle_;
  const TrainingSet& data_;
  int concurrency_;
  int top_logprobs_;
  UtilityLoss loss_;
  double margin_cap_;
  std::atomic<int64_t> queries_{0};
};

}  // namespace scrim::method
