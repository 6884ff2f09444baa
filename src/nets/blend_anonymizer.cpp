#include "nets/blend_anonymizer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include "scrim/core/error.h"

namespace scrim::nets {

namespace F = torch::nn::functional;

std::vector<BankItem> parse_bank(const std::string& spec) {
  std::vector<BankItem> items{{BankItem::Kind::kIdentity, 0}};
  std::stringstream ss(spec);
  for (std::string item; std::getline(ss, item, ',');) {
    if (item.empty()) throw UsageError("--bank: empty item in '" + spec + "'");
    auto colon = item.find(':');
    std::string name = item.substr(0, colon), param, value;
    if (colon != std::string::npos) {
      auto rest = item.substr(colon + 1);
      auto eq = rest.find('=');
      if (eq == std::string::npos) throw UsageError("--bank: '" + item + "' needs name:key=value");
      param = rest.substr(0, eq);
      value = rest.substr(eq + 1);
    }
    // Each obfuscation, its one parameter and that parameter's default.
    struct Known {
      const char* name;
      BankItem::Kind kind;
      const char* param;
      double value;
    };
    static const Known known[] = {{"identity", BankItem::Kind::kIdentity, "", 0.0},
                                  {"blur", BankItem::Kind::kBlur, "sigma", 3.0},
                                  {"pixelate", BankItem::Kind::kPixelate, "block", 8.0},
                                  {"fill", BankItem::Kind::kFill, "value", 0.5}};
    const Known* k = nullptr;
    for (const auto& candidate : known)
      if (name == candidate.name) k = &candidate;
    if (!k) throw UsageError("--bank: unknown obfuscation '" + name + "' (use blur, pixelate, fill)");
    BankItem b{k->kind, k->value};
    std::string expected = k->param;
    if (b.kind == BankItem::Kind::kFill && param == "value" && value == "fit") {
      b.fitted = true;
      b.value = 0.5;  // until fitted
    } else if (!param.empty()) {
      if (param != expected) throw UsageError("--bank: " + name + " takes " + (expected.empty() ? "no parameter" : expected) + ", not '" + param + "'");
      try {
        size_t used = 0;
        b.value = std::stod(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } catch (const std::exception&) {
        throw UsageError("--bank: '" + value + "' is not a number in '" + item + "'");
      }
    }
    bool ok = b.kind == BankItem::Kind::kBlur ? b.value > 0 && b.value <= 32
              : b.kind == BankItem::Kind::kPixelate ? b.value >= 2 && b.value <= 64 && std::floor(b.value) == b.value
              : b.kind == BankItem::Kind::kFill ? b.value >= 0 && b.value <= 1 : true;
    if (!ok) throw UsageError("--bank: '" + item + "' is out of range (sigma in (0, 32], block an integer in 2..64, value in [0, 1])");
    if (b.kind != BankItem::Kind::kIdentity) items.push_back(b);
  }
  if (items.size() < 2) throw UsageError("--bank: name at least one obfuscation besides the identity");
  if (std::count_if(items.begin(), items.end(), [](const BankItem& b) { return b.fitted; }) > 1)
    throw UsageError("--bank: at most one fill:value=fit");
  return items;
}

Upsample parse_upsample(const std::string& name) {
  if (name == "bilinear") return Upsample::kBilinear;
  if (name == "guided") return Upsample::kGuided;
  throw UsageError("--blend-upsample must be bilinear or guided, not '" + name + "'");
}

std::string upsample_name(Upsample u) { return u == Upsample::kGuided ? "guided" : "bilinear"; }

Edge parse_edge(const std::string& name) {
  if (name == "soft") return {};
  if (name == "hard") return {0.5};
  if (name.rfind("hard:", 0) == 0) {
    const std::string value = name.substr(5);
    char* end = nullptr;
    const double cut = std::strtod(value.c_str(), &end);
    if (!value.empty() && *end == '\0' && cut > 0 && cut <= 1) return {cut};
  }
  throw UsageError("--blend-edge must be soft, hard or hard:C with C in (0, 1], not '" + name + "'");
}

std::string edge_name(Edge e) {
  if (!e.hard()) return "soft";
  // The shortest decimal that reads back exactly: 0.35 is written "hard:0.35", not "hard:0.34999999999999998".
  for (int digits = 1;; ++digits) {
    std::ostringstream out;
    out << std::setprecision(digits) << e.cut;
    if (std::strtod(out.str().c_str(), nullptr) == e.cut || digits >= 17) return "hard:" + out.str();
  }
}

HideShape parse_hide_shape(const std::string& name) {
  if (name == "blob") return HideShape::kBlob;
  if (name == "ellipse") return HideShape::kEllipse;
  if (name == "peak") return HideShape::kPeak;
  if (name == "head") return HideShape::kHead;
  throw UsageError("--hide-shape must be blob, ellipse, peak or head, not '" + name + "'");
}

std::string hide_shape_name(HideShape s) {
  switch (s) {
    case HideShape::kBlob: return "blob";
    case HideShape::kEllipse: return "ellipse";
    case HideShape::kPeak: return "peak";
    case HideShape::kHead: return "head";
  }
  return "blob";
}

namespace {

// Mean over a (2 r + 1)^2 window, the window clipped at the border.
torch::Tensor box(const torch::Tensor& t, int64_t r) {
  return F::avg_pool2d(t, F::AvgPool2dFuncOptions(2 * r + 1).stride(1).padding(r).count_include_pad(false));
}

// The colour guided filter fitted at the controls' resolution and applied at the picture's (Wu et al.
// 2018, Algorithm 1): per cell window, each weight map is fitted as a linear function of the cell-averaged
// colour, p ~ A^T I + b (ridge eps on A: where the colour is flat, A -> 0 and the cell keeps its weight);
// A and b are averaged, up-sampled, and evaluated at every pixel's own colour. The fit keeps the weights'
// sum per pixel (weights summing to 1 give A summing to 0 over k) but overshoots beside an edge (1.3 on a
// step, measured in the test): a negative identity weight would blend in the picture's negative, so the
// mask is clipped to [0, 1] and renormalised — a convex blend of the bank, as the bilinear one is.
torch::Tensor guided_upsample(const torch::Tensor& p, const torch::Tensor& picture) {
  constexpr int64_t kRadius = 1;  // a 3 x 3-cell window
  constexpr double kEps = 1e-3;   // colour variance below this counts as flat (an edge of 0.1 between two colours is 2.5e-3)
  const int64_t n = p.size(0), k = p.size(1), g = p.size(2), h = picture.size(2), w = picture.size(3);
  const int64_t gx = p.size(3);
  // The picture's colour statistics per window (no gradient: the guide is data, not a control).
  torch::Tensor low, mean_i, inverse;
  {
    torch::NoGradGuard no_grad;
    low = F::adaptive_avg_pool2d(picture.detach(), F::AdaptiveAvgPool2dFuncOptions({g, gx}));  // [N, 3, g, g]
    mean_i = box(low, kRadius);
    auto products = (low.unsqueeze(2) * low.unsqueeze(1)).reshape({n, 9, g, gx});
    auto sigma = box(products, kRadius).view({n, 3, 3, g, gx}) - mean_i.unsqueeze(2) * mean_i.unsqueeze(1);
    sigma = sigma + kEps * torch::eye(3, sigma.options()).view({1, 3, 3, 1, 1});
    inverse = torch::linalg_inv(sigma.permute({0, 3, 4, 1, 2}).to(torch::kFloat64)).to(p.scalar_type());  // [N, g, g, 3, 3]
  }
  auto mean_p = box(p, kRadius);                                                                     // [N, K, g, g]
  auto cov = box((low.unsqueeze(2) * p.unsqueeze(1)).reshape({n, 3 * k, g, gx}), kRadius).view({n, 3, k, g, gx}) -
             mean_i.unsqueeze(2) * mean_p.unsqueeze(1);                                              // [N, 3, K, g, g]
  auto a = torch::einsum("nyxcd,ndkyx->nckyx", {inverse, cov});                                      // [N, 3, K, g, g]
  auto b = mean_p - (a * mean_i.unsqueeze(2)).sum(1);                                                // [N, K, g, g]
  auto up = [&](const torch::Tensor& t) {
    return F::interpolate(box(t, kRadius), F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
  };
  auto a_full = up(a.reshape({n, 3 * k, g, gx})).view({n, 3, k, h, w});
  auto q = ((a_full * picture.detach().unsqueeze(2)).sum(1) + up(b)).clamp(0, 1);
  return q / q.sum(1, true).clamp_min(1e-6);
}

torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
  int64_t radius = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigma)));
  radius = std::min<int64_t>(radius, std::min(x.size(2), x.size(3)) - 1);
  auto t = torch::arange(-radius, radius + 1, x.options());  // the picture's dtype and device
  auto k = torch::exp(-(t * t) / (2 * sigma * sigma));
  k = k / k.sum();
  auto c = x.size(1);
  auto kh = k.view({1, 1, 1, -1}).repeat({c, 1, 1, 1}), kv = k.view({1, 1, -1, 1}).repeat({c, 1, 1, 1});
  auto y = F::pad(x, F::PadFuncOptions({radius, radius, 0, 0}).mode(torch::kReplicate));
  y = F::conv2d(y, kh, F::Conv2dFuncOptions().groups(c));
  y = F::pad(y, F::PadFuncOptions({0, 0, radius, radius}).mode(torch::kReplicate));
  return F::conv2d(y, kv, F::Conv2dFuncOptions().groups(c));
}

torch::Tensor pixelate(const torch::Tensor& x, int64_t block) {
  auto h = x.size(2), w = x.size(3);
  auto small = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({std::max<int64_t>(1, h / block), std::max<int64_t>(1, w / block)}));
  return F::interpolate(small, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kNearest));
}

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2));
}

}  // namespace

BlendAnonymizerImpl::BlendAnonymizerImpl(const BlendAnonymizerOptions& o) : options_(o), items_(parse_bank(o.bank)) {
  if (o.grid < 2 || o.grid > 32) throw UsageError("--blend-grid must be in 2..32");
  if (o.width < 1) throw UsageError("BlendAnonymizer: width >= 1");
  if (o.stride != 4 && o.stride != 8) throw UsageError("--blend-stride must be 4 or 8");
  auto w = o.width;
  encoder_ = register_module("encoder", torch::nn::Sequential(conv(3, w, 3, 2), torch::nn::ReLU(), conv(w, w, 3, 2), torch::nn::ReLU(),
                                                               conv(w, 2 * w, 3, o.stride / 4), torch::nn::ReLU()));
  if (o.context < 0 || o.context > 6) throw UsageError("--blend-context must be in 0..6");
  if (!(o.budget >= 0 && o.budget <= 1)) throw UsageError("--hide-budget must be in [0, 1]");
  for (int64_t i = 0; i < o.context; ++i) {
    int64_t dilation = int64_t{1} << i;
    context_.push_back(register_module("context" + std::to_string(i),
                                       torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * w, 2 * w, 3).padding(dilation).dilation(dilation))));
  }
  head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * w, kinds(), 1)));
  // Near the identity: zero weights, the identity's logit 5 above the others (weight 0.98 with K = 4).
  torch::NoGradGuard no_grad;
  head_->weight.zero_();
  head_->bias.zero_();
  head_->bias[0] = 5.0;
  for (const auto& b : items_)
    if (b.fitted) fill_colour_ = register_buffer("fill_colour", torch::full({3}, b.value));
  if (o.residual) {
    residual_ = register_module("residual", torch::nn::Sequential(conv(3, w, 3, 1), torch::nn::ReLU(), conv(w, 3, 3, 1)));
    auto& last = *residual_[2]->as<torch::nn::Conv2d>();
    last.weight.zero_();
    last.bias.zero_();
  }
}

torch::Tensor BlendAnonymizerImpl::features(const torch::Tensor& x) {
  auto h = encoder_->forward(x);
  for (auto& layer : context_) h = h + torch::relu(layer->forward(h));  // residual: each layer only adds context
  return F::adaptive_avg_pool2d(h, F::AdaptiveAvgPool2dFuncOptions({options_.grid, options_.grid}));
}

torch::Tensor BlendAnonymizerImpl::logits(const torch::Tensor& x) { return head_->forward(features(x)); }

torch::Tensor BlendAnonymizerImpl::weights(const torch::Tensor& x) {
  auto logits = this->logits(x);
  if (options_.budget <= 0) return torch::softmax(logits, 1);
  auto n = logits.size(0), g = logits.size(2);
  auto scores = placement_detached_ ? logits.select(1, 0).detach() : logits.select(1, 0);
  auto where = torch::softmax(scores.reshape({n, g * g}), 1).view({n, 1, g, g});
  auto hidden = hidden_share(where, options_.budget, options_.shape);
  auto which = torch::softmax(logits.slice(1, 1), 1);
  return torch::cat({1 - hidden, hidden * which}, 1);
}

// The placed ellipses' soft edge: a cell's weight is sigmoid(kEdgeSharpness (1 - m / r)), m its (scaled) distance
// from the centre and r the radius: 0.5 on the boundary, from 0.27 to 0.73 over a tenth of the radius.
constexpr double kEdgeSharpness = 10;

// The ellipse {z : (z - c)^T C^-1 (z - c) <= r^2}, c and C the mean and covariance of the cell distribution
// (plus a quarter cell of variance, so that a single-cell p is a disc), r from pi r^2 sqrt(det C) = budget G^2,
// m the Mahalanobis distance.
torch::Tensor BlendAnonymizerImpl::ellipse_region(const torch::Tensor& p, double budget) {
  const int64_t n = p.size(0), g = p.size(2);
  auto axis = torch::arange(g, p.options()) + 0.5;
  auto ys = axis.view({1, 1, g, 1}).expand({n, 1, g, g}), xs = axis.view({1, 1, 1, g}).expand({n, 1, g, g});
  auto mean = [&](const torch::Tensor& t) { return (p * t).sum({1, 2, 3}).view({n, 1, 1, 1}); };
  auto cy = mean(ys), cx = mean(xs);
  auto dy = ys - cy, dx = xs - cx;
  auto vyy = mean(dy * dy) + 0.25, vxx = mean(dx * dx) + 0.25, vxy = mean(dx * dy);
  auto det = vyy * vxx - vxy * vxy;
  auto m2 = (vxx * dy * dy - 2 * vxy * dx * dy + vyy * dx * dx) / det;  // squared Mahalanobis distance
  auto r2 = budget * static_cast<double>(g * g) / (M_PI * det.sqrt());
  return torch::sigmoid(kEdgeSharpness * (1 - (m2 / r2 + 1e-12).sqrt()));
}

// A face is about 1.2 times as tall as it is wide (detector face boxes 1.2-1.3; the synthetic benchmark's face
// box 1.05): a taller ellipse of the same area would reach down the neck onto the shirt.
constexpr double kHeadAspect = 1.2;

namespace {
// The head ellipse of area budget G GX cells: semi-axes in cells (pi rx ry = budget G GX) and its soft inside.
struct HeadEllipse {
  double ry, rx;
  HeadEllipse(int64_t g, int64_t gx, double budget)
      : ry(std::sqrt(budget * static_cast<double>(g * gx) * kHeadAspect / M_PI)), rx(ry / kHeadAspect) {}
  torch::Tensor inside(const torch::Tensor& dy, const torch::Tensor& dx) const {
    return torch::sigmoid(kEdgeSharpness * (1 - ((dy / ry).pow(2) + (dx / rx).pow(2) + 1e-12).sqrt()));
  }
};
}  // namespace

torch::Tensor BlendAnonymizerImpl::head_coverage(const torch::Tensor& p, double budget) {
  const int64_t g = p.size(2), gx = p.size(3);
  const HeadEllipse head(g, gx, budget);
  // A correlation with the ellipse as kernel.
  const int64_t hy = static_cast<int64_t>(std::ceil(head.ry)) + 1, hx = static_cast<int64_t>(std::ceil(head.rx)) + 1;
  auto ky = torch::arange(-hy, hy + 1, p.options()).view({-1, 1}), kx = torch::arange(-hx, hx + 1, p.options()).view({1, -1});
  auto kernel = head.inside(ky, kx).view({1, 1, 2 * hy + 1, 2 * hx + 1});
  return F::conv2d(p.detach(), kernel, F::Conv2dFuncOptions().padding(std::vector<int64_t>{hy, hx}));
}

torch::Tensor BlendAnonymizerImpl::head_region_at(const torch::Tensor& cy, const torch::Tensor& cx, int64_t g, int64_t gx, double budget) {
  const HeadEllipse head(g, gx, budget);
  auto ys = (torch::arange(g, cy.options()) + 0.5).view({1, 1, g, 1}), xs = (torch::arange(gx, cx.options()) + 0.5).view({1, 1, 1, gx});
  return head.inside(ys - cy.view({-1, 1, 1, 1}), xs - cx.view({-1, 1, 1, 1}));
}

torch::Tensor BlendAnonymizerImpl::head_region(const torch::Tensor& p, double budget, double offset) {
  const int64_t n = p.size(0), g = p.size(2), gx = p.size(3);
  auto best = head_coverage(p, budget).view({n, g * gx}).argmax(1);  // [N]
  auto by = torch::floor_divide(best, gx).to(p.scalar_type()) + 0.5, bx = torch::remainder(best, gx).to(p.scalar_type()) + 0.5;
  // One mean-shift step: the centroid of the mass the best window captures, off the cell grid.
  auto ys = (torch::arange(g, p.options()) + 0.5).view({1, 1, g, 1}), xs = (torch::arange(gx, p.options()) + 0.5).view({1, 1, 1, gx});
  auto captured = p * head_region_at(by, bx, g, gx, budget);
  auto mass = captured.sum({1, 2, 3}).clamp_min(1e-12);
  auto cy = (captured * ys).sum({1, 2, 3}) / mass, cx = (captured * xs).sum({1, 2, 3}) / mass;
  return head_region_at(cy + offset * 2 * HeadEllipse(g, gx, budget).ry, cx, g, gx, budget);
}

torch::Tensor BlendAnonymizerImpl::hidden_share(const torch::Tensor& where, double budget, HideShape shape) {
  auto blob = (budget * static_cast<double>(where.size(2) * where.size(3)) * where).clamp_max(1.0);
  if (shape == HideShape::kBlob) return blob;
  // The head ellipse keeps its own gradient too, through the captured mass's centroid: the blob's gradient
  // brings it to the head from anywhere; near it, its own edge says which way the uncovered part lies.
  if (shape == HideShape::kHead) return head_region(where, budget) + (blob - blob.detach());
  // The ellipse is rendered, but its gradient is the blob's (straight-through, Bengio et al. 2013): through
  // its centre and covariance alone an ellipse lying on the background gets no signal to move (measured: it
  // stayed off every head), where the per-cell allocation tells each cell whether hiding it would help, and
  // the ellipse follows that mass.
  torch::Tensor ellipse;
  {
    torch::NoGradGuard no_grad;  // only its values are used
    if (shape == HideShape::kPeak) {
      // p^k renormalised: the mode's weight grows k-fold in log-odds over the rest, so a second head with
      // half the mode's score weighs 1/16 of the mode at k = 4 (not 1/2) and no longer pulls the centre off it.
      constexpr double kPeakSharpening = 4;
      auto sharp = where.pow(kPeakSharpening);
      ellipse = ellipse_region(sharp / sharp.sum({1, 2, 3}, true), budget);
    } else {
      ellipse = ellipse_region(where, budget);
    }
  }
  return blob + (ellipse - blob.detach());
}

torch::Tensor BlendAnonymizerImpl::bank(const torch::Tensor& x) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outs;
  for (const auto& b : items_) {
    switch (b.kind) {
      case BankItem::Kind::kIdentity: outs.push_back(x); break;
      case BankItem::Kind::kBlur: outs.push_back(gaussian_blur(x, b.value)); break;
      case BankItem::Kind::kPixelate: outs.push_back(pixelate(x, static_cast<int64_t>(b.value))); break;
      case BankItem::Kind::kFill:
        outs.push_back(b.fitted ? fill_colour_.to(x.dtype()).view({1, 3, 1, 1}).expand_as(x) : torch::full_like(x, b.value));
        break;
    }
  }
  return torch::stack(outs, 1).detach();
}

// A fitted fill counts the pixels each picture hides at least this share of its most hidden pixel's share: the
// region's core, what the fill replaces outright. Weighted by the mask everywhere, the up-sampler's soft tails,
// a few per cent hidden over a background several times the region's area, pulled the colour from the head's
// (RGB 123, 88, 60 in the core of five trained regions) to a light grey (148, 132, 116), which costs the
// evaluator's clothing-colour answers (docs/results.md, "an eighteenth look"). An even mask (no budget, at the
// start) is all core: there each pixel counts with its weight as before.
constexpr double kFillCoreShare = 0.9;

torch::Tensor BlendAnonymizerImpl::fill_statistics(const torch::Tensor& x) {
  if (!has_fitted_fill()) throw UsageError("BlendAnonymizer: the bank has no fitted fill (fill:value=fit)");
  torch::NoGradGuard no_grad;
  int64_t k = 0;
  while (!items_[static_cast<size_t>(k)].fitted) ++k;
  // The soft mask ranks the pixels even with a hard edge: hidden outright, every pixel of the region would count as
  // core, the hair and the background round the head with it, and the colour would drift to a light grey.
  auto masks = mask(weights(x), x, options_.upsample);  // [N, K, S, S]
  auto hidden = 1 - masks.select(1, 0).unsqueeze(1);    // [N, 1, S, S]
  auto core = (hidden >= kFillCoreShare * hidden.amax({2, 3}, true)).to(x.scalar_type());
  auto m = masks.select(1, k).unsqueeze(1) * core;
  return torch::cat({(m * x).sum({0, 2, 3}), m.sum().view({1})}).to(torch::kFloat64).cpu();
}

torch::Tensor BlendAnonymizerImpl::fit_fill_colour(const torch::Tensor& sums) {
  if (!has_fitted_fill()) throw UsageError("BlendAnonymizer: the bank has no fitted fill (fill:value=fit)");
  torch::NoGradGuard no_grad;
  const double weight = sums[3].item<double>();
  // A fill no picture uses keeps its colour: there is nothing to fit.
  if (weight > 1e-6) fill_colour_.copy_((sums.slice(0, 0, 3) / weight).clamp(0, 1).to(fill_colour_.dtype()));
  return fill_colour_.clone();
}

torch::Tensor BlendAnonymizerImpl::residual(const torch::Tensor& x) {
  if (!options_.residual) return torch::zeros_like(x);
  return 0.25 * torch::tanh(residual_->forward(x));
}

torch::Tensor BlendAnonymizerImpl::mask(const torch::Tensor& weights, const torch::Tensor& picture, Upsample upsample, Edge edge) {
  auto h = picture.size(2), w = picture.size(3);
  auto soft = upsample == Upsample::kGuided
                  ? guided_upsample(weights, picture)
                  : F::interpolate(
                        weights, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
  if (!edge.hard()) return soft;
  return hardened(soft, edge) + (soft - soft.detach());  // the values are the hard mask's, the gradient the soft one's
}

torch::Tensor BlendAnonymizerImpl::hardened(const torch::Tensor& soft, Edge edge) {
  torch::NoGradGuard no_grad;
  auto hidden = 1 - soft.slice(1, 0, 1);                        // [N, 1, S, S]
  auto outright = (hidden >= edge.cut).to(soft.scalar_type());  // hidden at least the cut: hidden outright
  auto split = soft.slice(1, 1) / hidden.clamp_min(1e-6);       // the obfuscations' shares of what is hidden
  return torch::cat({1 - outright, split * outright}, 1);
}

torch::Tensor BlendAnonymizerImpl::render(const torch::Tensor& bank, const torch::Tensor& weights, Upsample upsample, Edge edge) {
  auto n = bank.size(0), k = bank.size(1), h = bank.size(3), w = bank.size(4);
  auto m = mask(weights, bank.select(1, 0), upsample, edge);  // the bank's first item is the picture itself
  return (m.view({n, k, 1, h, w}) * bank).sum(1);
}

torch::Tensor BlendAnonymizerImpl::forward(const torch::Tensor& x) {
  auto y = render(bank(x), weights(x), options_.upsample, options_.edge);
  return options_.residual ? (y + residual(x)).clamp(0, 1) : y;
}

namespace {

// t [1, C, S, S] sampled bilinearly at the centres of rows [y0, y1) and columns [x0, x1) of an h x w picture:
// that window of F::interpolate(t, {h, w}, bilinear, align_corners = false), without the rest.
torch::Tensor window_of_upsampled(const torch::Tensor& t, int64_t h, int64_t w, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
  auto centres = [&t](int64_t from, int64_t to, int64_t size) {
    return (torch::arange(from, to, t.options()) + 0.5) * (2.0 / static_cast<double>(size)) - 1;
  };
  auto gy = centres(y0, y1, h).view({-1, 1}).expand({y1 - y0, x1 - x0}), gx = centres(x0, x1, w).view({1, -1}).expand({y1 - y0, x1 - x0});
  auto grid = torch::stack({gx, gy}, -1).unsqueeze(0);  // [1, rows, cols, (x, y)]
  return F::grid_sample(t, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
}

}  // namespace

torch::Tensor BlendAnonymizerImpl::forward_any_size(const torch::Tensor& x) {
  const int64_t s = options_.input_size, h = x.size(2), w = x.size(3);
  if (h == s && w == s) return forward(x);
  auto small = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{s, s}).mode(torch::kArea));
  // The mask as forward() makes it, before the edge: [N, K, S, S]. Up-sampled bilinearly, a pixel can be hidden only
  // next to a working-resolution pixel that is (a hard edge: hidden at least the cut), so only that window is drawn.
  auto soft = mask(weights(small), small, options_.upsample);
  auto b = bank(small);  // [N, K, 3, S, S]; item 0 is the picture
  const int64_t k = b.size(1);
  auto y = x.clone();
  for (int64_t i = 0; i < x.size(0); ++i) {
    auto hidden = 1 - soft[i][0];
    auto hides = options_.edge.hard() ? hidden >= options_.edge.cut : hidden > 0;
    if (options_.residual) hides = torch::ones_like(hides);  // the residual reaches every pixel
    auto rows = hides.any(1).nonzero(), cols = hides.any(0).nonzero();
    if (rows.numel() == 0) continue;
    // A margin of a working-resolution pixel either side; its window in the picture's rows and columns.
    auto span = [](const torch::Tensor& idx, int64_t from_size, int64_t to_size) {
      const double scale = static_cast<double>(to_size) / static_cast<double>(from_size);
      const auto first = idx.min().item<int64_t>() - 1, last = idx.max().item<int64_t>() + 2;
      return std::pair<int64_t, int64_t>{std::max<int64_t>(0, static_cast<int64_t>(std::floor(static_cast<double>(first) * scale))),
                                         std::min<int64_t>(to_size, static_cast<int64_t>(std::ceil(static_cast<double>(last) * scale)))};
    };
    const auto [y0, y1] = span(rows, s, h);
    const auto [x0, x1] = span(cols, s, w);
    auto m = window_of_upsampled(soft.slice(0, i, i + 1), h, w, y0, y1, x0, x1);  // [1, K, rows, cols]
    if (options_.edge.hard()) m = hardened(m, options_.edge);
    auto obfuscations =
        window_of_upsampled(b[i].slice(0, 1).reshape({1, (k - 1) * 3, s, s}), h, w, y0, y1, x0, x1).view({k - 1, 3, y1 - y0, x1 - x0});
    auto picture = x[i].slice(1, y0, y1).slice(2, x0, x1);
    auto out = m[0][0] * picture + (m[0].slice(0, 1).unsqueeze(1) * obfuscations).sum(0);
    if (options_.residual) out = (out + window_of_upsampled(residual(small.slice(0, i, i + 1)), h, w, y0, y1, x0, x1)[0]).clamp(0, 1);
    y[i].slice(1, y0, y1).slice(2, x0, x1).copy_(out);
  }
  return y;
}

}  // namespace scrim::nets
