#include "scrim/media/tensor_image.h"

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "scrim/core/error.h"

namespace scrim {

torch::Tensor image_to_tensor(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) throw UsageError("image_to_tensor(): expected 8-bit BGR image");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  auto hwc = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, {static_cast<int64_t>(rgb.step[0]), 3, 1},
                              torch::kUInt8);
  return hwc.permute({2, 0, 1}).to(torch::kFloat32).div_(255.0).contiguous();
}

cv::Mat tensor_to_image(const torch::Tensor& chw) {
  if (chw.dim() != 3 || chw.size(0) != 3) throw UsageError("tensor_to_image(): expected a 3xHxW tensor");
  auto hwc = chw.detach().to(torch::kCPU, torch::kFloat32).clamp(0.0, 1.0).mul(255.0).round_()
                 .to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  cv::Mat rgb(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);  // copies out of the tensor's storage
  return bgr;
}

torch::Tensor images_to_batch(const std::vector<cv::Mat>& images, int size) {
  if (images.empty()) throw UsageError("images_to_batch(): no images");
  std::vector<torch::Tensor> items;
  items.reserve(images.size());
  for (const auto& img : images) {
    if (size > 0 && (img.cols != size || img.rows != size)) {
      cv::Mat resized;
      cv::resize(img, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
      items.push_back(image_to_tensor(resized));
    } else {
      items.push_back(image_to_tensor(img));
    }
  }
  return torch::stack(items);
}

}  // namespace scrim
