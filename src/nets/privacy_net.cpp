#include "nets/privacy_net.h"

#include "scrim/core/error.h"

namespace scrim::nets {
namespace {

// ResNet basic block: two 3x3 convolutions with a shortcut.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
    conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(out));
    conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
      shortcut_ = register_module("shortcut", torch::nn::Sequential(
                                                  torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                                                  torch::nn::BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(bn1_->forward(conv1_->forward(x)));
    y = bn2_->forward(conv2_->forward(y));
    return torch::relu(y + (shortcut_ ? shortcut_->forward(x) : x));
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential shortcut_{nullptr};
};
TORCH_MODULE(BasicBlock);

void conv_bn_relu(torch::nn::Sequential& s, int64_t in, int64_t out, int64_t stride) {
  s->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  s->push_back(torch::nn::BatchNorm2d(out));
  s->push_back(torch::nn::ReLU(true));
}

}  // namespace

PrivacyNetImpl::PrivacyNetImpl(const std::string& arch, int64_t attributes, int64_t identities) {
  torch::nn::Sequential trunk;
  int64_t features = 0;
  if (arch == "small") {
    conv_bn_relu(trunk, 3, 32, 2);
    conv_bn_relu(trunk, 32, 64, 2);
    conv_bn_relu(trunk, 64, 128, 2);
    conv_bn_relu(trunk, 128, 128, 2);
    features = 128;
  } else if (arch == "resnet18") {
    const int64_t w = 24;
    conv_bn_relu(trunk, 3, w, 2);
    trunk->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
    int64_t in = w;
    for (int stage = 0; stage < 4; ++stage) {
      int64_t out = w << stage;
      trunk->push_back(BasicBlock(in, out, stage == 0 ? 1 : 2));
      trunk->push_back(BasicBlock(out, out, 1));
      in = out;
    }
    features = in;
  } else {
    throw UsageError("unknown attacker architecture '" + arch + "' (use small or resnet18)");
  }
  trunk->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)));
  trunk->push_back(torch::nn::Flatten());
  trunk_ = register_module("trunk", trunk);
  attribute_head_ = register_module("attributes", torch::nn::Linear(features, std::max<int64_t>(1, attributes)));
  if (identities > 0) identity_head_ = register_module("identity", torch::nn::Linear(features, identities));
}

std::pair<torch::Tensor, torch::Tensor> PrivacyNetImpl::forward(const torch::Tensor& images) {
  auto f = trunk_->forward(images - 0.5);
  return {attribute_head_->forward(f), identity_head_ ? identity_head_->forward(f) : torch::Tensor()};
}

}  // namespace scrim::nets
