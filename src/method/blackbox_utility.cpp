#include "method/blackbox_utility.h"

#include <algorithm>
#include <cmath>

#include "scrim/media/tensor_image.h"

namespace scrim::method {

std::vector<UtilityLosses> BlackBoxUtility::evaluate_many(const std::vector<std::pair<int64_t, torch::Tensor>>& work) {
  std::vector<OracleRequest> requests;
  for (const auto& [row, probes] : work) {
    auto p = probes.detach().clamp(0, 1);
    auto frames = p.size(1) / 3;
    for (int64_t i = 0; i < p.size(0); ++i) {
      OracleRequest r;
      r.prompt = data_.prompts[static_cast<size_t>(row)];
      r.options.top_logprobs = loss_ == UtilityLoss::kHardLabel ? 0 : top_logprobs_;
      r.options.encoding = ImageEncoding::kPng;  // lossless: JPEG would erase the probes
      for (int64_t f = 0; f < frames; ++f) r.images.push_back(tensor_to_image(p[i].slice(0, 3 * f, 3 * f + 3)));
      requests.push_back(std::move(r));
    }
  }
  auto replies = query_batch(oracle_, requests, concurrency_);
  queries_ += static_cast<int64_t>(replies.size());
  std::vector<UtilityLosses> out;
  size_t k = 0;
  for (const auto& [row, probes] : work) {
    const auto& scorer = *data_.scorers[static_cast<size_t>(row)];
    const Sample& sample = *data_.samples[static_cast<size_t>(row)];
    std::vector<double> loss, utility;
    for (int64_t i = 0; i < probes.size(0); ++i, ++k) {
      TaskScore s = scorer.score(sample, *data_.manifest, replies[k]);
      utility.push_back(s.utility);
      if (loss_ == UtilityLoss::kNegLogProb && s.probability >= 0) loss.push_back(-std::log(std::max(s.probability, 1e-4)));
      else if (loss_ == UtilityLoss::kHardLabel) loss.push_back(1.0 - s.utility);
      else loss.push_back(replies[k].logprobs.empty() ? s.loss : capped_margin_loss(s.loss, margin_cap_));  // no log-probs: 1 - utility
    }
    out.push_back({torch::tensor(loss, torch::kFloat64).to(torch::kFloat32), torch::tensor(utility, torch::kFloat64).to(torch::kFloat32)});
  }
  return out;
}

}  // namespace scrim::method
