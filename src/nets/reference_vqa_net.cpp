#include "nets/reference_vqa_net.h"

namespace scrim::nets {
namespace {

// conv3x3 -> batch norm -> ReLU, appended to `seq`.
void conv_block(torch::nn::Sequential& seq, int64_t in, int64_t out, int64_t stride) {
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  seq->push_back(torch::nn::BatchNorm2d(out));
  seq->push_back(torch::nn::ReLU(true));
}

}  // namespace

ReferenceVqaNetImpl::ReferenceVqaNetImpl(const ReferenceVqaNetOptions& o) : options_(o) {
  int64_t w = o.width;
  // 112 -> 112 -> 56 -> 28 -> 28 -> 14 -> 14. A full-resolution stem keeps
  // the 2-pixel limbs, faces and letters; a 14x14 map lets the attention
  // single out 7-pixel objects.
  torch::nn::Sequential trunk;
  conv_block(trunk, 3, w / 2, 1);
  conv_block(trunk, w / 2, w, 2);
  conv_block(trunk, w, w * 3 / 2, 2);
  conv_block(trunk, w * 3 / 2, w * 2, 1);
  conv_block(trunk, w * 2, w * 3, 2);
  conv_block(trunk, w * 3, w * 4, 1);
  trunk_ = register_module("trunk", trunk);
  channels_ = w * 4 + 2;  // + x, y coordinate channels
  int64_t hidden = w * 4;
  embedding_ = register_module("embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(o.vocab_size, o.embed).padding_idx(0)));
  question_ = register_module("question", torch::nn::Linear(o.embed, hidden));
  attend_features_ = register_module("attend_features", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels_, hidden, 1)));
  attend_logits_ = register_module("attend_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, o.glimpses, 1)));
  hidden_ = register_module("hidden", torch::nn::Linear(channels_ * o.glimpses + hidden, 256));
  output_ = register_module("output", torch::nn::Linear(256, o.answers));
}

torch::Tensor ReferenceVqaNetImpl::encode_images(const torch::Tensor& images) {
  auto x = images;
  if (x.size(2) != options_.input_size || x.size(3) != options_.input_size)
    x = torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{options_.input_size, options_.input_size})
                                                  .mode(torch::kBilinear).align_corners(false));
  auto f = trunk_->forward(x - 0.5);
  auto n = f.size(0), h = f.size(2), w = f.size(3);
  auto ys = torch::linspace(-1, 1, h, f.options()).view({1, 1, h, 1}).expand({n, 1, h, w});
  auto xs = torch::linspace(-1, 1, w, f.options()).view({1, 1, 1, w}).expand({n, 1, h, w});
  return torch::cat({f, xs, ys}, 1);
}

torch::Tensor ReferenceVqaNetImpl::answer(const torch::Tensor& features, const torch::Tensor& tokens,
                                          const std::vector<std::vector<int64_t>>& images_of_question) {
  // Bag of words: mean of the embeddings of the non-padding tokens.
  auto mask = (tokens > 0).to(torch::kFloat32).unsqueeze(2);
  auto emb = (embedding_->forward(tokens) * mask).sum(1) / mask.sum(1).clamp_min(1.0);
  auto q = torch::relu(question_->forward(emb));  // [Q, hidden]
  std::vector<torch::Tensor> pooled;
  for (size_t i = 0; i < images_of_question.size(); ++i) {
    auto idx = torch::tensor(images_of_question[i], torch::kLong).to(features.device());
    auto f = features.index_select(0, idx);  // [T, C, h, w]
    auto qi = q[static_cast<int64_t>(i)].view({1, -1, 1, 1});
    auto a = attend_logits_->forward(torch::relu(attend_features_->forward(f) + qi));  // [T, G, h, w]
    a = torch::softmax(a.flatten(2), 2);                                               // [T, G, hw]
    auto att = torch::bmm(a, f.flatten(2).transpose(1, 2));                             // [T, G, C]
    pooled.push_back(att.flatten(1).mean(0));                                          // frames averaged
  }
  auto v = torch::stack(pooled);
  return output_->forward(torch::relu(hidden_->forward(torch::cat({v, q}, 1))));
}

torch::Tensor ReferenceVqaNetImpl::forward(const torch::Tensor& images, const torch::Tensor& tokens,
                                           const std::vector<std::vector<int64_t>>& images_of_question) {
  return answer(encode_images(images), tokens, images_of_question);
}

}  // namespace scrim::nets
