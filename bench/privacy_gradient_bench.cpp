// Where the game's privacy gradient points, on the control-space anonymizer:
// does it ask to erase the main person's head — the region whose erasure takes
// four fifths of what retrained attackers read (docs/results.md, "The ceiling")
// — or something else? Attackers are trained as the trainer's warm-up trains
// them, on the anonymizer's output; then, per sample of the train split (the
// synthetic manifests give the head's evidence box), with g = dL/dw the
// gradient of a loss with respect to the blend weights w [K, G, G]:
//   head_energy    share of |g|^2 in the cells that overlap the head box
//   head_area      those cells' share of the grid (what an uninformed gradient gives)
//   erase_head     the loss's directional derivative for moving a unit of weight from the
//                  identity to the grey fill in every head cell, per cell (< 0: erasing helps)
//   erase_other    the same per cell elsewhere
//   head_precision of the |head cells| cells whose erase derivative is most negative, the
//                  share that are head cells (1: the gradient is a head detector)
//   fill_head_delta / fill_random_delta
//                  the loss's change when the head cells are really filled, and when as many
//                  cells at a random place are (finite, not first-order)
//   hidden_head / hidden_other (hiding) its own blend weight off the identity, mean per cell
//                  in the head cells and elsewhere: does it hide the head?
//   loss, loss_head_filled  the loss itself, before and after the head is filled
//   right, right_head_filled (utility) the share of samples answered right (margin > 0) before
//                  and after: a mean, not a median
// for the privacy loss (KL of the attackers' outputs to the label prior; its two terms apart too:
// privacy_attributes, the attributes' mean KL, and privacy_identity, the identities' KL) and the white-box
// utility loss (the reference MLLM's answer margin). Medians over the samples.
//
//   scrim_bench_privacy_gradient MODEL MANIFEST [--anonymizer FILE] [--samples 64] [--warmup 200]
//                                [--arch resnet18] [--members 2] [--grid 16] [--train 1000] [--seed 1]
//                                [--erasing N]   (the attackers' random erasing, method/privacy_adversary.h)
#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "method/anonymizer_model.h"
#include "method/privacy_adversary.h"
#include "method/training_set.h"
#include "reference/reference_whitebox.h"
#include "scrim/reference/reference_mllm.h"

using namespace scrim;
using nlohmann::json;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Cells of a G x G grid that overlap the box (fractions of the picture) by at least a quarter of a cell.
torch::Tensor cell_mask(const Region& r, int64_t g) {
  auto mask = torch::zeros({g, g});
  for (int64_t i = 0; i < g; ++i)
    for (int64_t j = 0; j < g; ++j) {
      double x0 = static_cast<double>(j) / g, y0 = static_cast<double>(i) / g, s = 1.0 / g;
      double ox = std::max(0.0, std::min(x0 + s, r.x + r.w) - std::max(x0, r.x));
      double oy = std::max(0.0, std::min(y0 + s, r.y + r.h) - std::max(y0, r.y));
      if (ox * oy >= 0.25 * s * s) mask[i][j] = 1;
    }
  return mask;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL MANIFEST [--anonymizer FILE] [--samples N] [--warmup N] [--arch A] [--members M] [--grid G] [--train N] [--seed S]\n", argv[0]);
    return 2;
  }
  std::map<std::string, std::string> opt = {{"--samples", "64"}, {"--warmup", "200"}, {"--arch", "resnet18"}, {"--members", "2"},
                                            {"--grid", "16"}, {"--train", "1000"}, {"--seed", "1"}, {"--anonymizer", ""}, {"--erasing", "0"}};
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!opt.count(argv[i])) {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
    opt[argv[i]] = argv[i + 1];
  }
  torch::manual_seed(std::stoull(opt["--seed"]));
  auto model = ReferenceMllm::load(argv[1]);
  auto data = method::load_training_set(argv[2], "train", 112, 1, std::stoi(opt["--train"]));
  nets::BlendAnonymizerOptions blend;
  blend.grid = std::stoi(opt["--grid"]);
  auto anonymizer = opt["--anonymizer"].empty() ? method::make_anonymizer_model("blend", 112, 8, 3, 6, blend)
                                                : method::read_anonymizer(opt["--anonymizer"]);
  auto* net = method::blend_anonymizer(anonymizer);
  if (!net) {
    std::fprintf(stderr, "--anonymizer: not a control-space (blend) anonymizer\n");
    return 2;
  }
  anonymizer.net().eval();
  const int64_t g = net->options().grid, kinds = net->kinds(), fill = kinds - 1;

  method::AdversaryOptions adv;
  adv.arch = opt["--arch"];
  adv.members = std::stoi(opt["--members"]);
  adv.erasing = std::stoi(opt["--erasing"]);
  method::PrivacyAdversary attackers(adv, static_cast<int64_t>(data.attributes.size()), static_cast<int64_t>(data.identity_index.size()));
  std::mt19937_64 rng(std::stoull(opt["--seed"]));
  std::uniform_int_distribution<int64_t> pick(0, static_cast<int64_t>(data.size()) - 1);
  double adversary_loss = 0;
  for (int i = 0; i < std::stoi(opt["--warmup"]); ++i) {
    std::vector<int64_t> rows(8);
    for (auto& r : rows) r = pick(rng);
    torch::Tensor xp;
    {
      torch::NoGradGuard no_grad;
      xp = anonymizer.forward(data.stack(rows));
    }
    auto idx = torch::tensor(rows, torch::kLong);
    adversary_loss = attackers.update(xp, data.attribute_labels.index_select(0, idx), data.identity_labels.index_select(0, idx));
  }

  std::map<std::string, std::map<std::string, std::vector<double>>> m;  // loss -> figure -> per sample
  const int samples = std::min<int>(std::stoi(opt["--samples"]), static_cast<int>(data.size()));
  int measured = 0;
  for (int64_t row = 0; row < static_cast<int64_t>(data.size()) && measured < samples; ++row) {
    const Sample& s = *data.samples[static_cast<size_t>(row)];
    auto q = std::find_if(s.privacy.questions.begin(), s.privacy.questions.end(),
                          [](const VqaItem& v) { return v.question_type == "identity" && v.evidence; });
    if (q == s.privacy.questions.end()) continue;
    auto head = cell_mask(*q->evidence, g);
    const double n_head = head.sum().item<double>();
    if (n_head == 0 || n_head >= g * g / 2) continue;
    ++measured;
    auto x = data.stack({row});
    torch::Tensor bank, w0;
    {
      torch::NoGradGuard no_grad;
      bank = net->bank(x);
      w0 = net->weights(x);
    }
    auto losses = [&](const torch::Tensor& w) {
      auto xp = nets::BlendAnonymizerImpl::render(bank, w);
      auto l = reference_answer_losses(*model, xp, {data.prompts[row]}, {data.answers[row]}, {{0}});
      auto attributes = attackers.privacy_loss(xp, 0.0), whole = attackers.privacy_loss(xp, 1.0);
      return std::map<std::string, torch::Tensor>{{"privacy", whole}, {"privacy_attributes", attributes},
                                                  {"privacy_identity", whole - attributes}, {"utility", l.margin.sum()}};
    };
    // Move the head cells' (or random cells') weight to the fill.
    auto filled = [&](const torch::Tensor& cells) {
      auto w = w0 * (1 - cells).view({1, 1, g, g});
      w.select(1, fill).add_(cells.view({1, g, g}));
      return w;
    };
    auto perm = torch::randperm(g * g, torch::kLong);
    auto random_cells = torch::zeros({g * g});
    random_cells.index_put_({perm.slice(0, 0, static_cast<int64_t>(n_head))}, 1);
    random_cells = random_cells.view({g, g});
    std::map<std::string, torch::Tensor> base, at_head, at_random;
    {
      torch::NoGradGuard no_grad;
      base = losses(w0);
      at_head = losses(filled(head));
      at_random = losses(filled(random_cells));
    }
    {  // where the anonymizer itself hides: its weight off the identity, in the head cells and elsewhere
      auto hidden = 1 - w0[0][0];
      m["hiding"]["hidden_head"].push_back((hidden * head).sum().item<double>() / n_head);
      m["hiding"]["hidden_other"].push_back((hidden * (1 - head)).sum().item<double>() / (g * g - n_head));
    }
    auto w = w0.clone().requires_grad_(true);
    auto at_w = losses(w);  // one forward pass; each loss's gradient from it
    for (const std::string name : {"privacy", "privacy_attributes", "privacy_identity", "utility"}) {
      auto grad = torch::autograd::grad({at_w[name]}, {w}, {}, /*retain_graph=*/true)[0][0];  // [K, G, G]
      auto energy = grad.pow(2).sum(0);
      auto erase = grad[fill] - grad[0];  // d loss for weight moved from the identity to the fill
      auto& f = m[name];
      f["head_energy"].push_back((energy * head).sum().item<double>() / energy.sum().clamp_min(1e-30).item<double>());
      f["head_area"].push_back(n_head / static_cast<double>(g * g));
      f["erase_head"].push_back((erase * head).sum().item<double>() / n_head);
      f["erase_other"].push_back((erase * (1 - head)).sum().item<double>() / (g * g - n_head));
      auto top = std::get<1>(erase.flatten().topk(static_cast<int64_t>(n_head), 0, /*largest=*/false));
      f["head_precision"].push_back(head.flatten().index_select(0, top).sum().item<double>() / n_head);
      f["fill_head_delta"].push_back((at_head[name] - base[name]).item<double>());
      f["fill_random_delta"].push_back((at_random[name] - base[name]).item<double>());
      f["loss"].push_back(base[name].item<double>());
      f["loss_head_filled"].push_back(at_head[name].item<double>());
      // utility: the answer stays right (margin > 0) with the head filled
      f["right_head_filled"].push_back(at_head[name].item<double>() < 0 ? 1.0 : 0.0);
      f["right"].push_back(base[name].item<double>() < 0 ? 1.0 : 0.0);
    }
  }
  json out = {{"samples", measured}, {"grid", g}, {"warmup", std::stoi(opt["--warmup"])}, {"arch", opt["--arch"]},
              {"anonymizer", opt["--anonymizer"].empty() ? "fresh" : opt["--anonymizer"]}, {"adversary_loss", adversary_loss}};
  for (auto& [name, figures] : m)
    for (auto& [figure, values] : figures)
      out[name][figure] = figure.rfind("right", 0) == 0 ? std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size())
                                                       : median(values);
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
