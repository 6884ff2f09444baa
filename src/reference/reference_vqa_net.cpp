#include "reference/reference_vqa_net.h"

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
  // 112 -> 56 (space-to-depth: every pixel reaches the first convolution, so
  // 2-pixel limbs, faces and letters survive) -> 28 -> 14. A 14x14 map lets
  // the attention single out 7-pixel objects.
  torch::nn::Sequential trunk;
  trunk->push_back(torch::nn::PixelUnshuffle(torch::nn::PixelUnshuffleOptions(2)));
  conv_block(trunk, 12, w, 1);
  conv_block(trunk, w, w * 3 / 2, 2);
  conv_block(trunk, w * 3 / 2, w * 2, 1);
  conv_block(trunk, w * 2, w * 3, 2);
  conv_block(trunk, w * 3, w * 4, 1);
  trunk_ = register_module("trunk", trunk);
  channels_ = w * 4 + 2;  // + x, y coordinate channels
  int64_t hidden = w * 4;
  embedding_ = register_module("embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(o.vocab_size, o.embed).padding_idx(0)));
  question_ = register_module("question", torch::nn::GRU(torch::nn::GRUOptions(o.embed, hidden).batch_first(true)));
  if (o.word_path) words_ = register_module("words", torch::nn::Linear(o.embed, hidden));
  // Channels of the question-modulated map: the blocks run once per (question,
  // frame) pair, so they are narrower than the trunk.
  int64_t mapped = o.film_blocks > 0 ? w * 2 : hidden;
  if (o.film_blocks == 0) film_ = register_module("film", torch::nn::Linear(hidden, 2 * hidden));
  attend_features_ = register_module("attend_features", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels_, mapped, 1)));
  for (int64_t k = 0; k < o.film_blocks; ++k) {
    FilmBlock b;
    std::string name = "block" + std::to_string(k) + "_";
    b.reduce = register_module(name + "reduce", torch::nn::Conv2d(torch::nn::Conv2dOptions(mapped, mapped, 1)));
    b.spatial = register_module(name + "spatial", torch::nn::Conv2d(torch::nn::Conv2dOptions(mapped, mapped, 3).padding(1).bias(false)));
    b.norm = register_module(name + "norm", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(mapped).affine(false)));
    b.film = register_module(name + "film", torch::nn::Linear(hidden, 2 * mapped));
    blocks_.push_back(b);
  }
  attend_logits_ = register_module("attend_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(mapped, o.glimpses, 1)));
  int64_t zoom_features = 0;
  if (o.zoom > 0) {
    // zoom -> zoom/2 -> zoom/4 -> zoom/8, then a coarse grid of the result, so
    // the order of letters and the layout of a face survive.
    torch::nn::Sequential z;
    conv_block(z, 3, w / 2, 1);
    conv_block(z, w / 2, w, 2);
    conv_block(z, w, w, 2);
    conv_block(z, w, w, 2);
    z->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({4, 4})));
    zoom_net_ = register_module("zoom_net", z);
    zoom_features = hidden;
    zoom_out_ = register_module("zoom_out", torch::nn::Linear(w * 16, zoom_features));
  }
  hidden_ = register_module("hidden", torch::nn::Linear(mapped * o.glimpses + mapped + zoom_features + hidden, 256));
  output_ = register_module("output", torch::nn::Linear(256, o.answers));
}

torch::Tensor ReferenceVqaNetImpl::encode_images(const torch::Tensor& pixels) {
  auto f = trunk_->forward(pixels - 0.5);
  auto n = f.size(0), h = f.size(2), w = f.size(3);
  auto ys = torch::linspace(-1, 1, h, f.options()).view({1, 1, h, 1}).expand({n, 1, h, w});
  auto xs = torch::linspace(-1, 1, w, f.options()).view({1, 1, 1, w}).expand({n, 1, h, w});
  return torch::cat({f, xs, ys}, 1);
}

torch::Tensor ReferenceVqaNetImpl::encode_question(const torch::Tensor& tokens) {
  auto embedded = embedding_->forward(tokens);  // [Q, L, embed]
  torch::Tensor q;                              // [Q, hidden]
  if (options_.packed_question) {
    auto lengths = (tokens != 0).sum(1).clamp_min(1).to(torch::kCPU);
    auto packed = torch::nn::utils::rnn::pack_padded_sequence(embedded, lengths, /*batch_first=*/true,
                                                              /*enforce_sorted=*/false);
    q = std::get<1>(question_->forward_with_packed_input(packed))[0];
  } else {
    q = std::get<1>(question_->forward(embedded))[0];
  }
  if (options_.word_path) {
    // The GRU must carry "cup" past the instruction that follows it; the mean
    // of the word embeddings hands every word to the FiLM layers directly.
    auto words = (tokens != 0).to(embedded.scalar_type()).sum(1, true).clamp_min(1);
    q = q + words_->forward(embedded.sum(1) / words);
  }
  return q;
}

torch::Tensor ReferenceVqaNetImpl::look_closer(const torch::Tensor& pixels, const torch::Tensor& pair_image,
                                               const torch::Tensor& first_glimpse) {
  namespace F = torch::nn::functional;
  int64_t side = attention_side(), pairs = first_glimpse.size(0);
  // Cell centres in grid_sample's [-1, 1] coordinates (align_corners = false).
  auto centres = torch::linspace(-1.0 + 1.0 / side, 1.0 - 1.0 / side, side, first_glimpse.options());
  auto map = first_glimpse.view({pairs, side, side});
  auto cx = (map.sum(1) * centres).sum(1), cy = (map.sum(2) * centres).sum(1);  // [P]
  double scale = static_cast<double>(options_.zoom) / static_cast<double>(options_.input_size);
  auto zero = torch::zeros_like(cx);
  auto theta = torch::stack({torch::stack({zero + scale, zero, cx}, 1), torch::stack({zero, zero + scale, cy}, 1)}, 1);
  auto grid = F::affine_grid(theta, {pairs, 3, options_.zoom, options_.zoom}, /*align_corners=*/false);
  auto crops = F::grid_sample(pixels.index_select(0, pair_image), grid,
                              F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
  return torch::relu(zoom_out_->forward(zoom_net_->forward(crops - 0.5).flatten(1)));
}

torch::Tensor ReferenceVqaNetImpl::forward(const torch::Tensor& images, const torch::Tensor& tokens,
                                           const std::vector<std::vector<int64_t>>& images_of_question,
                                           torch::Tensor* attention) {
  auto pixels = images;
  if (pixels.size(2) != options_.input_size || pixels.size(3) != options_.input_size)
    pixels = torch::nn::functional::interpolate(pixels, torch::nn::functional::InterpolateFuncOptions()
                                                            .size(std::vector<int64_t>{options_.input_size, options_.input_size})
                                                            .mode(torch::kBilinear).align_corners(false));
  auto features = encode_images(pixels);
  auto q = encode_question(tokens);
  // One row per (question, frame) pair, so every question is attended in one batch.
  std::vector<int64_t> pair_question, pair_image;
  for (size_t i = 0; i < images_of_question.size(); ++i)
    for (int64_t img : images_of_question[i]) {
      pair_question.push_back(static_cast<int64_t>(i));
      pair_image.push_back(img);
    }
  auto pq = torch::tensor(pair_question, torch::kLong).to(features.device());
  auto pi = torch::tensor(pair_image, torch::kLong).to(features.device());
  // relu(x * (1 + gamma) + beta), gamma and beta from each pair's question.
  auto modulate = [&](torch::nn::Linear& layer, const torch::Tensor& x) {
    auto film = layer->forward(q).index_select(0, pq);  // [P, 2C]
    auto c = x.size(1);
    auto gamma = film.slice(1, 0, c).unsqueeze(2).unsqueeze(3);
    auto beta = film.slice(1, c).unsqueeze(2).unsqueeze(3);
    return torch::relu(x * (1 + gamma) + beta);
  };
  // The projection of the features does not depend on the question: once per image.
  auto projected = attend_features_->forward(features);  // [N, C, h, w]
  torch::Tensor h;                                        // [P, C, h, w]
  if (blocks_.empty()) {
    h = modulate(film_, projected.index_select(0, pi));
  } else {
    h = torch::relu(projected).index_select(0, pi);
    for (auto& b : blocks_) {
      auto r = torch::relu(b.reduce->forward(h));
      h = r + modulate(b.film, b.norm->forward(b.spatial->forward(r)));
    }
  }
  auto a = torch::softmax(attend_logits_->forward(h).flatten(2), 2);  // [P, G, hw]
  if (attention) *attention = a;
  auto hf = h.flatten(2);                                             // [P, C, hw]
  std::vector<torch::Tensor> parts = {torch::bmm(a, hf.transpose(1, 2)).flatten(1), std::get<0>(hf.max(2))};
  if (options_.zoom > 0) parts.push_back(look_closer(pixels, pi, a.select(1, 0)));
  auto att = torch::cat(parts, 1);
  // Frames of one question are averaged.
  auto counts = torch::zeros({q.size(0)}, q.options()).index_add_(0, pq, torch::ones({pq.size(0)}, q.options()));
  auto pooled = torch::zeros({q.size(0), att.size(1)}, att.options()).index_add_(0, pq, att) / counts.unsqueeze(1);
  return output_->forward(torch::relu(hidden_->forward(torch::cat({pooled, q}, 1))));
}

torch::Tensor answer_loss(const torch::Tensor& logits, const torch::Tensor& targets, double gamma) {
  namespace F = torch::nn::functional;
  auto ce = F::cross_entropy(logits, targets, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  if (gamma <= 0) return ce.mean();
  return (torch::pow(1 - torch::exp(-ce.detach()), gamma) * ce).mean();
}

torch::Tensor grounding_loss(const torch::Tensor& attention, const torch::Tensor& evidence) {
  auto known = evidence.sum(1) > 0;  // [P]
  auto rows = known.nonzero().squeeze(1);
  if (rows.numel() == 0) return torch::zeros({}, attention.options());
  auto mass = (attention.select(1, 0).index_select(0, rows) * evidence.index_select(0, rows)).sum(1);
  return -torch::log(mass.clamp_min(1e-6)).mean();
}

}  // namespace scrim::nets
