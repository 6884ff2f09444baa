// Estimator quality on the reference MLLM: how close the black-box utility
// gradient comes to the true one (read through the white-box reference model),
// per estimator and probe count, with the diagnostics that say why (medians
// over the samples):
//   image_cos       cosine with the true gradient in the probed space's own terms
//                   (pixel: the image x'; control: the blend weights' tangent part, the only
//                   part that reaches the parameters)
//   ceiling         |P_S g| / |g|: the share of the gradient the probe basis can see at all
//                   (control: cos(J^T P_T g, J^T g), which is 1 when nothing is lost)
//   basis_cos       cosine with P_S g, the most any number of probes can reach
//   split_half_cos  the estimate's own figure for basis_cos, from two independent halves
//                   of its probes (no true gradient needed); split_half_error = |difference|
//   split_half_pooled_cos  the same pooled over a batch (cos^2 estimates averaged, then the root:
//                   train-log.jsonl's split_half_cos); split_half_pooled_error = |it - the batch's
//                   mean basis_cos|, median over the batches
//   param_cos       cosine after both are mapped to the anonymizer's parameters (J^T g),
//                   per sample; batch_param_cos for the batch's sum, which moves training;
//                   split_half_batch_cos its split-half figure (train-log.jsonl's split_half_param_cos)
//   coherence       c = |sum_i G_i|^2 / sum_i |G_i|^2 of the true parameter gradients of a batch
//   flat_pairs      share of probe pairs whose loss difference is below float resolution
//
//   scrim_bench_estimator MODEL MANIFEST [SAMPLES=48] [--json] [--q 4,8,16,32]
//                         [--estimators pixel,control] [--loss margin|logprob|hard] [--grid G] [--mu-control M]
//                         [--surrogate MODEL] [--surrogate-lr LR] [--warmup N] [--blend-init-steps N] [--visits V]
//                         [--anonymizer FILE [--edge soft|hard[:C]]]
// --visits V: each batch is estimated V times at the same point with the per-sample memory on (history
// prior: a returning sample's last estimate is its prior), and the last visit is measured; queries_per_image
// counts one visit.
// --anonymizer FILE: the control estimators (only: pass --estimators control,...) start from a trained blend
// anonymizer instead of near the identity (where a hidden region's edge lies, which the identity has none of), with
// its own grid and bank (--grid and --blend-init-steps do not apply); --edge re-renders it with another edge
// (nets::Edge): at a hard edge a probe changes only the pixels that cross the cut (docs/results.md, "a twenty-second
// look").
//
// pixel: the U-Net near the identity, probed in an 8 x 8 coarse image basis (mu 0.03);
// control: the control-space anonymizer (G x G blend weights over the identity, blur,
// pixelation and a grey fill) near the identity, probed in its blend weights.
// control-head: the same, probed only within the range of the blend weights' Jacobian
// with respect to the network's 1 x 1 head (method/probe_space.h).
// pixel+surrogate, control+surrogate: the same with the transfer prior of --surrogate
// (another reference model: one pair along its gradient, the rest orthogonal;
// prior_param_cos is the prior's own cosine; not used with the head basis). No history (it would make the
// halves dependent). Batches of 8.
// pixel+prgf, control+prgf: the same fixed prior used as P-RGF publishes it (two scout pairs measure its
// cosine alpha, the rest mix it with orthogonal directions by lambda*; optim/prior_mixing.h), where +surrogate
// is the subspace variant (method/utility_gradient.h: PriorMix).
// pixel+online, control+online: the --surrogate model learned online from the black box's probe
// differences (method/surrogate_prior.h, Adam at --surrogate-lr): it first learns from the probes of
// --warmup training samples (the first training steps of a run), then keeps learning on the measured
// samples; agreement_start / agreement_end are its agreement with the black box over the first and
// last quarter of the warm-up.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "blend_rerender.h"
#include "method/anonymizer_model.h"
#include "method/blackbox_utility.h"
#include "method/probe_space.h"
#include "method/surrogate_prior.h"
#include "method/training_set.h"
#include "method/utility_gradient.h"
#include "optim/zo_estimator.h"
#include "reference/reference_whitebox.h"
#include "scrim/core/error.h"
#include "scrim/core/runtime.h"
#include "scrim/reference/oracle_factory.h"

using namespace scrim;
using nlohmann::json;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Rows b0 .. min(n, b0 + batch) - 1.
std::vector<int64_t> batch_rows(int64_t b0, int64_t n, int batch) {
  std::vector<int64_t> rows;
  for (int64_t i = b0; i < std::min(n, b0 + batch); ++i) rows.push_back(i);
  return rows;
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  for (std::string t; std::getline(ss, t, ',');) out.push_back(std::stoi(t));
  return out;
}

struct Setup {
  std::string estimator;  // pixel | control | control-head (the probe space; a +surrogate suffix is the caller's)
  bool head_basis = false;
  method::AnonymizerModel model;
  optim::ZerothOrderEstimator basis{optim::ZoOptions{}};
  double mu = 0.03;
};

// --anonymizer's file, re-rendered with `edge` unless it is empty: a blend anonymizer at the benchmark's 112 pixels.
// Throws UsageError otherwise.
method::AnonymizerModel read_trained(const std::string& file, const std::string& edge) {
  auto model = method::read_anonymizer(file);
  auto* blend = method::blend_anonymizer(model);
  if (!blend || blend->options().input_size != 112) throw UsageError(file + ": --anonymizer takes a blend anonymizer at 112 pixels");
  if (!edge.empty()) model = bench::rerendered(model, "", 0, "", edge);
  model.net().eval();
  return model;
}

// An anonymizer near the identity, as at the start of training; or (control, `trained` given) that trained blend
// anonymizer.
Setup make_setup(const std::string& estimator, const method::TrainingSet& data, int grid, double mu_control, int blend_init_steps,
                 const std::optional<method::AnonymizerModel>& trained = std::nullopt) {
  Setup s;
  s.estimator = estimator == "pixel" ? "pixel" : "control";
  s.head_basis = estimator == "control-head";
  torch::manual_seed(1);
  optim::ZoOptions zo;
  zo.grid = 8;
  s.mu = s.estimator == "control" ? mu_control : 0.03;
  zo.mu = s.mu;
  s.basis = optim::ZerothOrderEstimator(zo);
  if (trained && s.estimator == "control") {
    s.model = *trained;
    return s;
  }
  nets::BlendAnonymizerOptions blend;
  blend.grid = grid;
  s.model = method::make_anonymizer_model(s.estimator == "control" ? "blend" : "unet", 112, 8, 3, 6, blend);
  auto n = static_cast<int64_t>(data.size());
  torch::optim::Adam init(s.model.net().parameters(), torch::optim::AdamOptions(3e-3));
  // As in training: the U-Net learns the identity by L1; the control-space anonymizer starts near it by
  // construction (L1 steps would saturate its softmax; --blend-init-steps reproduces that).
  const int init_steps = s.estimator == "control" ? blend_init_steps : 150;
  for (int i = 0; i < init_steps; ++i) {
    auto x = data.stack({i % n, (i * 7 + 3) % n, (i * 13 + 5) % n, (i * 29 + 1) % n});
    init.zero_grad();
    torch::nn::functional::l1_loss(s.model.forward(x), x).backward();
    init.step();
  }
  s.model.net().eval();
  return s;
}

// The control grid the setup probes: the trained anonymizer's own, or --grid.
int64_t blend_grid(const Setup& s) { return method::blend_anonymizer(s.model)->options().grid; }

torch::Tensor flat_parameter_grad(const method::AnonymizerModel& model) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : model.net().parameters()) parts.push_back(p.grad().defined() ? p.grad().flatten().clone() : torch::zeros({p.numel()}));
  return torch::cat(parts);
}

// The anonymizer's parameter gradient of `scalar(space)` for one sample alone (J^T of a gradient in its space).
torch::Tensor parameter_grad(const Setup& s, const method::TrainingSet& data, int64_t row,
                             const std::function<torch::Tensor(const method::ProbeSpace&)>& scalar) {
  std::vector<std::vector<int64_t>> groups;
  auto x = data.stack({row}, &groups);
  auto space = method::make_probe_space(s.model, x, groups, s.basis);
  s.model.net().zero_grad();
  scalar(*space).backward();
  return flat_parameter_grad(s.model);
}

// The true gradient of the loss for one sample, in its probe coordinates and (pixel) in image space.
struct Truth {
  torch::Tensor coords;  // d L / d coordinates (pixel: coarse cell sums; control: blend weights)
  torch::Tensor seen;    // the part of it the probes can see (pixel: all; control: the tangent or the head basis)
  torch::Tensor image;   // pixel only: d L / d x' [T, 3, S, S]
  torch::Tensor params;  // J^T of the full gradient
  torch::Tensor params_projected;  // J^T of its projection on the probe basis
};

torch::Tensor loss_of(ReferenceMllm& model, const method::TrainingSet& data, int64_t row, const torch::Tensor& images, bool margin) {
  auto groups = std::vector<std::vector<int64_t>>{{}};
  for (int64_t f = 0; f < images.size(0); ++f) groups[0].push_back(f);
  auto l = reference_answer_losses(model, images, {data.prompts[row]}, {data.answers[row]}, groups);
  return (margin ? l.margin : l.cross_entropy).sum();
}

Truth truth_of(const Setup& s, ReferenceMllm& model, const method::TrainingSet& data, int64_t row, bool margin) {
  std::vector<std::vector<int64_t>> groups;
  auto x = data.stack({row}, &groups);
  Truth t;
  std::unique_ptr<method::ProbeSpace> space;
  {
    torch::NoGradGuard no_grad;
    space = method::make_probe_space(s.model, x, groups, s.basis, s.head_basis);
  }
  // The gradient with respect to the probe coordinates, through the very images the probes send.
  auto offset = torch::zeros(space->shape(0)).unsqueeze(0).requires_grad_(true);
  auto images = space->images(0, offset).view({-1, 3, x.size(2), x.size(3)});
  t.coords = torch::autograd::grad({loss_of(model, data, row, images, margin)}, {offset})[0][0];
  if (s.estimator == "pixel") {
    auto leaf = images.detach().clone().requires_grad_(true);
    t.image = torch::autograd::grad({loss_of(model, data, row, leaf, margin)}, {leaf})[0];
    t.params = parameter_grad(s, data, row, [&](const method::ProbeSpace& sp) { return optim::ZerothOrderEstimator::surrogate(sp.x_prime(), t.image); });
    auto projected = s.basis.project(t.image.reshape({-1, x.size(2), x.size(3)})).view(t.image.sizes());
    t.params_projected = parameter_grad(s, data, row, [&](const method::ProbeSpace& sp) { return optim::ZerothOrderEstimator::surrogate(sp.x_prime(), projected); });
    t.seen = t.coords;
  } else {
    t.params = parameter_grad(s, data, row, [&](const method::ProbeSpace& sp) { return sp.surrogate({t.coords}); });
    t.seen = space->constrain(t.coords);  // the part a probe within the simplex can see
    if (auto q = space->basis(0).q; q.defined()) {
      auto flat = q.flatten(1);
      t.seen = torch::matmul(flat.t(), torch::matmul(flat, t.coords.flatten())).view(t.coords.sizes());
    }
    t.params_projected = parameter_grad(s, data, row, [&](const method::ProbeSpace& sp) { return sp.surrogate({t.seen}); });
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  bool as_json = false;
  std::vector<int> qs = {4, 8, 16, 32};
  std::vector<std::string> estimators = {"pixel", "control"};
  std::string loss_kind = "margin";
  int grid = 8;
  double mu_control = 0.1;
  std::string surrogate_file;
  double surrogate_lr = 3e-4;
  int warmup = 96;
  int blend_init_steps = 0;
  int visits = 1;  // >1: each batch is estimated this many times with the per-sample memory on; the last visit is measured
  std::string trained, edge;  // --anonymizer, --edge
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--json") as_json = true;
    else if (a == "--q") qs = parse_list(value());
    else if (a == "--estimators") {
      estimators.clear();
      std::stringstream ss(value());
      for (std::string t; std::getline(ss, t, ',');) estimators.push_back(t);
    } else if (a == "--loss") loss_kind = value();
    else if (a == "--grid") grid = std::stoi(value());
    else if (a == "--mu-control") mu_control = std::stod(value());
    else if (a == "--surrogate") surrogate_file = value();
    else if (a == "--surrogate-lr") surrogate_lr = std::stod(value());
    else if (a == "--warmup") warmup = std::stoi(value());
    else if (a == "--blend-init-steps") blend_init_steps = std::stoi(value());
    else if (a == "--visits") visits = std::max(1, std::stoi(value()));
    else if (a == "--anonymizer") trained = value();
    else if (a == "--edge") edge = value();
    else positional.push_back(a);
  }
  if (positional.size() < 2 || (loss_kind != "margin" && loss_kind != "logprob" && loss_kind != "hard")) {
    std::fprintf(stderr,
                 "usage: %s MODEL MANIFEST [SAMPLES=48] [--json] [--q 4,8,16,32] [--estimators pixel,control] [--loss margin|logprob|hard] "
                 "[--grid G] [--mu-control M] [--surrogate MODEL] [--surrogate-lr LR] [--warmup N] [--blend-init-steps N] "
                 "[--visits V] [--anonymizer FILE [--edge soft|hard[:C]]]\n",
                 argv[0]);
    return 2;
  }
  for (const auto& e : estimators) {
    auto base = e.substr(0, e.find('+'));
    if ((base != "pixel" && base != "control" && base != "control-head") ||
        (base != e && e != base + "+surrogate" && e != base + "+online" && e != base + "+prgf")) {
      std::fprintf(stderr, "unknown estimator '%s' (pixel, control, control-head, each optionally +surrogate, +prgf or +online)\n", e.c_str());
      return 2;
    }
    if (base != e && surrogate_file.empty()) {
      std::fprintf(stderr, "%s needs --surrogate MODEL\n", e.c_str());
      return 2;
    }
  }
  if (!edge.empty() && trained.empty()) {
    std::fprintf(stderr, "--edge re-renders an --anonymizer FILE\n");
    return 2;
  }
  if (!trained.empty()) {
    for (const auto& e : estimators)
      if (e.rfind("control", 0) != 0) {
        std::fprintf(stderr, "--anonymizer applies to the control estimators only, not '%s' (--estimators control,...)\n", e.c_str());
        return 2;
      }
    if (!edge.empty()) {
      try {
        nets::parse_edge(edge);
      } catch (const std::exception&) {
        std::fprintf(stderr, "--edge must be soft, hard or hard:C with C in (0, 1], not '%s'\n", edge.c_str());
        return 2;
      }
    }
  }
  reexec_with_thread_environment(argv);
  std::optional<method::AnonymizerModel> trained_model;
  if (!trained.empty()) {
    try {  // the file, before any work
      trained_model = read_trained(trained, edge);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 2;
    }
  }
  configure_threads();
  int samples = positional.size() > 2 ? std::stoi(positional[2]) : 48;
  // The true gradient is the margin's (the cross-entropy's for logprob); hard labels are scored 1 - utility.
  const bool margin = loss_kind != "logprob";
  const auto utility_loss = loss_kind == "hard"      ? method::UtilityLoss::kHardLabel
                            : loss_kind == "logprob" ? method::UtilityLoss::kNegLogProb
                                                     : method::UtilityLoss::kMargin;
  auto model = ReferenceMllm::load(positional[0]);
  auto data = method::load_training_set(positional[1], "test", 112, 4, samples);
  const int64_t n = static_cast<int64_t>(data.size());
  const int batch = 8;

  if (!as_json)
    std::printf("%-8s %4s %7s %9s %8s %9s %10s %8s %9s %9s %10s %10s %9s %8s\n", "estim.", "q", "queries", "image_cos", "ceiling", "basis_cos",
                "split_half", "pooled", "param_cos", "param_ceil", "batch_cos", "split_batch", "coherence", "flat");
  for (const auto& estimator : estimators) {
    const bool with_prior = estimator.find('+') != std::string::npos;
    const bool online = estimator.find("+online") != std::string::npos;
    Setup s = make_setup(estimator.substr(0, estimator.find('+')), data, grid, mu_control, blend_init_steps, trained_model);
    std::vector<Truth> truth;
    for (int64_t i = 0; i < n; ++i) truth.push_back(truth_of(s, *model, data, i, margin));
    std::vector<double> coherence;
    for (int64_t b0 = 0; b0 < n; b0 += batch) {
      torch::Tensor sum = torch::zeros_like(truth[b0].params);
      double energy = 0;
      for (int64_t i = b0; i < std::min(n, b0 + batch); ++i) {
        sum += truth[i].params;
        energy += truth[i].params.pow(2).sum().item<double>();
      }
      if (energy > 0) coherence.push_back(sum.pow(2).sum().item<double>() / energy);
    }
    for (int q : qs) {
      auto start = std::chrono::steady_clock::now();
      OracleStackOptions no_cache;
      auto stack = make_oracle("reference:" + positional[0], no_cache);
      method::BlackBoxUtility utility(*stack.oracle, data, 8, 20, utility_loss);
      // The per-sample memory only when revisiting (it makes a visit's halves depend on the last one).
      optim::CriticalHistory history(optim::HistoryOptions{visits > 1 ? optim::HistoryMode::kPrior : optim::HistoryMode::kNone});
      method::BlackBoxOptions bo;
      bo.zo = s.basis.options();
      bo.zo.probes = q;
      bo.scout_probes = q;
      if (estimator.find("+prgf") != std::string::npos) {  // two scouts measure alpha, the rest mix by lambda*
        bo.prior_mix = method::PriorMix::kPrgf;
        bo.scout_probes = std::min(q, 2);
      }
      method::BlackBoxGradient estimate(utility, bo, history, data);
      // A fresh surrogate per probe count; online, it first learns from a warm-up of training samples.
      std::unique_ptr<method::SurrogatePrior> prior;
      json agreement_start = nullptr, agreement_end = nullptr;
      if (with_prior) {
        method::SurrogatePriorOptions so;
        so.learning_rate = online ? surrogate_lr : 0;
        auto model_copy = ReferenceMllm::load(surrogate_file);
        if (online && warmup > 0) {
          auto train = method::load_training_set(positional[1], "train", 112, 4, warmup);
          method::SurrogatePrior learner(model_copy, train, so);
          method::BlackBoxUtility train_utility(*stack.oracle, train, 8, 20, utility_loss);
          method::BlackBoxGradient train_estimate(train_utility, bo, history, train);
          train_estimate.set_prior(&learner);
          const int64_t tn = static_cast<int64_t>(train.size());
          std::vector<double> agreement;
          for (int64_t b0 = 0; b0 < tn; b0 += batch) {
            auto rows = batch_rows(b0, tn, batch);
            std::vector<std::vector<int64_t>> groups;
            auto x = train.stack(rows, &groups);
            torch::NoGradGuard no_grad;
            auto space = method::make_probe_space(s.model, x, groups, s.basis, s.head_basis);
            train_estimate.step(*space, rows, 104729 * static_cast<uint64_t>(b0) + static_cast<uint64_t>(q));
            agreement.push_back(learner.take_agreement().first);
          }
          size_t quarter = std::max<size_t>(1, agreement.size() / 4);
          agreement_start = median(std::vector<double>(agreement.begin(), agreement.begin() + static_cast<int64_t>(quarter)));
          agreement_end = median(std::vector<double>(agreement.end() - static_cast<int64_t>(quarter), agreement.end()));
        }
        prior = std::make_unique<method::SurrogatePrior>(model_copy, data, so);
      }
      estimate.set_prior(prior.get());
      std::vector<double> alpha;
      std::vector<double> prior_param_cos;
      std::vector<double> image_cos, ceiling, basis_cos, split_half, split_error, param_cos, param_ceiling, batch_cos, split_batch;
      std::vector<double> split_pooled, split_pooled_error;  // per batch: the pooled split-half, |it - the batch's mean basis_cos|
      int64_t pairs = 0, flat = 0;
      for (int64_t b0 = 0; b0 < n; b0 += batch) {
        auto rows = batch_rows(b0, n, batch);
        std::vector<std::vector<int64_t>> groups;
        auto x = data.stack(rows, &groups);
        method::UtilityStep step;
        std::vector<torch::Tensor> priors;
        {
          torch::NoGradGuard no_grad;
          auto space = method::make_probe_space(s.model, x, groups, s.basis, s.head_basis);
          if (prior)  // the priors the step uses (an online surrogate learns during the step)
            for (size_t k = 0; k < rows.size(); ++k) priors.push_back(space->constrain(prior->prior(*space, k, rows[k])));
          for (int v = 0; v < visits; ++v)  // earlier visits only fill the memory
            step = estimate.step(*space, rows, 7919 * static_cast<uint64_t>(b0) + static_cast<uint64_t>(q) + 104729 * static_cast<uint64_t>(v));
        }
        pairs += step.pairs;
        if (step.prior_alpha >= 0) alpha.push_back(step.prior_alpha);
        flat += step.flat_pairs;
        torch::Tensor sum_est, sum_true, sum_a, sum_b;
        double batch_basis = 0;
        for (size_t k = 0; k < rows.size(); ++k) {
          const auto& e = estimate.last_estimates()[k];
          const Truth& t = truth[rows[k]];
          const auto& projected = t.seen;
          basis_cos.push_back(optim::cosine(e.g, projected));
          double sh = optim::split_half_cosine(e.a, e.b, e.g, e.weight_a, e.weight_b);
          split_half.push_back(sh);
          split_error.push_back(std::abs(sh - basis_cos.back()));
          batch_basis += basis_cos.back() / static_cast<double>(rows.size());
          auto to_params = [&](const torch::Tensor& g) {
            return parameter_grad(s, data, rows[k], [&](const method::ProbeSpace& sp) { return sp.surrogate({g}); });
          };
          if (s.estimator == "pixel") {
            auto img = s.basis.expand(e.g, t.image.reshape({-1, t.image.size(2), t.image.size(3)}));
            image_cos.push_back(optim::cosine(img, t.image));
            auto proj = s.basis.project(t.image.reshape({-1, t.image.size(2), t.image.size(3)}));
            ceiling.push_back(proj.norm().item<double>() / std::max(1e-30, t.image.norm().item<double>()));
          } else {
            // Only the tangent part of a blend-weight gradient reaches the parameters (the rest is in
            // softmax's kernel): the probes see all of what matters, and the ceiling is J^T's cosine.
            image_cos.push_back(optim::cosine(e.g, projected));
            ceiling.push_back(optim::cosine(t.params_projected, t.params));
          }
          auto est = to_params(e.g), ga = to_params(e.a), gb = to_params(e.b);
          param_cos.push_back(optim::cosine(est, t.params));
          if (prior) prior_param_cos.push_back(optim::cosine(to_params(priors[k]), t.params));
          param_ceiling.push_back(optim::cosine(t.params_projected, t.params));
          sum_est = sum_est.defined() ? sum_est + est : est;
          sum_true = sum_true.defined() ? sum_true + t.params : t.params.clone();
          sum_a = sum_a.defined() ? sum_a + ga : ga;
          sum_b = sum_b.defined() ? sum_b + gb : gb;
        }
        batch_cos.push_back(optim::cosine(sum_est, sum_true));
        split_batch.push_back(optim::split_half_cosine(sum_a, sum_b, sum_est, step.weight_a, step.weight_b));
        double pooled = optim::pooled_split_half_cosine(step.split_half_cos2_sum, step.split_half_samples);
        split_pooled.push_back(pooled);
        split_pooled_error.push_back(std::abs(pooled - batch_basis));
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      json row = {{"estimator", estimator},
                  {"loss", loss_kind},
                  {"space", s.estimator == "pixel" ? "image 8x8 basis"
                                                   : "blend weights " + std::to_string(blend_grid(s)) + "x" +
                                                         std::to_string(blend_grid(s)) + (s.head_basis ? ", head basis" : "")},
                  {"probes", q},
                  {"queries_per_image", 1 + 2 * q},
                  {"visits", visits},
                  {"mu", s.mu},
                  {"samples", n},
                  {"image_cos", median(image_cos)},
                  {"ceiling", median(ceiling)},
                  {"basis_cos", median(basis_cos)},
                  {"split_half_cos", median(split_half)},
                  {"split_half_error", median(split_error)},
                  {"split_half_pooled_cos", median(split_pooled)},
                  {"split_half_pooled_error", median(split_pooled_error)},
                  {"param_cos", median(param_cos)},
                  {"param_ceiling", median(param_ceiling)},
                  {"batch_param_cos", median(batch_cos)},
                  {"split_half_batch_cos", median(split_batch)},
                  {"coherence", median(coherence)},
                  {"prior_param_cos", prior ? json(median(prior_param_cos)) : json(nullptr)},
                  {"prior_alpha", prior ? json(median(alpha)) : json(nullptr)},
                  {"agreement_start", agreement_start},
                  {"agreement_end", agreement_end},
                  {"measured_agreement", prior && online ? json(prior->take_agreement().first) : json(nullptr)},
                  {"flat_pairs", pairs > 0 ? static_cast<double>(flat) / static_cast<double>(pairs) : 0.0},
                  {"seconds", seconds}};
      if (as_json) {
        std::printf("%s\n", row.dump().c_str());
      } else {
        std::printf("%-8s %4d %7d %9.3f %8.3f %9.3f %10.3f %8.3f %9.3f %9.3f %10.3f %10.3f %9.2f %8.3f\n", estimator.c_str(), q, 1 + 2 * q,
                    median(image_cos), median(ceiling), median(basis_cos), median(split_half), median(split_pooled), median(param_cos),
                    median(param_ceiling),
                    median(batch_cos), median(split_batch), median(coherence), row["flat_pairs"].get<double>());
      }
      std::fflush(stdout);
    }
  }
  return 0;
}
