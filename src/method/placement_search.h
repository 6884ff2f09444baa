// The hidden region's placement found by search, then learned. With a hide budget the control-space anonymizer
// places its region by the softmax of per-cell scores, and the privacy side's gradient reaches a cell's score in
// proportion to that cell's current probability: a region that starts on the sky gets no signal from a head a
// few cells away, and stays (measured: draws whose region hid the sky, or a third of the face box, docs/results.md
// "an eleventh look"). Here each picture's target placement is searched over every position instead — the
// head-shaped region where hiding, to first order, lowers the attackers' privacy loss most: the loss's input
// gradient times the change hiding makes (the bank's hidden appearance minus the picture), summed per cell — and
// the scores are trained toward it by cross-entropy, a gradient that reaches every cell whatever its probability.
// An amortised search: a network trained to predict, per picture, the region whose removal most destroys a
// classifier's evidence (Dabkowski & Gal, "Real Time Image Saliency for Black Box Classifiers", NeurIPS 2017),
// with the first-order occlusion score of gradient-times-change (Zeiler & Fergus, ECCV 2014, linearised).
// Priced by utility (placement_target with a UtilityPrice): the region that hides the face best also took the collar,
// and the shirt's colour with it (docs/results.md, "a twelfth look"). Here the best few positions by privacy gain are
// each hidden, a local surrogate MLLM answers every question on the picture, and the region goes where privacy gain
// minus the rise of its utility loss is largest (priced by the answers' cross-entropy instead, to first order or so
// measured, it stayed on the collar: a confident answer's cross-entropy hardly moves; "a thirteenth look").
// Measured (placement_target with a per-picture privacy loss): the priced region changed 0.56-0.61 of the face box
// and sat 0.1-0.2 face heights above it, where the same region centred on the face changes 0.74-0.75 ("a fifteenth
// look"). Gradient times change may misjudge what filling a whole head does; so each candidate's privacy gain is
// measured as its utility cost is — the attackers' loss on the picture with the candidate hidden, an occlusion
// test at the positions that matter (Zeiler & Fergus) — and the best is refined at half-cell offsets. Measured, the
// region sat higher still (0.07 face heights, in two seeds): first order was not what held it above the face.
// Private header: LibTorch inside.
#pragma once

#include <functional>

#include <torch/torch.h>

#include "nets/blend_anonymizer.h"

namespace scrim::method {

using PrivacyLossFn = std::function<torch::Tensor(const torch::Tensor&)>;

// What hiding costs the task: `loss` maps pictures x [N, 3, S, S] to each one's utility loss [N] in the privacy
// loss's units (e.g. a local surrogate MLLM's, minus the answer's log-odds margin, averaged over the picture's
// questions as the privacy loss averages its attributes); a position is worth `preference` times its first-order
// privacy gain minus 1 - preference times what hiding there raises that loss (1: privacy alone).
struct UtilityPrice {
  PrivacyLossFn loss;
  double preference = 0.5;
};

// Per picture of x [N, 3, S, S]: the distribution over the G x G cells the blend's placement scores should take,
// [N, 1, G, G] — the head-shaped region of the blend's budget (BlendAnonymizerImpl::head_region) where it covers the
// most first-order privacy gain (only cells where hiding lowers privacy_loss count), normalised to sum to 1; all
// zeros for a picture where hiding lowers it nowhere. No gradient reaches the blend or the loss's parameters.
// Needs the blend's budget > 0 (its head shape's size). With a price, the region is the head ellipse centred on the
// cell, among the kPricedPositions that cover the most privacy gain, where gain minus cost is largest.
// With `measured` (each picture's privacy loss, [N]), a position's gain is measured instead: how much that loss falls
// with the candidate hidden as the blend renders it (its up-sampler); the best position is then refined among its
// eight half-cell neighbours, and the region is centred there (off the cell grid).
constexpr int64_t kPricedPositions = 9;
torch::Tensor placement_target(nets::BlendAnonymizerImpl& blend, const torch::Tensor& x, const PrivacyLossFn& privacy_loss,
                               const UtilityPrice* price = nullptr, const PrivacyLossFn* measured = nullptr);

// The cross-entropy of the blend's placement softmax for x against `target` (placement_target), averaged over the
// pictures that have a target (0 when none has); differentiable in the blend's parameters.
torch::Tensor placement_loss(nets::BlendAnonymizerImpl& blend, const torch::Tensor& x, const torch::Tensor& target);

}  // namespace scrim::method
