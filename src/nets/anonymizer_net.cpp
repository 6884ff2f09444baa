#include "nets/anonymizer_net.h"

#include "scrim/core/error.h"

namespace scrim::nets {
namespace {

// (conv3x3 -> batch norm -> ReLU) x 2
torch::nn::Sequential double_conv(int64_t in, int64_t out) {
  return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false)), torch::nn::BatchNorm2d(out),
                               torch::nn::ReLU(true), torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)),
                               torch::nn::BatchNorm2d(out), torch::nn::ReLU(true));
}

}  // namespace

AnonymizerNetImpl::AnonymizerNetImpl(const AnonymizerNetOptions& o) : options_(o) {
  if (o.width < 1 || o.depth < 1 || o.depth > 5) throw UsageError("AnonymizerNet: width >= 1 and depth in 1..5");
  down_ = register_module("down", torch::nn::ModuleList());
  up_ = register_module("up", torch::nn::ModuleList());
  int64_t c = o.width;
  down_->push_back(double_conv(3, c));
  for (int64_t d = 1; d < o.depth; ++d, c *= 2) down_->push_back(double_conv(c, c * 2));
  bottom_ = register_module("bottom", double_conv(c, c));
  // Each up step concatenates the skip connection (c channels) with the up-sampled map (c channels).
  for (int64_t d = 0; d < o.depth; ++d) {
    int64_t out = d + 1 < o.depth ? c / 2 : c;
    up_->push_back(double_conv(2 * c, out));
    c = out;
  }
  head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, 3, 1)));
}

torch::Tensor AnonymizerNetImpl::forward(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  std::vector<torch::Tensor> skips;
  auto h = x;
  for (size_t d = 0; d < down_->size(); ++d) {
    h = down_[d]->as<torch::nn::Sequential>()->forward(h);
    skips.push_back(h);
    h = F::max_pool2d(h, F::MaxPool2dFuncOptions(2));
  }
  h = bottom_->forward(h);
  for (size_t d = 0; d < up_->size(); ++d) {
    const auto& skip = skips[skips.size() - 1 - d];
    h = F::interpolate(h, F::InterpolateFuncOptions().size(std::vector<int64_t>{skip.size(2), skip.size(3)}).mode(torch::kBilinear).align_corners(false));
    h = up_[d]->as<torch::nn::Sequential>()->forward(torch::cat({skip, h}, 1));
  }
  return torch::sigmoid(head_->forward(h));
}

}  // namespace scrim::nets
