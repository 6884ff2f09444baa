// A trained blend anonymizer rendered with other options (shape, budget, up-sampler, edge): a new model with the
// same weights and buffers (a fitted fill's colour), for the benchmarks that ask where another rendering would hide
// or how the estimator sees it without training again. Benchmarks only: it reads a private nets header.
#pragma once

#include <string>

#include <torch/torch.h>

#include "method/anonymizer_model.h"
#include "nets/blend_anonymizer.h"
#include "scrim/core/error.h"

namespace scrim::bench {

// Empty strings and a budget of 0 keep the model's own option. Throws UsageError for a model that is not a blend
// anonymizer, or a name that does not parse.
inline method::AnonymizerModel rerendered(const method::AnonymizerModel& model, const std::string& shape, double budget,
                                          const std::string& upsample, const std::string& edge) {
  auto* blend = method::blend_anonymizer(model);
  if (!blend) throw UsageError("--shape, --budget, --upsample and --edge apply to blend anonymizers only");
  auto options = blend->options();
  if (!shape.empty()) options.shape = nets::parse_hide_shape(shape);
  if (budget > 0) options.budget = budget;
  if (!upsample.empty()) options.upsample = nets::parse_upsample(upsample);
  if (!edge.empty()) options.edge = nets::parse_edge(edge);
  auto other = method::make_anonymizer_model("blend", options.input_size, options.width, 0, 0, options);
  torch::NoGradGuard no_grad;
  auto from = model.net().parameters(), to = other.net().parameters();
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  auto from_buffers = model.net().buffers(), to_buffers = other.net().buffers();
  for (size_t i = 0; i < from_buffers.size(); ++i) to_buffers[i].copy_(from_buffers[i]);
  other.net().eval();
  return other;
}

}  // namespace scrim::bench
