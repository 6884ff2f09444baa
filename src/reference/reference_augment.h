// Training-time changes to the reference MLLM's pictures: mild corruptions, so
// the model is not broken by every change to an image, and small translations,
// so it reads a picture instead of recognising it. Private header: LibTorch
// inside.
#pragma once

#include <random>

#include <torch/torch.h>

namespace scrim {

// Separable Gaussian blur of [N, C, H, W] with edge replication.
torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma);

// One of: unchanged, blur, noise, brightness/contrast jitter, 2x down-sampling
// and back. x: [N, 3, H, W] in [0, 1]; the same change for all N (frames).
torch::Tensor augment(torch::Tensor x, std::mt19937_64& rng);

// x moved by (dx, dy) pixels (right, down), the uncovered border filled with
// the edge's colour.
torch::Tensor translate(const torch::Tensor& x, int64_t dx, int64_t dy);

}  // namespace scrim
