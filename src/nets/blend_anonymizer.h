// The control-space anonymizer: a small network predicts, per image, a G x G
// grid of softmax blend weights over a bank of fixed obfuscations O_k (the
// identity first, then e.g. blur, pixelation, a flat fill), smoothly
// (bilinearly) up-sampled, and renders
//     x' = sum_k m_k (.) O_k(x)   (+ an optional residual r(x) that only the privacy side trains).
// The blend weights are the anonymizer's own low-dimensional controls (D = K G^2
// per image): the black-box utility gradient is estimated with respect to them
// — almost exactly at few queries — and back-propagated into the network, the
// principle of TREMBA (Huang & Zhang, ICLR 2020: search a generator's latent
// space, not pixels) and DeepZero (Chen et al., ICLR 2024: zeroth-order
// training in a model's own coordinates). It starts near the identity (with a hide budget: at that
// budget, spread evenly).
// Private header: LibTorch inside.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace scrim::nets {

// One fixed obfuscation of the bank.
struct BankItem {
  enum class Kind { kIdentity, kBlur, kPixelate, kFill } kind = Kind::kIdentity;
  double value = 0;  // blur: sigma (pixels); pixelate: block (pixels); fill: the grey level in [0, 1]
  // fill:value=fit: one colour fitted to the training pictures (BlendAnonymizerImpl::fit_fill_colour) instead
  // of a grey level: a flat fill hides as much in any colour, and what the MLLM reads round the region does
  // depend on it (grey cost the face-hiding region 30 VQA questions of 7,500, a skin tone 3: docs/results.md,
  // "a tenth look").
  bool fitted = false;
};

// "blur:sigma=3,pixelate:block=8,fill:value=0.5" -> the identity, then those (each with its one parameter,
// defaults sigma 3, block 8, value 0.5; fill's value may be "fit"). Throws scrim::UsageError naming a bad item.
std::vector<BankItem> parse_bank(const std::string& spec);

// How the G x G controls become a per-pixel mask. Bilinear spreads each cell's weight over its
// neighbours; guided snaps the mask's edges to the picture's own edges (a head's outline against the
// shirt) while keeping the controls' dimension, after He, Sun & Tang, "Guided Image Filtering"
// (TPAMI 2013) used as an up-sampler (Wu et al., "Fast End-to-End Trainable Guided Filter", CVPR 2018).
// Bilinear is linear in the weights; guided is linear up to a clip that keeps the mask a convex blend.
enum class Upsample { kBilinear, kGuided };

// "bilinear" / "guided" <-> Upsample; parse throws scrim::UsageError naming the value.
Upsample parse_upsample(const std::string& name);
std::string upsample_name(Upsample u);

// How far a pixel is hidden. Soft: as far as the up-sampled mask says, so a region's edge and the up-sampler's
// tails blend its fill into what lies round it (a dark head colour tinting the shirt below, which costs the
// clothing-colour answers: docs/results.md, "a twentieth look"). Hard at a cut c: each pixel hidden outright where the
// mask hides at least c of it (the split over the obfuscations kept), else left as it is — a privacy/utility dial:
// measured on one region, cut at a half the shirt came back and half-hidden face parts with it, cut at a quarter the
// face was hidden further at no cost in answers. The gradient is the soft mask's (straight-through, Bengio et al.
// 2013), so training reads the same signal — but the game's zeroth-order probes see a step: a small move of the
// controls changes only the pixels that cross the cut, so their estimate is coarser (measured so far only with no
// game, --steps 0).
struct Edge {
  double cut = 0;  // 0: soft; in (0, 1]: hard at that hidden share
  bool hard() const { return cut > 0; }
  bool operator==(const Edge&) const = default;
};
// "soft" / "hard" (cut at a half) / "hard:C" (C in (0, 1]) <-> Edge; parse throws scrim::UsageError naming the value.
Edge parse_edge(const std::string& name);
std::string edge_name(Edge e);

// With a hide budget, the hidden region's shape (BlendAnonymizerOptions::shape).
enum class HideShape { kBlob, kEllipse, kPeak, kHead };
// "blob" / "ellipse" / "peak" / "head" <-> HideShape; parse throws scrim::UsageError naming the value.
HideShape parse_hide_shape(const std::string& name);
std::string hide_shape_name(HideShape s);

struct BlendAnonymizerOptions {
  int64_t grid = 8;             // G: control cells per side
  std::string bank = "blur:sigma=3,pixelate:block=8,fill:value=0.5";
  bool residual = false;        // an additive residual r(x) (trained by the privacy side only)
  int64_t width = 16;           // channels of the control network
  int64_t input_size = 112;
  // Dilated 3 x 3 residual layers (dilation 1, 2, 4, ...) after the stride-8 encoder. Without them a cell's
  // controls see a 15-pixel patch: too little to tell a head from a hand, so a push to hide the head becomes a
  // push everywhere (docs/results.md). Three layers reach 7 encoder cells (56 pixels) each way: at 112 pixels a
  // centre cell sees the whole picture.
  int64_t context = 0;
  // The share of the picture hidden, fixed per picture (0: free). A free per-cell softmax learns one global
  // mode, hide everywhere or nowhere (docs/results.md); with a budget the network only chooses where: the
  // head's first channel scores the cells, and cell c's weight off the identity is
  // min(1, budget G^2 softmax_c(score)), split over the obfuscations by a softmax of the other channels.
  double budget = 0;
  // The encoder's stride, 8 or 4: the finest place a control can tell apart. At 8 (14 x 14 features at 112
  // pixels) a head a dozen pixels wide cannot be hidden without the cells round it; at 4 it can (docs/results.md).
  int64_t stride = 8;
  Upsample upsample = Upsample::kBilinear;
  // With a budget, the hidden region's shape. "blob": the allocation above, any shape (it learns a blob round
  // the head that reaches the shirt below it, docs/results.md). "ellipse": one ellipse of the budget's area,
  // centred on the scores' softmax mean and shaped by their covariance — a region the shape of a head that
  // the network places and orients, with soft edges (a sigmoid over a tenth of its radius); trained through
  // the blob's per-cell gradient (straight-through). "peak": the same ellipse placed and shaped by the scores'
  // dominant mode (the softmax raised to the power kPeakSharpening): the mean of every cell the attackers' signal
  // marks — the main head, a bystander, a sign — can lie between them; the mode lies on the strongest.
  // "head": an upright ellipse of a head's proportions (kHeadAspect) and the budget's area, placed where it
  // covers the most score mass (the scores summed over the ellipse round each cell, then the captured mass's
  // centroid): neither the mean (between two marked places) nor the sharpest single cell (which the privacy
  // side can put on a shirt), nor stretched by the scores' covariance down the neck (docs/results.md).
  HideShape shape = HideShape::kBlob;
  Edge edge{};  // soft
};

class BlendAnonymizerImpl : public torch::nn::Module {
 public:
  explicit BlendAnonymizerImpl(const BlendAnonymizerOptions& options = {});

  // x: [N, 3, S, S] in [0, 1] -> x' of the same shape.
  torch::Tensor forward(const torch::Tensor& x);
  // x: [N, 3, H, W] of any size in [0, 1] -> x' of the same size. The controls and the mask come from x resized to
  // the working resolution, as forward() makes them; the mask, up-sampled bilinearly to x's size (its edge hardened
  // there), blends x with the obfuscations (rendered at the working resolution, scaled up), drawn only in the window
  // it can hide: the pixels it leaves are x's own, not a working-resolution copy's. At the working resolution, forward(x).
  torch::Tensor forward_any_size(const torch::Tensor& x);
  // The controls: blend weights [N, K, G, G], a softmax over k per cell of head(features(x)), or with a
  // budget the allocation above; on the simplex per cell either way.
  torch::Tensor weights(const torch::Tensor& x);
  // What the 1 x 1 head reads per cell: [N, C, G, G] (the encoder, then the context layers).
  torch::Tensor features(const torch::Tensor& x);
  // The head's outputs [N, K, G, G]: with a budget, channel 0 scores where to hide (its softmax over the cells is
  // the distribution the region is placed by) and channels 1..K-1 split the hidden share over the obfuscations.
  torch::Tensor logits(const torch::Tensor& x);
  // The bank's outputs [N, K, 3, S, S] (fixed: no parameters; a fitted fill's colour is a buffer).
  torch::Tensor bank(const torch::Tensor& x) const;
  // Whether the bank holds a fitted fill (fill:value=fit); its colour (RGB in [0, 1], a buffer saved with the
  // weights; 0.5 grey until fitted).
  bool has_fitted_fill() const { return fill_colour_.defined(); }
  torch::Tensor fill_colour() const { return fill_colour_; }
  // What fitting the fill colour to the pictures x [N, 3, S, S] adds up: [4], the fitted fill's per-pixel mask
  // weight times each colour channel, summed over the pixels each picture hides most (at least 0.9 of its most
  // hidden pixel's share: the region's core), then those weights summed. Summed over batches, the ratio is the
  // mean colour of what the fill replaces outright, not of the soft edge round it (docs/results.md, "an
  // eighteenth look").
  torch::Tensor fill_statistics(const torch::Tensor& x);
  // Sets the fitted fill's colour to sums' ratio (sums: fill_statistics summed); returns it.
  torch::Tensor fit_fill_colour(const torch::Tensor& sums);
  // The residual [N, 3, S, S] (zeros when off).
  torch::Tensor residual(const torch::Tensor& x);
  // sum_k up(weights_k) (.) bank_k: weights [N, K, G, G], bank [N, K, 3, S, S]. Bilinear: linear in the
  // weights, so defined for any weights (probes may leave the simplex). The guided up-sampler reads the
  // picture from the bank's first item, the identity. A hard edge leaves the simplex only where the weights do.
  static torch::Tensor render(const torch::Tensor& bank, const torch::Tensor& weights, Upsample upsample = Upsample::kBilinear,
                              Edge edge = {});
  // The hidden share per cell [N, 1, G, G] of one ellipse of area budget G^2 cells, placed and shaped by the
  // cell distribution `where` [N, 1, G, G] (its mean and covariance): the "ellipse" shape's region.
  static torch::Tensor ellipse_region(const torch::Tensor& where, double budget);
  // The hidden share per cell [N, 1, G, G] of one upright head-proportioned ellipse of area budget G^2 cells
  // where it covers the most of `where`: the "head" shape's region, moved down by `offset` of its height.
  static torch::Tensor head_region(const torch::Tensor& where, double budget, double offset = 0);
  // The mass of `where` [N, 1, G, GX] that head ellipse would cover centred on each cell, [N, 1, G, GX] (no gradient).
  static torch::Tensor head_coverage(const torch::Tensor& where, double budget);
  // The head ellipse's hidden share per cell [N, 1, G, GX], centred at (cy, cx) [N], in cells from the top left corner.
  static torch::Tensor head_region_at(const torch::Tensor& cy, const torch::Tensor& cx, int64_t g, int64_t gx, double budget);
  // The hidden share per cell [N, 1, G, G] for `shape` from the cell distribution `where`.
  static torch::Tensor hidden_share(const torch::Tensor& where, double budget, HideShape shape);
  // The per-pixel mask [N, K, S, S] that render() blends with: up(weights) guided by `picture` [N, 3, S, S], its
  // edge hardened or not.
  static torch::Tensor mask(const torch::Tensor& weights, const torch::Tensor& picture, Upsample upsample, Edge edge = {});
  // A soft mask [N, K, H, W] with `edge` (hard) applied: each pixel hidden outright where the soft mask hides at least
  // the cut, its split over the obfuscations kept, else left as it is (values only: no gradient).
  static torch::Tensor hardened(const torch::Tensor& soft, Edge edge);

  int64_t kinds() const { return static_cast<int64_t>(items_.size()); }
  const BlendAnonymizerOptions& options() const { return options_; }

  // While set, no gradient reaches the placement scores (the head's channel 0) through weights() or forward(); the
  // output is the same. For a placement learned from a search alone (method/placement_search.h, --placement
  // search-only): the privacy loss's gradient moves the region away from the searched target, the surrogate's lifts it
  // off the face (docs/results.md, "a twelfth look").
  void set_placement_detached(bool detached) { placement_detached_ = detached; }

 private:
  BlendAnonymizerOptions options_;
  std::vector<BankItem> items_;
  torch::nn::Sequential encoder_{nullptr};
  std::vector<torch::nn::Conv2d> context_;
  torch::nn::Conv2d head_{nullptr};
  torch::nn::Sequential residual_{nullptr};
  torch::Tensor fill_colour_;  // with a fitted fill: [3]
  bool placement_detached_ = false;
};
TORCH_MODULE(BlendAnonymizer);

}  // namespace scrim::nets
