// A BDQ encoder with learnable parameters (Kumawat & Nagahara, "Privacy-
// Preserving Action Recognition via Motion Difference Quantization", CVPR
// 2022): a Gaussian blur whose sigma is learned, then quantisation into
// `levels` values with learned bin boundaries. Training uses the paper's soft
// quantisation (a sum of steep sigmoids, one per boundary), evaluation the hard
// one. The temporal difference of the original applies to video at protection
// time (`bdq:model=...`); training sees single frames. Private header: LibTorch inside.
#pragma once

#include <torch/torch.h>

namespace scrim::nets {

struct BdqEncoderOptions {
  int64_t levels = 6;         // quantisation levels (levels - 1 learned boundaries)
  double sigma = 2.0;         // initial blur, in pixels at input_size
  double sharpness = 40.0;    // slope of the soft steps
  int64_t input_size = 112;   // working resolution
};

class BdqEncoderImpl : public torch::nn::Module {
 public:
  explicit BdqEncoderImpl(const BdqEncoderOptions& options = {});
  // x: [N, 3, H, W] in [0, 1] -> the quantised image in [0, 1].
  torch::Tensor forward(const torch::Tensor& x);
  double sigma() const;
  // The boundaries in [0, 1], sorted.
  std::vector<double> boundaries() const;
  const BdqEncoderOptions& options() const { return options_; }

 private:
  BdqEncoderOptions options_;
  torch::Tensor log_sigma_, boundaries_;
};
TORCH_MODULE(BdqEncoder);

}  // namespace scrim::nets
