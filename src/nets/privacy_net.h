// The attacker networks: a shared trunk with a multi-label attribute head and
// an identity head. Private header: LibTorch inside.
//   small:    4 strided conv blocks (32-64-128-128) and global average pooling
//   resnet18: ResNet-18 layout (He et al., CVPR 2016: 4 stages x 2 basic
//             blocks) at a quarter of the width, for a CPU
#pragma once

#include <string>

#include <torch/torch.h>

namespace scrim::nets {

class PrivacyNetImpl : public torch::nn::Module {
 public:
  PrivacyNetImpl(const std::string& arch, int64_t attributes, int64_t identities);
  // Returns {attribute logits [N, A], identity logits [N, I] (or an empty tensor)}.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& images);

 private:
  torch::nn::Sequential trunk_{nullptr};
  torch::nn::Linear attribute_head_{nullptr}, identity_head_{nullptr};
};
TORCH_MODULE(PrivacyNet);

}  // namespace scrim::nets
