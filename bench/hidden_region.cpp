// Where a trained control-space anonymizer hides, against where the private
// and the task's evidence lie: over a synthetic benchmark's test pictures, the
// share of pixels it changes (by more than 25 of 255 in a channel) inside the
// main person's face box (the identity question's evidence, from the actions
// manifest), inside the shirt's box (the clothing-colour question's evidence,
// from the VQA manifest) and over the whole picture. The VQA results trace
// the clothing-colour answers lost to the second figure and the privacy kept
// to the first (docs/results.md). For a blend anonymizer also where its hidden region's centre lies from the
// face box's centre (median offsets, in face-box widths and heights: down and right positive). A diagnostic:
// it reads the labels.
//
// --shape (and --budget) re-render a blend anonymizer's own scores with another region shape (blob, ellipse,
// peak, head) and hide budget: where that shape would hide on the score map training left, without training
// again.
//
// --fill-colour R,G,B (0..255) sets a fitted fill's colour (fill:value=fit), e.g. to what the labelled ellipse's
// fill fits to (docs/results.md, "a tenth look").
// --offset F re-renders a head region moved down by F of its height from where its scores place it (negative:
// up): whether the placement misses by a shift all pictures share (docs/results.md, "an eighteenth look").
// --edge soft|hard|hard:C re-renders a blend anonymizer with that edge (nets::Edge): hard hides each pixel outright or
// not at all, so the region's soft edge no longer tints the shirt below it (docs/results.md, "a twentieth look").
// --save DIR writes each anonymizer as re-rendered (--shape, --budget, --fill-colour, --upsample, --edge; not --offset,
// which only the diagnostic draws) to DIR/PARENT-NAME.pt, for `scrim eval --protector anonymizer:...`.
//
// --list-off names the pictures whose hidden region's centre lies outside the face box.
//
// For a blend anonymizer also its rendered mask against the face's inscribed ellipse (the labelled region that
// hides the head at no utility cost, docs/results.md "a tenth look"): "ell in" is the mean hidden share over the
// ellipse's pixels (1: all of it hidden), "ell out" the share of the mask's mass outside it. --at-face puts the
// network's head region on the face box's centre instead of where its scores place it, rendered the same way:
// how much of the miss is the centre, and how much the rendering (the control grid and its up-sampler);
// --at-face-grid G renders it on a G x G control grid instead of the network's (the split over the obfuscations
// up-sampled bilinearly to G x G); --upsample U renders with up-sampler U (with or without --at-face).
//
// An argument that is not a .pt file is a protector spec (e.g. regions:faces,mode=solid): where a
// detector-driven protector hides, on the same pictures (the first three figures only).
//
//   scrim_bench_hidden_region ACTIONS_MANIFEST VQA_MANIFEST ANONYMIZER|PROTECTOR... [--shape S] [--budget B] [--list-off]
//                             [--at-face] [--at-face-grid G] [--upsample bilinear|guided] [--edge soft|hard[:C]] [--offset F]
//                             [--fill-colour R,G,B] [--save DIR]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "blend_rerender.h"
#include "method/anonymizer_model.h"
#include "nets/blend_anonymizer.h"
#include "scrim/core/error.h"
#include "scrim/data/manifest.h"
#include "scrim/media/image_io.h"
#include "scrim/media/tensor_image.h"
#include "scrim/privacy/protector.h"

using namespace scrim;

namespace {

// The evidence box of the first question of `type` among `items`, if any.
std::optional<Region> evidence_of(const std::vector<VqaItem>& items, const std::string& type) {
  for (const auto& q : items)
    if (q.question_type == type && q.evidence) return q.evidence;
  return std::nullopt;
}

// The share of `changed` [H, W] (bool) inside `r` (fractions of the picture).
double share_inside(const torch::Tensor& changed, const Region& r) {
  const auto h = changed.size(0), w = changed.size(1);
  auto clip = [](double v, int64_t hi) { return std::clamp<int64_t>(static_cast<int64_t>(v + 0.5), 0, hi); };
  int64_t x0 = clip(r.x * w, w), x1 = clip((r.x + r.w) * w, w), y0 = clip(r.y * h, h), y1 = clip((r.y + r.h) * h, h);
  if (x1 <= x0 || y1 <= y0) return 0;
  return changed.slice(0, y0, y1).slice(1, x0, x1).to(torch::kFloat64).mean().item<double>();
}

// Rendering options for the diagnostic: a control grid (0: the network's).
int64_t g_face_grid = 0;
double g_offset = 0;  // --offset

// The blend's controls for x [1, 3, S, S] (at its input size): its own, or with --offset its head region moved.
torch::Tensor placed_weights(nets::BlendAnonymizerImpl& blend, const torch::Tensor& x) {
  if (g_offset == 0) return blend.weights(x);
  auto logits = blend.logits(x);
  const int64_t n = logits.size(0), g = logits.size(2);
  auto where = torch::softmax(logits.select(1, 0).reshape({n, g * g}), 1).view({n, 1, g, g});
  auto hidden = nets::BlendAnonymizerImpl::head_region(where, blend.options().budget, g_offset);
  return torch::cat({1 - hidden, hidden * torch::softmax(logits.slice(1, 1), 1)}, 1);
}

// The blend's controls for x [1, 3, S, S] (at its input size) with its head region centred on the face box r
// instead of where its scores place it; the split over the obfuscations is the network's own.
torch::Tensor weights_at_face(nets::BlendAnonymizerImpl& blend, const torch::Tensor& x, const Region& r) {
  auto logits = blend.logits(x);
  if (g_face_grid > 0)
    logits = torch::nn::functional::interpolate(logits, torch::nn::functional::InterpolateFuncOptions()
                                                            .size(std::vector<int64_t>{g_face_grid, g_face_grid})
                                                            .mode(torch::kBilinear)
                                                            .align_corners(false));
  const int64_t g = logits.size(2), gx = logits.size(3);
  auto cy = torch::full({1}, (r.y + r.h / 2) * static_cast<double>(g), x.options());
  auto cx = torch::full({1}, (r.x + r.w / 2) * static_cast<double>(gx), x.options());
  auto hidden = nets::BlendAnonymizerImpl::head_region_at(cy, cx, g, gx, blend.options().budget);
  return torch::cat({1 - hidden, hidden * torch::softmax(logits.slice(1, 1), 1)}, 1);
}

// The picture x [1, 3, H, W] hidden by the blend with its region centred on the face box r (at the blend's input
// size, then the whole of it scaled back to the picture's: a diagnostic of the working resolution; apply_anonymizer
// draws the region at the picture's own size since 2026-12-06, which the synthetic 112-pixel pictures do not change).
// Without r: the network's own placement (moved by --offset), rendered with the diagnostic's up-sampler.
torch::Tensor rendered_with(nets::BlendAnonymizerImpl& blend, const torch::Tensor& x, const Region* r) {
  namespace F = torch::nn::functional;
  const auto s = blend.options().input_size;
  auto x_in = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{s, s}).mode(torch::kArea));
  auto y = nets::BlendAnonymizerImpl::render(blend.bank(x_in), r ? weights_at_face(blend, x_in, *r) : placed_weights(blend, x_in),
                                             blend.options().upsample, blend.options().edge);
  if (x.size(2) == s && x.size(3) == s) return y;
  return F::interpolate(
             y, F::InterpolateFuncOptions().size(std::vector<int64_t>{x.size(2), x.size(3)}).mode(torch::kBilinear).align_corners(false))
      .clamp(0, 1);
}

// The ellipse inscribed in r as a [S, S] indicator (1 inside) at S pixels per side.
torch::Tensor face_ellipse(int64_t s, const Region& r) {
  auto axis = (torch::arange(s, torch::kFloat64) + 0.5) / static_cast<double>(s);
  auto dy = (axis.view({-1, 1}) - (r.y + r.h / 2)) / (r.h / 2), dx = (axis.view({1, -1}) - (r.x + r.w / 2)) / (r.w / 2);
  return ((dy * dy + dx * dx) <= 1).to(torch::kFloat64);
}

// Of a hidden-share mask [S, S]: its mean over the pixels inside the ellipse inscribed in r, and the share of its
// mass outside that ellipse.
std::pair<double, double> against_face_ellipse(const torch::Tensor& hidden, const Region& r) {
  auto inside = face_ellipse(hidden.size(0), r);
  auto h = hidden.to(torch::kFloat64);
  const double mass = h.sum().item<double>();
  return {(h * inside).sum().item<double>() / inside.sum().clamp_min(1).item<double>(),
          mass > 0 ? (h * (1 - inside)).sum().item<double>() / mass : 0.0};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string shape;
  double budget = 0;
  bool list_off = false;
  bool at_face = false;
  int64_t at_face_grid = 0;
  std::string upsample_name, save_dir, edge;
  double offset = 0;
  bool offset_given = false;
  std::vector<double> fill_colour;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--offset" && i + 1 < argc) {
      char* end = nullptr;
      offset = std::strtod(argv[++i], &end);
      offset_given = true;
      if (*end != '\0' || !(std::abs(offset) <= 1)) {
        std::fprintf(stderr, "--offset must be a share of the region's height in [-1, 1], not '%s'\n", argv[i]);
        return 2;
      }
    } else if (a == "--fill-colour" && i + 1 < argc) {
      double r = -1, g = -1, b = -1;
      char tail = 0;
      if (std::sscanf(argv[++i], "%lf,%lf,%lf%c", &r, &g, &b, &tail) != 3 || std::min({r, g, b}) < 0 || std::max({r, g, b}) > 255) {
        std::fprintf(stderr, "--fill-colour must be R,G,B in 0..255, not '%s'\n", argv[i]);
        return 2;
      }
      fill_colour = {r / 255, g / 255, b / 255};
    } else if (a == "--edge" && i + 1 < argc) {
      edge = argv[++i];
    } else if (a == "--save" && i + 1 < argc) {
      save_dir = argv[++i];
    } else if (a == "--shape" && i + 1 < argc) {
      shape = argv[++i];
    } else if (a == "--list-off") {
      list_off = true;
    } else if (a == "--at-face") {
      at_face = true;
    } else if (a == "--at-face-grid" && i + 1 < argc) {
      at_face_grid = std::atoll(argv[++i]);
      if (at_face_grid < 2 || at_face_grid > 448) {
        std::fprintf(stderr, "--at-face-grid must be a number of cells in 2..448, not '%s'\n", argv[i]);
        return 2;
      }
    } else if (a == "--upsample" && i + 1 < argc) {
      upsample_name = argv[++i];
    } else if (a == "--budget" && i + 1 < argc) {
      char* end = nullptr;
      budget = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(budget > 0 && budget <= 1)) {
        std::fprintf(stderr, "--budget must be a number in (0, 1], not '%s'\n", argv[i]);
        return 2;
      }
    } else {
      files.push_back(a);
    }
  }
  if (argc < 4 || files.empty()) {
    std::fprintf(stderr,
                 "usage: %s ACTIONS_MANIFEST VQA_MANIFEST ANONYMIZER|PROTECTOR... [--shape blob|ellipse|peak|head] [--budget B] "
                 "[--list-off] [--at-face] [--at-face-grid G] [--upsample bilinear|guided] [--edge soft|hard[:C]] [--offset F] "
                 "[--fill-colour R,G,B] [--save DIR]\n",
                 argv[0]);
    return 2;
  }
  if (offset_given && !save_dir.empty()) {
    std::fprintf(stderr, "--offset only re-renders for the diagnostic: it cannot be saved with --save\n");
    return 2;
  }
  g_face_grid = at_face_grid, g_offset = offset;
  try {
    torch::NoGradGuard no_grad;
    Manifest actions = read_manifest(argv[1]), vqa = read_manifest(argv[2]);
    // Per test picture: its face box (actions manifest) and shirt box (VQA manifest), by resolved path.
    struct Boxes {
      std::optional<Region> face, shirt;
    };
    std::map<std::string, Boxes> pictures;
    for (const auto* s : actions.split("test"))
      if (!s->media.images.empty()) pictures[actions.resolve(s->media.images[0]).string()].face = evidence_of(s->privacy.questions, "identity");
    for (const auto* s : vqa.split("test"))
      if (s->task.kind == Task::Kind::kVqa && s->task.vqa.question_type == "clothing_color" && !s->media.images.empty())
        pictures[vqa.resolve(s->media.images[0]).string()].shirt = s->task.vqa.evidence;
    std::printf("%-48s %8s %10s %10s %10s %10s %8s %8s %8s %8s %8s  %s\n", "anonymizer", "pictures", "face box", "shirt box", "picture",
                "face>=0.5", "off dy", "off dx", "centred", "ell in", "ell out", "bank mix");
    for (const auto& file : files) {
      const bool is_model = file.size() > 3 && file.compare(file.size() - 3, 3, ".pt") == 0;
      std::unique_ptr<Protector> protector;
      method::AnonymizerModel model;
      if (is_model) {
        model = method::read_anonymizer(file);
        if (!shape.empty() || budget > 0 || !upsample_name.empty() || !edge.empty())
          model = bench::rerendered(model, shape, budget, upsample_name, edge);
        if (auto* b = method::blend_anonymizer(model); offset_given && (!b || b->options().shape != nets::HideShape::kHead))
          throw UsageError("--offset moves a head region: " + file + " has none");
        if (!fill_colour.empty()) {
          auto* b = method::blend_anonymizer(model);
          if (!b || !b->has_fitted_fill()) throw UsageError("--fill-colour sets a fitted fill's colour: " + file + " has none");
          b->fit_fill_colour(torch::tensor({fill_colour[0], fill_colour[1], fill_colour[2], 1.0}, torch::kFloat64));
        }
        if (!save_dir.empty()) {
          const std::filesystem::path source(file);
          auto target = std::filesystem::path(save_dir) / (source.parent_path().filename().string() + "-" + source.filename().string());
          std::filesystem::create_directories(save_dir);
          torch::serialize::OutputArchive archive;
          method::write_anonymizer(archive, model);
          archive.save_to(target.string());
          std::printf("wrote %s\n", target.string().c_str());
        }
      } else {
        protector = make_protector(file);
      }
      double face = 0, shirt = 0, whole = 0, face_half = 0;
      int64_t n = 0, faces = 0, shirts = 0;
      std::vector<double> off_y, off_x;
      double centred = 0, ellipse_in = 0, ellipse_out = 0;
      torch::Tensor mix;  // the hidden weight per obfuscation, summed over pictures
      torch::Tensor colour_mean, colour_square, colour_core, colour_face, colour_hist;
      auto* blend = is_model ? method::blend_anonymizer(model) : nullptr;
      for (const auto& [path, boxes] : pictures) {
        const auto picture = read_image(path);
        auto x = image_to_tensor(picture).unsqueeze(0);
        auto y = is_model ? method::apply_anonymizer(model, x) : image_to_tensor(protector->protect(picture)).unsqueeze(0);
        if (blend && at_face && boxes.face) y = rendered_with(*blend, x, &*boxes.face);
        else if (blend && offset_given) y = rendered_with(*blend, x, nullptr);
        auto changed = ((y - x).abs().amax(1)[0] > 25.0 / 255.0);
        whole += changed.to(torch::kFloat64).mean().item<double>();
        ++n;
        if (boxes.face) {
          double f = share_inside(changed, *boxes.face);
          face += f, face_half += f >= 0.5, ++faces;
          if (blend) {
            const auto& r = *boxes.face;
            auto x_in = torch::nn::functional::interpolate(
                x, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{model.input_size(), model.input_size()}).mode(torch::kArea));
            auto weights = at_face ? weights_at_face(*blend, x_in, r) : placed_weights(*blend, x_in);
            const auto& rendering = blend->options();
            auto h = (1 - nets::BlendAnonymizerImpl::mask(weights, x_in, rendering.upsample, rendering.edge)[0][0])
                         .to(torch::kFloat64);  // [S, S]
            auto [in, out] = against_face_ellipse(h, r);
            ellipse_in += in, ellipse_out += out;
            {
              // What the hidden region covers, in colour: its mask-weighted sum, its core's (hidden share >= 0.9), a
              // 256-bin histogram per channel weighted by the mask, and the labelled face ellipse's colour.
              auto px = x_in[0].to(torch::kFloat64);  // [3, S, S]
              auto core = (h >= 0.9).to(torch::kFloat64);
              auto face = face_ellipse(h.size(0), r);
              auto add = [&](torch::Tensor& acc, const torch::Tensor& w) {
                auto sums = torch::cat({(px * w).sum({1, 2}), w.sum().view({1})});
                acc = acc.defined() ? acc + sums : sums;
              };
              add(colour_mean, h), add(colour_square, h * h), add(colour_core, core), add(colour_face, face);
              auto bins = (px * 255).round().clamp(0, 255).to(torch::kLong).view({3, -1});
              auto hist = torch::zeros({3, 256}, torch::kFloat64);
              for (int64_t c = 0; c < 3; ++c) hist[c].index_add_(0, bins[c], h.view({-1}));
              colour_hist = colour_hist.defined() ? colour_hist + hist : hist;
            }
            auto w = weights[0];                // [K, G, G]
            auto hidden = 1 - w[0];             // [G, G]
            auto per_item = w.slice(0, 1).sum({1, 2}).to(torch::kFloat64);
            mix = mix.defined() ? mix + per_item : per_item;
            const auto g = hidden.size(0);
            auto axis = (torch::arange(g, torch::kFloat64) + 0.5) / static_cast<double>(g);
            auto m = hidden.to(torch::kFloat64) / hidden.sum().item<double>();
            double cy = (m * axis.view({-1, 1})).sum().item<double>(), cx = (m * axis.view({1, -1})).sum().item<double>();
            off_y.push_back((cy - (r.y + r.h / 2)) / r.h), off_x.push_back((cx - (r.x + r.w / 2)) / r.w);
            bool on_face = std::abs(off_y.back()) < 0.5 && std::abs(off_x.back()) < 0.5;
            centred += on_face;
            if (list_off && !on_face) std::printf("  off the face: %s (%.2f, %.2f)\n", path.c_str(), off_y.back(), off_x.back());
          }
        }
        if (boxes.shirt) shirt += share_inside(changed, *boxes.shirt), ++shirts;
      }
      std::string name = file + (shape.empty() ? "" : " " + shape) + (budget > 0 ? " B " + std::to_string(budget).substr(0, 5) : "");
      auto median = [](std::vector<double> v) {
        if (v.empty()) return std::nan("");
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
      };
      std::string bank_mix;
      if (mix.defined())
        for (int64_t k = 0; k < mix.size(0); ++k) bank_mix += (k ? " " : "") + std::to_string(mix[k].item<double>() / mix.sum().item<double>()).substr(0, 4);
      if (offset_given) name += " offset " + std::to_string(offset).substr(0, 5);
      if (!fill_colour.empty())
        name += " fill " + std::to_string(fill_colour[0] * 255).substr(0, 3) + "," + std::to_string(fill_colour[1] * 255).substr(0, 3) +
                "," + std::to_string(fill_colour[2] * 255).substr(0, 3);
      if (at_face) name += " at face" + (at_face_grid ? " G " + std::to_string(at_face_grid) : "");
      if (!upsample_name.empty()) name += " " + upsample_name;
      const double m = off_y.empty() ? 1.0 : static_cast<double>(off_y.size());
      std::printf("%-48s %8lld %10.3f %10.3f %10.3f %10.3f %8.2f %8.2f %8.3f %8.3f %8.3f  %s\n", name.c_str(), static_cast<long long>(n),
                  faces ? face / faces : 0.0, shirts ? shirt / shirts : 0.0, n ? whole / n : 0.0, faces ? face_half / faces : 0.0,
                  median(off_y), median(off_x), centred / m, ellipse_in / m, ellipse_out / m, bank_mix.c_str());
      if (colour_hist.defined()) {
        auto rgb = [](const torch::Tensor& sums) {
          char out[48];
          std::snprintf(out, sizeof out, "%.0f,%.0f,%.0f", 255 * sums[0].item<double>() / sums[3].item<double>(),
                        255 * sums[1].item<double>() / sums[3].item<double>(), 255 * sums[2].item<double>() / sums[3].item<double>());
          return std::string(out);
        };
        auto cdf = colour_hist.cumsum(1) / colour_hist.sum(1, true);
        std::string med;
        for (int64_t c = 0; c < 3; ++c) med += (c ? "," : "") + std::to_string((cdf[c] < 0.5).sum().item<int64_t>());
        std::printf(
            "  covered colour (RGB): mask-weighted %s, squared-mask-weighted %s, core %s, weighted median %s; the face ellipse %s\n",
            rgb(colour_mean).c_str(), rgb(colour_square).c_str(), rgb(colour_core).c_str(), med.c_str(), rgb(colour_face).c_str());
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
