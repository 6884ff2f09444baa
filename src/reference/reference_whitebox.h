// White-box access to the in-process reference MLLM: its answer loss as a
// differentiable function of the images. Only the reference model allows this;
// scrim uses it for the white-box upper bound and to measure how close the
// zeroth-order estimates come to the true gradient. Private header: LibTorch inside.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "scrim/reference/reference_mllm.h"

namespace scrim {

// Cross-entropy of the reference model's answer distribution against `answers`
// (normalised answer strings), one value per question: [Q]. images: [N, 3, H, W]
// in [0, 1] (gradients flow back to them); groups[q] lists the images (frames)
// question q pools. Throws scrim::Error for an answer outside the model's vocabulary.
torch::Tensor reference_answer_loss(ReferenceMllm& model, const torch::Tensor& images, const std::vector<std::string>& prompts,
                                    const std::vector<std::string>& answers, const std::vector<std::vector<int64_t>>& groups);

// The same forward pass scored both ways, [Q] each: the cross-entropy and minus
// the log-odds margin, max_{j != answer} log p_j - log p_answer (the loss the
// black box's scorer computes from top_logprobs; task/scorer.h answer_margin()).
struct ReferenceAnswerLosses {
  torch::Tensor cross_entropy, margin;
};
ReferenceAnswerLosses reference_answer_losses(ReferenceMllm& model, const torch::Tensor& images, const std::vector<std::string>& prompts,
                                              const std::vector<std::string>& answers, const std::vector<std::vector<int64_t>>& groups);

// The model's network, for code that trains a copy of it (the online surrogate prior:
// its parameters, train/eval mode, and its state in a checkpoint archive).
torch::nn::Module& reference_network(ReferenceMllm& model);

}  // namespace scrim
