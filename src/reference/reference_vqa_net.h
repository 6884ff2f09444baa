// The reference MLLM's network: a small VQA model. A CNN encodes each image
// once (with coordinate channels); a GRU encodes the question (packed: its own
// words only), plus the mean of its word embeddings (word_path); the question
// modulates the image features (FiLM: Perez et al., AAAI 2018) — either one
// projection (film_blocks = 0, the first models) or a stack of FiLM residual
// blocks with 3x3 convolutions, so the question steers spatial processing
// ("the colour of the thing that is a cup") — which feeds question-guided
// spatial attention (Yang et al., CVPR 2016; Kazemi & Elqursh, 2017) and a
// global max-pool (for "is there a ...?"); optionally a zoom glimpse reads a
// full-resolution crop where the attention looks (a foveal glimpse, as in the
// recurrent attention model of Mnih et al., NIPS 2014, placed by the soft
// attention instead of a learned policy); an MLP picks the answer. Frames of one request are averaged, so video clips
// work. Private header: LibTorch inside.
#pragma once

#include <torch/torch.h>

namespace scrim::nets {

struct ReferenceVqaNetOptions {
  int64_t vocab_size = 1;    // question words (index 0 = padding)
  int64_t answers = 1;       // answer classes
  int64_t width = 32;        // channels of the first block; later blocks scale from it
  int64_t embed = 64;        // word embedding size
  int64_t glimpses = 2;      // attention maps
  int64_t input_size = 112;  // images are resized to input_size x input_size
  int64_t film_blocks = 0;   // FiLM residual blocks; 0: a single FiLM-modulated projection
  bool word_path = false;    // add the mean word embedding to the GRU state (a direct path for the key word)
  // Tokens are right-padded and the GRU reads each question's own words only.
  // Without it (the first models) they are left-padded and the GRU also reads
  // the padding, so a question's state depends on the longest prompt batched
  // beside it.
  bool packed_question = false;
  // Side in pixels (of the input_size picture) of the zoom glimpse: a crop
  // where the first attention map looks, read by its own CNN at full
  // resolution (faces, letters); 0: none (the models before it).
  int64_t zoom = 0;
};

class ReferenceVqaNetImpl : public torch::nn::Module {
 public:
  explicit ReferenceVqaNetImpl(const ReferenceVqaNetOptions& options);
  // images: [N, 3, H, W] in [0, 1]; tokens: [Q, L] (0-padded);
  // images_of_question: the images (frames) each question pools.
  // Returns answer logits [Q, answers]; with `attention`, also the attention
  // maps [P, glimpses, s*s] (s = attention_side()), one row per (question,
  // frame) pair in question order.
  torch::Tensor forward(const torch::Tensor& images, const torch::Tensor& tokens,
                        const std::vector<std::vector<int64_t>>& images_of_question,
                        torch::Tensor* attention = nullptr);
  // Side of the square attention map.
  int64_t attention_side() const { return options_.input_size / 8; }

  const ReferenceVqaNetOptions& options() const { return options_; }

 private:
  torch::Tensor encode_images(const torch::Tensor& pixels);
  torch::Tensor encode_question(const torch::Tensor& tokens);
  // The zoom glimpse: a zoom x zoom crop of `pixels` centred where each pair's
  // first attention map puts its mass, encoded by its own small CNN.
  torch::Tensor look_closer(const torch::Tensor& pixels, const torch::Tensor& pair_image, const torch::Tensor& first_glimpse);

  ReferenceVqaNetOptions options_;
  torch::nn::Sequential trunk_{nullptr};
  torch::nn::Sequential zoom_net_{nullptr};
  torch::nn::Linear zoom_out_{nullptr};
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::GRU question_{nullptr};
  torch::nn::Linear words_{nullptr};  // word_path: mean word embedding -> question space
  torch::nn::Linear film_{nullptr};
  torch::nn::Conv2d attend_features_{nullptr}, attend_logits_{nullptr};
  torch::nn::Linear hidden_{nullptr}, output_{nullptr};
  // FiLM residual blocks (film_blocks > 0): 1x1 conv -> ReLU -> 3x3 conv -> BN
  // (no affine) -> FiLM -> ReLU, plus the 1x1 output as the residual.
  struct FilmBlock {
    torch::nn::Conv2d reduce{nullptr}, spatial{nullptr};
    torch::nn::BatchNorm2d norm{nullptr};
    torch::nn::Linear film{nullptr};
  };
  std::vector<FilmBlock> blocks_;
  int64_t channels_ = 0;
};
TORCH_MODULE(ReferenceVqaNet);

// Mean cross-entropy of `logits` [Q, A] against `targets` [Q]; with gamma > 0
// the focal loss (Lin et al., ICCV 2017): each question weighs (1 - p)^gamma,
// p its probability of the right answer, so questions the model already
// answers well (action, count) stop drowning the slow ones.
torch::Tensor answer_loss(const torch::Tensor& logits, const torch::Tensor& targets, double gamma);

// Attention supervision (Qiao et al., AAAI 2018; Selvaraju et al., ICCV 2019):
// the mean over the rows of `evidence` [P, h*w] (1 on the cells where the
// answer can be read, all 0 where unknown) of -log(the first glimpse's mass on
// them). attention: [P, glimpses, h*w]. Zero when no row has evidence.
torch::Tensor grounding_loss(const torch::Tensor& attention, const torch::Tensor& evidence);

}  // namespace scrim::nets
