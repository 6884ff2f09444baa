// The one place that converts between OpenCV images and LibTorch tensors.
// Tensors are RGB, CHW (or NCHW for batches), float32 in [0, 1].
// Include only where tensors are needed: it pulls in LibTorch's headers.
#pragma once

#include <vector>

#include <opencv2/core/mat.hpp>
#include <torch/types.h>

namespace scrim {

// 8-bit BGR HxWx3 -> float RGB 3xHxW in [0, 1] (a copy).
torch::Tensor image_to_tensor(const cv::Mat& bgr);

// float RGB 3xHxW (any device) -> 8-bit BGR, values clamped to [0, 1] and rounded.
cv::Mat tensor_to_image(const torch::Tensor& chw);

// A batch of same-sized images -> Nx3xHxW. Resizes to `size` x `size` first when size > 0.
torch::Tensor images_to_batch(const std::vector<cv::Mat>& images, int size = 0);

}  // namespace scrim
