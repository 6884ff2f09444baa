// The privacy side of the control-space anonymizer, focused: per image, the
// privacy gradient reaches the blend weights only in the cells where it is
// largest. Why: measured on the synthetic benchmark (docs/results.md), the game's
// privacy gradient holds 30-44% of its energy in the 2% of cells that cover the
// main person's head — the region whose erasure takes four fifths of what
// retrained attackers read — but its small, same-signed remainder over every
// other cell adds up, through the controller's shared parameters (the head's
// bias above all), to a uniform blur that costs utility everywhere and hides
// little. Keeping the top cells leaves the privacy side only the local moves;
// the utility side still acts everywhere. Private header: LibTorch inside.
#pragma once

#include <torch/torch.h>

#include "method/privacy_adversary.h"
#include "nets/blend_anonymizer.h"

namespace scrim::method {

// g [N, K, G, G] with, per image, all but the `cells` cells of largest norm over K set to zero.
torch::Tensor keep_top_cells(const torch::Tensor& g, int64_t cells);

struct FocusedPrivacy {
  torch::Tensor loss;       // the attackers' privacy loss on the protected images (the value to log)
  torch::Tensor surrogate;  // sum(w * stopgrad(focused dL/dw)): its parameter gradient is the focused one
  torch::Tensor output;     // the protected images x' [N, 3, S, S]
};

// The privacy loss of `adversary` on the anonymizer's output for x [N, 3, S, S], with
// its gradient with respect to the blend weights kept in `cells` cells per image.
FocusedPrivacy focused_privacy_loss(nets::BlendAnonymizerImpl& anonymizer, PrivacyAdversary& adversary, const torch::Tensor& x,
                                    int64_t cells);

}  // namespace scrim::method
