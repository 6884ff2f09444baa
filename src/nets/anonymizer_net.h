// The anonymizer f_A: an image-to-image U-Net (Ronneberger et al., MICCAI
// 2015) in the SPAct style (Dave et al., CVPR 2022): DoubleConv blocks,
// bilinear up-sampling, skip connections, sigmoid output. Width and depth are
// configurable; the default is sized for a CPU. Private header: LibTorch inside.
#pragma once

#include <torch/torch.h>

namespace scrim::nets {

struct AnonymizerNetOptions {
  int64_t width = 8;        // channels of the first level; each level below doubles them
  int64_t depth = 3;        // down-sampling steps (the bottleneck is at 1 / 2^depth)
  int64_t input_size = 112; // working resolution; images are resized to it and back
};

class AnonymizerNetImpl : public torch::nn::Module {
 public:
  explicit AnonymizerNetImpl(const AnonymizerNetOptions& options = {});
  // x: [N, 3, H, W] in [0, 1], H and W divisible by 2^depth. Returns the same shape in (0, 1).
  torch::Tensor forward(const torch::Tensor& x);
  const AnonymizerNetOptions& options() const { return options_; }

 private:
  AnonymizerNetOptions options_;
  torch::nn::ModuleList down_{nullptr}, up_{nullptr};
  torch::nn::Sequential bottom_{nullptr};
  torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(AnonymizerNet);

}  // namespace scrim::nets
