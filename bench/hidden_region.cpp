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
// --list-off names the pictures whose hidden region's centre lies outside the face box.
//
// An argument that is not a .pt file is a protector spec (e.g. regions:faces,mode=solid): where a
// detector-driven protector hides, on the same pictures (the first three figures only).
//
//   scrim_bench_hidden_region ACTIONS_MANIFEST VQA_MANIFEST ANONYMIZER|PROTECTOR... [--shape S] [--budget B] [--list-off]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

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

// The same network re-rendered with another region shape and budget: its parameters copied into a net built with them.
method::AnonymizerModel with_shape(const method::AnonymizerModel& model, const std::string& shape, double budget) {
  auto* blend = method::blend_anonymizer(model);
  if (!blend) throw UsageError("--shape and --budget apply to blend anonymizers only");
  auto options = blend->options();
  if (!shape.empty()) options.shape = nets::parse_hide_shape(shape);
  if (budget > 0) options.budget = budget;
  auto other = method::make_anonymizer_model("blend", options.input_size, options.width, 0, 0, options);
  torch::NoGradGuard no_grad;
  auto from = model.net().parameters(), to = other.net().parameters();
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  other.net().eval();
  return other;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string shape;
  double budget = 0;
  bool list_off = false;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--shape" && i + 1 < argc) {
      shape = argv[++i];
    } else if (a == "--list-off") {
      list_off = true;
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
    std::fprintf(stderr, "usage: %s ACTIONS_MANIFEST VQA_MANIFEST ANONYMIZER|PROTECTOR... [--shape blob|ellipse|peak|head] [--budget B] [--list-off]\n", argv[0]);
    return 2;
  }
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
    std::printf("%-48s %8s %10s %10s %10s %10s %8s %8s %8s  %s\n", "anonymizer", "pictures", "face box", "shirt box", "picture", "face>=0.5",
                "off dy", "off dx", "centred", "bank mix");
    for (const auto& file : files) {
      const bool is_model = file.size() > 3 && file.compare(file.size() - 3, 3, ".pt") == 0;
      std::unique_ptr<Protector> protector;
      method::AnonymizerModel model;
      if (is_model) {
        model = method::read_anonymizer(file);
        if (!shape.empty() || budget > 0) model = with_shape(model, shape, budget);
      } else {
        protector = make_protector(file);
      }
      double face = 0, shirt = 0, whole = 0, face_half = 0;
      int64_t n = 0, faces = 0, shirts = 0;
      std::vector<double> off_y, off_x;
      double centred = 0;
      torch::Tensor mix;  // the hidden weight per obfuscation, summed over pictures
      auto* blend = is_model ? method::blend_anonymizer(model) : nullptr;
      for (const auto& [path, boxes] : pictures) {
        const auto picture = read_image(path);
        auto x = image_to_tensor(picture).unsqueeze(0);
        auto y = is_model ? method::apply_anonymizer(model, x) : image_to_tensor(protector->protect(picture)).unsqueeze(0);
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
            auto w = blend->weights(x_in)[0];  // [K, G, G]
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
      std::printf("%-48s %8lld %10.3f %10.3f %10.3f %10.3f %8.2f %8.2f %8.3f  %s\n", name.c_str(), static_cast<long long>(n),
                  faces ? face / faces : 0.0, shirts ? shirt / shirts : 0.0, n ? whole / n : 0.0, faces ? face_half / faces : 0.0,
                  median(off_y), median(off_x), off_y.empty() ? 0.0 : centred / static_cast<double>(off_y.size()), bank_mix.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
