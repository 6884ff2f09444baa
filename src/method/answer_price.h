// What hiding part of a picture costs a local model's answers: the price `--placement search-utility` puts on the
// placement search's positions (method/placement_search.h, UtilityPrice). The price is the loss the pre-training's
// surrogate step weighs — minus the right answer's log-odds margin, capped at --utility-margin — averaged over every
// question asked about the picture, as the privacy loss averages its attributes. The margin, not the cross-entropy:
// a confident answer's cross-entropy hardly moves when part of its evidence is covered, its margin does (measured:
// priced by the cross-entropy the region stayed on the shirt's collar, docs/results.md "a thirteenth look").
// Private header: LibTorch inside.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "method/training_set.h"
#include "scrim/reference/reference_mllm.h"

namespace scrim::method {

// Per sample of `set`, every sample asking about the same picture (the same images, or the same frames of the same
// video), itself included, in the set's order.
std::vector<std::vector<int64_t>> questions_on_each_picture(const TrainingSet& set);

// The local `model`'s utility loss for each picture of `rows` [N], with `pictures` [N, 3, S, S] standing in for each
// one's middle frame (the frame the attackers and the placement search see): minus the right answer's log-odds
// margin (no lower than -margin_cap when margin_cap > 0), averaged over the picture's questions
// (questions_on_each_picture). On `pictures`' device; no gradient. No queries.
torch::Tensor picture_answer_loss(ReferenceMllm& model, const TrainingSet& set, const torch::Tensor& pictures,
                                  const std::vector<int64_t>& rows, const std::vector<std::vector<int64_t>>& questions,
                                  double margin_cap);

}  // namespace scrim::method
