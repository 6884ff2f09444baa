#include "scrim/method/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "method/answer_price.h"
#include "method/anonymizer_model.h"
#include "method/batch_share.h"
#include "method/blackbox_utility.h"
#include "method/candidate_selection.h"
#include "method/privacy_adversary.h"
#include "method/placement_search.h"
#include "method/privacy_focus.h"
#include "method/probe_space.h"
#include "method/surrogate_prior.h"
#include "method/training_set.h"
#include "method/utility_gradient.h"
#include "optim/critical_history.h"
#include "optim/pareto_combiner.h"
#include "reference/reference_whitebox.h"
#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/core/rng.h"
#include "scrim/distributed/process_group.h"
#include "scrim/media/protector.h"
#include "scrim/oracle/oracle_error.h"
#include "scrim/reference/reference_mllm.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim {

namespace {

// Every field config.json records, named once: to_json and train_options_from_json both walk this list.
template <class Options, class Visit>
void visit_recorded_fields(Options& o, Visit&& v) {
  v("manifest", o.manifest), v("mllm", o.mllm), v("gradient", o.gradient), v("estimator", o.estimator), v("pareto", o.pareto);
  v("preference", o.preference), v("utility_norm", o.utility_norm), v("history", o.history), v("probes", o.probes), v("scout_probes", o.scout_probes), v("mu", o.mu);
  v("grid", o.grid), v("distribution", o.distribution), v("hard_label", o.hard_label), v("fidelity", o.fidelity);
  v("top_logprobs", o.top_logprobs), v("steps", o.steps), v("batch", o.batch), v("learning_rate", o.learning_rate);
  v("sgd_learning_rate", o.sgd_learning_rate), v("init_steps", o.init_steps), v("init_target", o.init_target);
  v("adversary_warmup", o.adversary_warmup), v("adversary_arch", o.adversary_arch), v("adversary_members", o.adversary_members);
  v("adversary_restart", o.adversary_restart), v("adversary_learning_rate", o.adversary_learning_rate);
  v("adversary_steps", o.adversary_steps), v("adversary_erasing", o.adversary_erasing), v("privacy_cells", o.privacy_cells);
  v("privacy_pretrain", o.privacy_pretrain), v("pretrain_adversary_steps", o.pretrain_adversary_steps);
  v("pretrain_search_attackers", o.pretrain_search_attackers);
  v("pretrain_surrogate", o.pretrain_surrogate), v("placement", o.placement), v("pretrain_fill", o.pretrain_fill);
  v("candidates", o.candidates), v("candidate_questions", o.candidate_questions), v("candidate_baseline", o.candidate_baseline);
  v("candidate_lead", o.candidate_lead);
  v("utility_margin", o.utility_margin), v("privacy_target", o.privacy_target), v("privacy_identity_weight", o.privacy_identity_weight), v("width", o.width), v("depth", o.depth);
  v("size", o.size), v("anonymizer", o.anonymizer), v("blend_grid", o.blend_grid), v("blend_context", o.blend_context);
  v("blend_stride", o.blend_stride), v("blend_upsample", o.blend_upsample), v("hide_budget", o.hide_budget);
  v("blend_edge", o.blend_edge);
  v("hide_shape", o.hide_shape), v("bank", o.bank);
  v("blend_residual", o.blend_residual), v("probe_basis", o.probe_basis), v("prior", o.prior), v("prior_mix", o.prior_mix), v("surrogate", o.surrogate);
  v("surrogate_lr", o.surrogate_lr), v("levels", o.levels), v("frames", o.frames), v("max_train", o.max_train), v("seed", o.seed);
  v("world_size", o.world_size), v("recipe", o.recipe);
}

}  // namespace

json to_json(const TrainOptions& o) {
  json j = json::object();
  visit_recorded_fields(o, [&j](const char* key, const auto& value) { j[key] = value; });
  return j;
}

TrainOptions train_options_from_json(const json& config) {
  if (!config.is_object()) throw UsageError("a training config must be a JSON object");
  TrainOptions o;
  std::set<std::string> known;
  visit_recorded_fields(o, [&](const char* key, auto& value) {
    known.insert(key);
    if (!config.contains(key)) return;
    try {
      config.at(key).get_to(value);
    } catch (const json::exception&) {
      throw UsageError(std::string("training config: '") + key + "' has the wrong type (" + config.at(key).type_name() + ")");
    }
  });
  for (auto it = config.begin(); it != config.end(); ++it)
    if (!known.count(it.key())) throw UsageError("training config: unknown key '" + it.key() + "'");
  return o;
}

namespace {

namespace F = torch::nn::functional;

// Random streams, one per purpose, derived from (seed, purpose, step): a resumed run draws the same numbers.
enum Stream : uint64_t {
  kInitBatch = 1,
  kWarmupBatch = 2,
  kBatch = 3,
  kProbes = 4,
  kGlobal = 5,
  kAdversaryBatch = 6,
  kPrivacyBatch = 7,
  kPretrainBatch = 8,
  kPretrainUtilityBatch = 9,
  kCandidateDraw = 10,
  kCandidateQuestions = 11,
  kCandidateAttacker = 12,
  kPretrainAdversaryBatch = 13
};

// The placements whose searched positions are priced by the surrogate's answers to each picture's questions.
bool priced_placement(const std::string& placement) { return placement == "search-utility" || placement == "search-measured"; }

void validate(const TrainOptions& o) {
  auto one_of = [](const std::string& v, std::initializer_list<const char*> ok, const std::string& flag) {
    for (const char* k : ok)
      if (v == k) return;
    std::string list;
    for (const char* k : ok) list += (list.empty() ? "" : ", ") + std::string(k);
    throw UsageError(flag + " must be one of " + list + " (got '" + v + "')");
  };
  if (o.manifest.empty()) throw UsageError("train: --data is required");
  if (o.out.empty()) throw UsageError("train: --out is required");
  one_of(o.gradient, {"blackbox", "whitebox"}, "--gradient");
  if (o.gradient == "blackbox" && !o.oracle.oracle) throw UsageError("train: no oracle to query (--mllm is required)");
  one_of(o.anonymizer, {"unet", "bdq", "blend"}, "--anonymizer");
  one_of(o.probe_basis, {"head", "controls"}, "--probe-basis");
  one_of(o.prior, {"none", "surrogate"}, "--prior");
  one_of(o.prior_mix, {"subspace", "prgf"}, "--prior-mix");
  if (o.prior_mix != "subspace" && o.prior != "surrogate") throw UsageError("--prior-mix needs --prior surrogate");
  if (o.prior_mix == "prgf" && (o.scout_probes < 2 || o.probes <= o.scout_probes || o.estimator == "spsa-gc"))
    throw UsageError("--prior-mix prgf measures the prior's cosine with at least two scout pairs and mixes the rest in: "
                     "--scout-probes >= 2, --probes > --scout-probes, not with --estimator spsa-gc");
  if (o.prior == "surrogate") {
    if (o.gradient != "blackbox") throw UsageError("--prior surrogate guides the black-box estimate; --gradient whitebox reads the true gradient");
    if (!o.surrogate_model) throw UsageError("--prior surrogate needs --surrogate MODEL (a scrim reference model file)");
    if (!(o.surrogate_lr >= 0 && o.surrogate_lr <= 1)) throw UsageError("--surrogate-lr must be in [0, 1]");
  }
  if (o.anonymizer == "blend") {
    nets::parse_bank(o.bank);  // throws UsageError naming a bad item
    if (o.blend_grid < 2 || o.blend_grid > 32) throw UsageError("--blend-grid must be in 2..32");
    if (o.blend_context < 0 || o.blend_context > 6) throw UsageError("--blend-context must be in 0..6");
    if (o.blend_stride != 4 && o.blend_stride != 8) throw UsageError("--blend-stride must be 4 or 8");
    nets::parse_upsample(o.blend_upsample);  // throws UsageError naming a bad value
    nets::parse_edge(o.blend_edge);
    if (!(o.hide_budget >= 0 && o.hide_budget <= 1)) throw UsageError("--hide-budget must be in [0, 1]");
    nets::parse_hide_shape(o.hide_shape);  // throws UsageError naming a bad value
    if (o.hide_shape != "blob" && !(o.hide_budget > 0)) throw UsageError("--hide-shape ellipse, peak or head needs a --hide-budget");
  }
  if (o.levels < 2) throw UsageError("--levels must be at least 2");
  if (!o.init_target.empty()) {
    if (o.anonymizer == "bdq") throw UsageError("--init-target: a BDQ encoder starts from its own blur and bins, not from a target");
    if (!o.init_target_protector) throw UsageError("--init-target: no protector was built from '" + o.init_target + "'");
  }
  one_of(o.estimator, {"zo", "spsa-gc"}, "--estimator");
  one_of(o.pareto, {"mgda", "preference", "weighted"}, "--pareto");
  one_of(o.utility_norm, {"raw", "split-half"}, "--utility-norm");
  if (o.utility_norm != "raw" && (o.pareto == "weighted" || o.gradient != "blackbox"))
    throw UsageError("--utility-norm split-half scales a black-box estimate in --pareto mgda or preference");
  if (o.utility_norm != "raw" && o.fidelity > 0)
    throw UsageError("--utility-norm split-half scales the estimate itself; --fidelity mixes a second direction into it");
  if (o.utility_norm != "raw" && o.prior != "none")
    throw UsageError("--utility-norm split-half reads the estimate's split-half figure, which a --prior makes meaningless (its halves share the prior)");
  one_of(o.privacy_target, {"prevalence", "half"}, "--privacy-target");
  if (!(o.privacy_identity_weight >= 0 && o.privacy_identity_weight <= 100))
    throw UsageError("--privacy-identity-weight must be in [0, 100]");
  one_of(o.distribution, {"gaussian", "rademacher"}, "--distribution");
  optim::parse_history_mode(o.history);
  if (o.gradient == "whitebox" && !o.white_box)
    throw UsageError("--gradient whitebox needs the in-process reference MLLM (--mllm reference:MODEL)");
  if (o.preference < 0 || o.preference > 1) throw UsageError("--preference must be in [0, 1]");
  if (!(o.fidelity >= 0)) throw UsageError("--fidelity must not be negative");
  if (o.probes < 1 || o.scout_probes < 1 || o.mu <= 0 || o.grid < 0) throw UsageError("--probes, --scout-probes and --mu must be positive");
  if (o.steps < 0 || o.batch < 1 || o.init_steps < 0 || o.adversary_warmup < 0) throw UsageError("--steps, --batch, --init-steps must not be negative");
  if (o.adversary_steps < 1 || o.adversary_steps > 64) throw UsageError("--adversary-steps must be in 1..64");
  if (o.adversary_erasing < 0 || o.adversary_erasing > 16) throw UsageError("--adversary-erasing must be in 0..16");
  if (!(o.privacy_cells >= 0 && o.privacy_cells <= 1)) throw UsageError("--privacy-cells must be in [0, 1]");
  if (!(o.utility_margin >= 0 && o.utility_margin <= 100)) throw UsageError("--utility-margin must be in [0, 100] nats");
  if (o.utility_margin > 0 && o.hard_label) throw UsageError("--utility-margin caps the log-odds margin; --hard-label has none");
  if (o.privacy_pretrain < 0) throw UsageError("--privacy-pretrain must not be negative");
  if (o.pretrain_adversary_steps < 0 || o.pretrain_adversary_steps > 64) throw UsageError("--pretrain-adversary-steps must be in 0..64");
  if (o.pretrain_adversary_steps > 0 && !(o.privacy_pretrain > 0))
    throw UsageError("--pretrain-adversary-steps updates the attackers during --privacy-pretrain: it needs --privacy-pretrain");
  if (o.pretrain_surrogate && !(o.privacy_pretrain > 0 && o.surrogate_model))
    throw UsageError("--pretrain-surrogate weighs --surrogate MODEL's utility in the --privacy-pretrain steps: it needs both");
  // Without a budget the privacy loss alone would hide every cell.
  if (o.privacy_pretrain > 0 && (o.anonymizer != "blend" || !(o.hide_budget > 0)))
    throw UsageError("--privacy-pretrain needs --anonymizer blend with a --hide-budget");
  one_of(o.placement, {"gradient", "search", "search-only", "search-utility", "search-measured"}, "--placement");
  one_of(o.pretrain_fill, {"fitted", "grey"}, "--pretrain-fill");
  if (o.pretrain_fill != "fitted") {
    if (!pretrain_fill_applies(o))
      throw UsageError("--pretrain-fill " + o.pretrain_fill +
                       " is the colour --privacy-pretrain places a fitted fill (--bank fill:value=fit) against: it needs both");
  }
  const bool priced = priced_placement(o.placement);
  const bool searched = o.placement != "gradient";
  if (searched && !(o.privacy_pretrain > 0))
    throw UsageError("--placement " + o.placement + " is how --privacy-pretrain places the region: it needs --privacy-pretrain");
  if (searched && o.hide_shape != "head")
    throw UsageError("--placement " + o.placement + " searches for a head-shaped region: it needs --hide-shape head");
  one_of(o.pretrain_search_attackers, {"current", "average", "start-and-current"}, "--pretrain-search-attackers");
  if (o.pretrain_search_attackers != "current" && !(searched && o.pretrain_adversary_steps > 0))
    throw UsageError("--pretrain-search-attackers " + o.pretrain_search_attackers +
                     " is what a --placement search scores against while --pretrain-adversary-steps updates the attackers: it needs both");
  if (priced && !o.surrogate_model)
    throw UsageError("--placement " + o.placement + " prices the search by a local model's answers: it needs --surrogate MODEL");
  if (o.candidates < 1 || o.candidates > 16) throw UsageError("--candidates must be in 1..16");
  if (o.candidates > 1) {
    if (!(o.privacy_pretrain > 0)) throw UsageError("--candidates chooses among pre-trained draws: it needs --privacy-pretrain");
    if (o.gradient != "blackbox") throw UsageError("--candidates chooses by the black box's answers: it needs --gradient blackbox");
    if (o.candidate_questions < 10) throw UsageError("--candidate-questions must be at least 10");
    if (o.group != nullptr && o.group->distributed())
      throw UsageError("train: --candidates runs in one process (its draws are not shared between ranks)");
  }
  if (!o.candidate_baseline.empty()) {
    if (o.candidates < 2) throw UsageError("--candidate-baseline is what --candidates K (K >= 2) draws are held to");
    if (!o.candidate_baseline_protector) throw UsageError("--candidate-baseline: no protector was built from '" + o.candidate_baseline + "'");
  }
  if (!(o.candidate_lead >= -5 && o.candidate_lead <= 5)) throw UsageError("--candidate-lead must be in [-5, 5] standard errors");
  if (o.privacy_cells > 0 && (o.anonymizer != "blend" || o.blend_residual))
    throw UsageError("--privacy-cells focuses the blend weights: it needs --anonymizer blend without --blend-residual");
  if (o.learning_rate <= 0 || o.sgd_learning_rate <= 0 || o.adversary_learning_rate <= 0) throw UsageError("learning rates must be positive");
  if (o.size % (1 << o.depth) != 0) throw UsageError("--size must be divisible by 2^depth");
  if (o.device != "cpu" && o.device != "cuda") throw UsageError("--device must be cpu or cuda");
  if (o.device == "cuda" && !torch::cuda::is_available()) throw UsageError("--device cuda: this LibTorch sees no CUDA device");
  if (o.group != nullptr && o.group->distributed()) {
    const int w = o.group->world_size();
    if (o.batch < w) throw UsageError("train: --batch " + std::to_string(o.batch) + " gives some of the " + std::to_string(w) + " processes no samples");
    if (o.device != "cpu") throw UsageError("train: data-parallel training runs on --device cpu (its collectives are Gloo's)");
    // The online surrogate learns from each probe as it is answered: its updates would need the
    // ranks' probes in one order (not built). A fixed transfer prior (rate 0) is the same on every rank.
    if (o.prior == "surrogate" && o.surrogate_lr > 0)
      throw UsageError("train: --surrogate-lr > 0 (an online surrogate) runs in one process only; with several, use a fixed prior (--surrogate-lr 0)");
  }
}

// Options that may change between a checkpoint and its resumption.
// world_size: a run may resume on another number of processes (docs/distributed.md says what that changes).
// recipe: only a name for fields that are compared themselves (a run started with --recipe resumes with them spelt out).
bool run_control_key(const std::string& k) { return k == "steps" || k == "mllm" || k == "world_size" || k == "recipe"; }

// Cosine decay to a tenth of the base rate after a 5% linear warm-up.
double scheduled_lr(double base, int64_t t, int64_t total) {
  double warm = std::min(1.0, static_cast<double>(t) / std::max<double>(1.0, 0.05 * static_cast<double>(total)));
  double progress = std::min(1.0, static_cast<double>(t - 1) / std::max<double>(1.0, static_cast<double>(total)));
  return base * warm * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * progress)));
}

torch::Tensor flat_grad(const std::vector<torch::Tensor>& grads, const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> parts;
  for (size_t i = 0; i < params.size(); ++i)
    parts.push_back(grads[i].defined() ? grads[i].flatten() : torch::zeros({params[i].numel()}, params[i].options()));
  return torch::cat(parts);
}

// Each parameter's gradient set to its part of the flattened `direction` (flat_grad's layout).
void set_grads(const std::vector<torch::Tensor>& params, const torch::Tensor& direction) {
  int64_t offset = 0;
  for (auto p : params) {
    const auto n = p.numel();
    p.mutable_grad() = direction.slice(0, offset, offset + n).view(p.sizes()).clone();
    offset += n;
  }
}

// Checksums of the parameters, to compare across ranks.
std::pair<double, double> checksum(const std::vector<torch::Tensor>& tensors) {
  double s1 = 0, s2 = 0;
  for (const auto& t : tensors) {
    if (!t.defined() || !t.is_floating_point()) continue;
    auto d = t.detach().to(torch::kCPU, torch::kFloat64);
    s1 += d.sum().item<double>();
    s2 += d.pow(2).sum().item<double>();
  }
  return {s1, s2};
}

class Trainer {
 public:
  explicit Trainer(const TrainOptions& o)
      : o_(o),
        combiner_(o.pareto == "mgda" ? Combiner::kMgda : o.pareto == "preference" ? Combiner::kPreference : Combiner::kWeighted),
        head_basis_(o.probe_basis == "head"),
        spsa_(o.estimator == "spsa-gc"),
        device_(o.device == "cuda" ? torch::kCUDA : torch::kCPU),
        history_(optim::HistoryOptions{o.estimator == "spsa-gc" ? optim::HistoryMode::kNone : optim::parse_history_mode(o.history)}),
        basis_(optim::ZoOptions{o.probes, o.mu, o.grid}) {
    o_.world_size = o.group != nullptr ? o.group->world_size() : 1;
    writer_ = o.group == nullptr || o.group->rank() == 0;
    data_ = method::load_training_set(o.manifest, "train", o.size, o.frames, o.max_train);
    // Refused here, before the attackers' warm-up, rather than when the pre-training reaches the search.
    if (priced_placement(o.placement) && separate_privacy())
      throw UsageError("--placement " + o.placement +
                       " prices the privacy side's pictures by their questions: this split has privacy-only samples");
    if (o.privacy_cells > 0)  // at least one cell
      focus_cells_ = std::max<int64_t>(1, std::llround(o.privacy_cells * static_cast<double>(o.blend_grid * o.blend_grid)));
    make_draw(o.seed);
    if (o.gradient == "whitebox") {
      gradient_ = std::make_unique<method::WhiteBoxGradient>(*o.white_box, data_, o.utility_margin);
    } else {
      utility_ = std::make_unique<method::BlackBoxUtility>(*o.oracle.oracle, data_, o.concurrency, o.top_logprobs,
                                                          o.hard_label ? method::UtilityLoss::kHardLabel : method::UtilityLoss::kMargin,
                                                          o.utility_margin);
      method::BlackBoxOptions bo;
      bo.zo.probes = o.probes;
      bo.zo.mu = o.mu;
      bo.zo.grid = o.grid;
      bo.zo.distribution = o.distribution == "rademacher" || o.estimator == "spsa-gc" ? optim::ProbeDistribution::kRademacher
                                                                                       : optim::ProbeDistribution::kGaussian;
      bo.scout_probes = o.estimator == "spsa-gc" ? o.probes : o.scout_probes;
      bo.prior_mix = o.prior_mix == "prgf" ? method::PriorMix::kPrgf : method::PriorMix::kSubspace;
      auto blackbox = std::make_unique<method::BlackBoxGradient>(*utility_, bo, history_, data_);
      if (o.prior == "surrogate") {
        method::SurrogatePriorOptions so;
        so.learning_rate = o.surrogate_lr;
        prior_ = std::make_unique<method::SurrogatePrior>(o.surrogate_model, data_, so);
        blackbox->set_prior(prior_.get());
      }
      gradient_ = std::move(blackbox);
    }
  }

  TrainResult run(const TrainCallback& on_step) {
    auto start = std::chrono::steady_clock::now();
    fs::create_directories(o_.out);
    const fs::path checkpoint = o_.out / "checkpoint.pt", log_path = o_.out / "train-log.jsonl";
    // Rank 0 alone writes the run (config, log, checkpoints, models); its --out decides
    // whether there is a run to resume, and a resumed run's state reaches the other ranks
    // from it (their --out may be another machine's folder).
    const bool exists = rank0_says(fs::exists(checkpoint));
    if (o_.resume && exists) {
      load_checkpoint(checkpoint);
      if (writer_) trim_log(log_path);
    } else {
      if (!o_.resume && exists)
        throw UsageError(o_.out.string() + " already holds a run; pass --resume to continue it or choose another --out");
      std::error_code ec;
      if (writer_) fs::remove(log_path, ec);
    }
    if (writer_) write_file_atomic(o_.out / "config.json", to_json(o_).dump(2) + "\n");
    const auto& cache = o_.oracle.cache;
    hits_at_start_ = cache ? cache->hits() : 0;
    const int64_t issued_at_start = queries_;  // the candidates' queries (--candidates) count in this run's
    if (!initialised_) {
      json record = initialise();  // every rank alike (no queries in a data-parallel run): the same start everywhere
      record["world_size"] = o_.world_size;
      if (record.contains("candidates"))
        selection_ = {{"drawn", record["candidates"].size()}, {"chosen", record["chosen"]}, {"dominates", record.value("dominates", json())}};
      if (writer_) {
        save_checkpoint(checkpoint);
        write_file_atomic(log_path, record.dump() + "\n");
      }
    }

    TrainResult result;
    std::ofstream log;
    if (writer_) log.open(log_path, std::ios::app);
    for (int64_t t = step_ + 1; t <= o_.steps; ++t) {
      json record;
      try {
        record = adversarial_step(t);
      } catch (const OracleError& e) {
        if (writer_) save_checkpoint(checkpoint);  // every finished step is kept
        if (e.kind() != OracleError::Kind::kBudget) throw;
        result.stopped = "budget";
        break;
      }
      record["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const bool keep = (o_.checkpoint_every > 0 && t % o_.checkpoint_every == 0) || t == o_.steps;
      if (keep && distributed()) record["params_checksum"] = same_parameters_everywhere(t);
      if (writer_) log << record.dump() << "\n" << std::flush;
      result.last = record;
      if (on_step) on_step(record);
      if (writer_ && o_.snapshot_every > 0 && t % o_.snapshot_every == 0) save_model(o_.out / ("anonymizer-step" + std::to_string(t) + ".pt"));
      if (writer_ && keep) save_checkpoint(checkpoint);
    }
    result.steps_done = static_cast<int>(step_);
    result.queries = queries_ - issued_at_start;
    // Every rank's cache hits in a data-parallel run (each step's record sums them).
    result.cache_hits = !distributed()           ? (cache ? cache->hits() : 0) - hits_at_start_
                        : result.last.is_object() ? result.last.value("cache_hits", int64_t{0})
                                                  : 0;  // no step ran
    result.anonymizer = o_.out / "anonymizer.pt";
    result.selection = selection_;
    if (writer_) save_model(result.anonymizer);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

 private:
  // A fresh anonymizer, its optimizer and its attackers from `seed` (the run's own, or a candidate draw's).
  void make_draw(uint64_t seed) {
    draw_seed_ = seed;
    torch::manual_seed(derive_seed(seed, kGlobal, 0));
    nets::BlendAnonymizerOptions blend;
    blend.grid = o_.blend_grid;
    blend.context = o_.blend_context;
    blend.stride = o_.blend_stride;
    blend.upsample = nets::parse_upsample(o_.blend_upsample);
    blend.edge = nets::parse_edge(o_.blend_edge);
    blend.budget = o_.hide_budget;
    blend.shape = nets::parse_hide_shape(o_.hide_shape);
    blend.bank = o_.bank;
    blend.residual = o_.blend_residual;
    model_ = method::make_anonymizer_model(o_.anonymizer, o_.size, o_.width, o_.depth, o_.levels, blend);
    model_.net().to(device_);
    make_optimizer();
    adversary_ = std::make_unique<method::PrivacyAdversary>(adversary_options(), static_cast<int64_t>(data_.attributes.size()),
                                                            static_cast<int64_t>(data_.identity_index.size()));
  }

  method::AdversaryOptions adversary_options() const {
    method::AdversaryOptions adv;
    adv.arch = o_.adversary_arch;
    adv.members = o_.adversary_members;
    adv.restart_every = o_.adversary_restart;
    adv.learning_rate = o_.adversary_learning_rate;
    adv.erasing = o_.adversary_erasing;
    adv.target = o_.privacy_target;
    adv.identity_weight = o_.privacy_identity_weight;
    adv.device = device_;
    return adv;
  }

  void make_optimizer() {
    if (o_.estimator == "spsa-gc")
      optimizer_ = std::make_unique<torch::optim::SGD>(model_.net().parameters(),
                                                       torch::optim::SGDOptions(o_.sgd_learning_rate).momentum(0.9).nesterov(true));
    else
      optimizer_ = std::make_unique<torch::optim::Adam>(model_.net().parameters(), torch::optim::AdamOptions(o_.learning_rate));
  }

  bool distributed() const { return o_.group != nullptr && o_.group->distributed(); }

  // Rank 0's value of a flag, on every rank.
  bool rank0_says(bool value) const {
    if (!distributed()) return value;
    std::vector<torch::Tensor> t{torch::tensor({static_cast<int64_t>(value)}, torch::kLong)};
    o_.group->broadcast(t, 0);
    return t[0].item<int64_t>() != 0;
  }

  // The checkpoint file's bytes on every rank: rank 0 reads them and broadcasts them.
  std::string checkpoint_bytes(const fs::path& path) const {
    std::vector<uint8_t> bytes;
    if (writer_) bytes = read_file_bytes(path);
    std::vector<torch::Tensor> size{torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kLong)};
    o_.group->broadcast(size, 0);
    std::vector<torch::Tensor> data{torch::zeros({size[0].item<int64_t>()}, torch::kUInt8)};
    if (writer_ && !bytes.empty()) std::memcpy(data[0].data_ptr<uint8_t>(), bytes.data(), bytes.size());
    o_.group->broadcast(data, 0);
    return std::string(reinterpret_cast<const char*>(data[0].data_ptr<uint8_t>()), static_cast<size_t>(data[0].numel()));
  }

  // Every rank must hold rank 0's parameters after a step: checksums of the anonymizer's
  // parameters and buffers and of the attackers', compared across the ranks at each
  // checkpoint. A difference means the ranks diverged (a bug, or ranks of different builds
  // or thread counts): the run stops rather than train on. Returns rank 0's checksum.
  double same_parameters_everywhere(int64_t t) const {
    std::vector<torch::Tensor> tensors = model_.net().parameters();
    for (const auto& b : model_.net().buffers()) tensors.push_back(b);
    for (const auto& p : adversary_->tensors()) tensors.push_back(p);
    auto [s1, s2] = checksum(tensors);
    auto all = torch::zeros({o_.group->world_size(), 2}, torch::kFloat64);
    all[o_.group->rank()][0] = s1;
    all[o_.group->rank()][1] = s2;
    std::vector<torch::Tensor> sums{all};
    o_.group->all_reduce(sums);
    auto a = sums[0].accessor<double, 2>();
    for (int r = 1; r < o_.group->world_size(); ++r)
      if (a[r][0] != a[0][0] || a[r][1] != a[0][1]) {
        char line[256];
        std::snprintf(line, sizeof line, "train: after step %lld rank %d's parameters differ from rank 0's (checksums %.17g and %.17g): the ranks diverged",
                      static_cast<long long>(t), r, a[r][0], a[0][0]);
        throw Error(line);
      }
    return a[0][0];
  }

  // `batch` rows of the task samples, or of the privacy side's own samples (see separate_privacy).
  std::vector<int64_t> pick_rows(Stream stream, int64_t t) const { return pick_from(data_.size(), stream, t); }
  std::vector<int64_t> pick_privacy_rows(Stream stream, int64_t t) const {
    return separate_privacy() ? pick_from(data_.privacy.size(), stream, t) : pick_rows(stream, t);
  }
  std::vector<int64_t> pick_from(size_t n, Stream stream, int64_t t) const {
    std::mt19937_64 rng(derive_seed(draw_seed_, stream, static_cast<uint64_t>(t)));
    std::uniform_int_distribution<int64_t> pick(0, static_cast<int64_t>(n) - 1);
    std::vector<int64_t> rows(static_cast<size_t>(o_.batch));
    for (auto& r : rows) r = pick(rng);
    return rows;
  }

  // Identity initialisation by L1 reconstruction (or of --init-target's output),
  // then the adversaries learn the initial output (and the pre-training, if any). No queries, except
  // to choose among candidate draws (--candidates).
  json initialise() {
    json record = o_.candidates > 1 ? choose_among_candidates() : initialise_draw();
    initialised_ = true;
    step_ = 0;
    return record;
  }

  json initialise_draw() {
    torch::optim::Adam init(model_.net().parameters(), torch::optim::AdamOptions(3e-3));
    model_.net().train();
    double l1 = 0, adversary_loss = 0;
    // A BDQ encoder starts from its own initial blur and uniform bins, not from the identity; the
    // control-space anonymizer starts near the identity by construction, and L1 steps toward it would
    // only saturate its softmax (measured: gradients of 1e-9, below Adam's epsilon, for 100 steps).
    const bool own_start = o_.anonymizer == "bdq" || (o_.anonymizer == "blend" && o_.init_target.empty());
    const int init_steps = own_start ? 0 : o_.init_steps;
    std::vector<torch::Tensor> targets;  // empty: the identity
    if (!o_.init_target.empty() && init_steps > 0) targets = method::protected_frames(data_, *o_.init_target_protector);
    for (int i = 1; i <= init_steps; ++i) {
      auto rows = pick_rows(kInitBatch, i);
      auto x = data_.stack(rows).to(device_);
      auto y = targets.empty() ? x : method::stack_frames(targets, rows).to(device_);
      init.zero_grad();
      auto loss = F::l1_loss(model_.forward(x), y);
      loss.backward();
      init.step();
      l1 = loss.item<double>();
    }
    for (int i = 1; i <= o_.adversary_warmup; ++i) adversary_loss = adversary_update_on(pick_privacy_rows(kWarmupBatch, i));
    json record = {{"step", 0}, {"init_l1", l1}, {"adversary_loss", adversary_loss}, {"queries", 0}};
    if (o_.privacy_pretrain > 0) record.update(privacy_pretrain());
    if (auto* blend = method::blend_anonymizer(model_); blend && blend->has_fitted_fill()) record["fill_colour"] = fit_fill_colour(*blend);
    return record;
  }

  // fill:value=fit: the fill's colour set to the mean of what its region's core covers on the training pictures (at most
  // kFillFitRows of them, evenly spaced), once the region is placed (after the pre-training) and every
  // kFillRefitSteps pre-training steps on the way, so that the utility side weighs the fill it will get, not grey
  // (grey on the head costs what the MLLM reads round it: docs/results.md, "a tenth look"). Every rank reads the
  // same pictures, so all fit the same colour.
  static constexpr int64_t kFillFitRows = 1000;
  static constexpr int kFillRefitSteps = 50;
  std::vector<double> fit_fill_colour(nets::BlendAnonymizerImpl& blend) {
    constexpr int64_t kChunk = 64;
    const int64_t n = static_cast<int64_t>(data_.size()), used = std::min(n, kFillFitRows);
    model_.net().eval();
    torch::Tensor sums = torch::zeros({4}, torch::kFloat64);
    for (int64_t i = 0; i < used; i += kChunk) {
      std::vector<int64_t> rows;
      for (int64_t r = i; r < std::min(i + kChunk, used); ++r) rows.push_back(r * n / used);
      sums += blend.fill_statistics(data_.stack(rows).to(device_));
    }
    model_.net().train();
    auto colour = blend.fit_fill_colour(sums.to(device_)).cpu().to(torch::kFloat64);
    return {colour[0].item<double>(), colour[1].item<double>(), colour[2].item<double>()};
  }

  // --candidates K (method/candidate_selection.h): K draws initialised and pre-trained, each scored by the
  // black box on the same training questions and by a fresh attacker on held-out training pictures; the
  // chosen draw's anonymizer and attackers go on into the game, the batches from the run's own seed again.
  json choose_among_candidates() {
    const auto questions = candidate_questions();
    const auto [fit, held_out] = attacker_split();
    std::optional<method::CandidateScore> baseline;
    if (o_.candidate_baseline_protector) try {  // scored first: its queries are the cheapest to lose
      const auto& protector = *o_.candidate_baseline_protector;
      const auto task = method::protected_frames(data_, protector);
      const auto privacy = separate_privacy() ? method::protected_frames(data_.privacy.frames, protector) : task;
      baseline = score_outputs(
          questions, fit, held_out,
          [&](const std::vector<int64_t>& rows, std::vector<std::vector<int64_t>>* groups) { return method::stack_frames(task, rows, groups).to(device_); },
          [&](const std::vector<int64_t>& rows) { return privacy_frames(rows, privacy); });
    } catch (const OracleError& e) {
      over_budget(e);
    }
    std::vector<method::AnonymizerModel> models;
    std::vector<std::unique_ptr<method::PrivacyAdversary>> adversaries;
    std::vector<method::CandidateScore> scores;
    json draws = json::array();
    for (int k = 0; k < o_.candidates; ++k) {
      if (k > 0) make_draw(derive_seed(o_.seed, kCandidateDraw, static_cast<uint64_t>(k)));
      json record = initialise_draw();
      try {
        scores.push_back(score_outputs(
            questions, fit, held_out,
            [&](const std::vector<int64_t>& rows, std::vector<std::vector<int64_t>>* groups) { return protect(data_.stack(rows, groups).to(device_)); },
            [&](const std::vector<int64_t>& rows) { return protect(privacy_frames(rows)); }));
      } catch (const OracleError& e) {
        over_budget(e);
      }
      record["draw_seed"] = draw_seed_;
      record["utility_loss"] = scores.back().utility_loss;
      record["attacker_loss"] = scores.back().attacker_loss;
      draws.push_back(record);
      models.push_back(model_);
      adversaries.push_back(std::move(adversary_));
      // Held to a baseline, the first draw that beats it on both axes ends the drawing: the rest of the K
      // would cost their queries for a choice among draws that already meet the target.
      if (baseline && method::dominates(scores.back(), *baseline, o_.candidate_lead)) break;
    }
    const auto choice = method::choose_candidate(scores, baseline ? &*baseline : nullptr, o_.candidate_lead);
    for (size_t k = 0; k < draws.size(); ++k) {
      draws[k]["utility"] = choice.utility[k];
      draws[k]["utility_gap"] = {choice.gap[k], choice.gap_error[k]};
      draws[k]["eligible"] = static_cast<bool>(choice.eligible[k]);
    }
    const auto chosen = static_cast<size_t>(choice.chosen);
    model_ = models[chosen];
    adversary_ = std::move(adversaries[chosen]);
    make_optimizer();
    draw_seed_ = o_.seed;
    json record = draws[chosen];
    record["candidates"] = draws;
    record["chosen"] = choice.chosen;
    if (baseline) record["dominates"] = choice.dominates;
    if (baseline)
      record["baseline"] = {{"protector", o_.candidate_baseline}, {"utility", choice.reference_utility}, {"lead", o_.candidate_lead},
                            {"utility_loss", baseline->utility_loss}, {"attacker_loss", baseline->attacker_loss}};
    record["queries"] = queries_;
    return record;
  }

  [[noreturn]] void over_budget(const OracleError& e) const {
    if (e.kind() != OracleError::Kind::kBudget) throw;  // (called from a handler: rethrows the exception being handled)
    throw UsageError("train: the --candidates' " + std::to_string(o_.candidate_questions) + " questions each (and the baseline's) do not fit in --max-queries");
  }

  // The training questions every candidate answers: candidate_questions distinct rows (all, if fewer), from the run's seed.
  std::vector<int64_t> candidate_questions() const {
    std::vector<int64_t> rows(data_.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
    std::mt19937_64 rng(derive_seed(o_.seed, kCandidateQuestions, 0));
    std::shuffle(rows.begin(), rows.end(), rng);
    rows.resize(std::min(rows.size(), static_cast<size_t>(o_.candidate_questions)));
    return rows;
  }

  // The privacy side's rows split by picture (several questions may share one): a fifth held out, where the
  // candidates' attackers are measured, the rest to train them on.
  std::pair<std::vector<int64_t>, std::vector<int64_t>> attacker_split() const {
    const auto& samples = separate_privacy() ? data_.privacy.samples : data_.samples;
    std::vector<int64_t> fit, held_out;
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto& media = samples[i]->media;
      std::string picture = media.video;
      for (const auto& image : media.images) picture += "\n" + image;
      uint64_t h = 1469598103934665603ull;  // FNV-1a: the same split on every platform
      for (unsigned char c : picture) h = (h ^ c) * 1099511628211ull;
      (h % 5 == 0 ? held_out : fit).push_back(static_cast<int64_t>(i));
    }
    if (fit.empty() || held_out.empty())
      throw UsageError("train: --candidates needs pictures to train its attackers on and others to measure them on (too few pictures)");
    return {fit, held_out};
  }

  // The anonymizer's output in eval mode, without gradient.
  torch::Tensor protect(const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    model_.net().eval();
    auto xp = model_.forward(x);
    model_.net().train();
    return xp;
  }

  // A candidate's (or the baseline's) score: the black box's utility on `questions` (one query each) and what a
  // fresh attacker (one member of the game's architecture, trained as long as the warm-up, no erasing, the same
  // initialisation and batches for every candidate) reads of held-out pictures it never trained on. `task`
  // protects the task rows' frames (with their groups), `privacy` the privacy rows' middle frames.
  using TaskOutputs = std::function<torch::Tensor(const std::vector<int64_t>&, std::vector<std::vector<int64_t>>*)>;
  using PrivacyOutputs = std::function<torch::Tensor(const std::vector<int64_t>&)>;
  method::CandidateScore score_outputs(const std::vector<int64_t>& questions, const std::vector<int64_t>& fit,
                                       const std::vector<int64_t>& held_out, const TaskOutputs& task, const PrivacyOutputs& privacy) {
    method::CandidateScore score;
    double loss = 0;
    constexpr size_t kChunk = 32;
    for (size_t i = 0; i < questions.size(); i += kChunk) {
      std::vector<int64_t> rows(questions.begin() + static_cast<std::ptrdiff_t>(i),
                                questions.begin() + static_cast<std::ptrdiff_t>(std::min(questions.size(), i + kChunk)));
      std::vector<std::vector<int64_t>> groups;
      auto xp = task(rows, &groups).cpu();
      std::vector<std::pair<int64_t, torch::Tensor>> work;
      for (size_t r = 0; r < rows.size(); ++r) {
        auto frames = xp.index_select(0, torch::tensor(groups[r], torch::kLong));
        work.emplace_back(rows[r], frames.reshape({1, -1, frames.size(2), frames.size(3)}));
      }
      const auto losses = utility_->evaluate_many(work);
      queries_ += static_cast<int64_t>(work.size());
      for (const auto& l : losses) {
        score.utilities.push_back(l.utility[0].item<double>());
        loss += l.loss[0].item<double>();
      }
    }
    score.utility_loss = loss / static_cast<double>(questions.size());

    // The yardstick attacker is seeded on its own; torch's generator is left as it was, so that scoring draws
    // nothing from the run's randomness (the first draw after the baseline stays the plain run's).
    auto generator = at::detail::getDefaultCPUGenerator();
    const auto generator_state = generator.get_state();
    torch::manual_seed(derive_seed(o_.seed, kCandidateAttacker, 0));
    auto options = adversary_options();
    options.members = 1;
    options.restart_every = 0;
    options.erasing = 0;
    method::PrivacyAdversary attacker(options, static_cast<int64_t>(data_.attributes.size()), static_cast<int64_t>(data_.identity_index.size()));
    std::mt19937_64 rng(derive_seed(o_.seed, kCandidateAttacker, 1));
    std::uniform_int_distribution<size_t> pick(0, fit.size() - 1);
    for (int step = 0; step < std::max(100, o_.adversary_warmup); ++step) {
      std::vector<int64_t> rows(static_cast<size_t>(o_.batch));
      for (auto& r : rows) r = fit[pick(rng)];
      attacker.update(privacy(rows), labels_attr(rows), labels_id(rows));
    }
    loss = 0;
    for (size_t i = 0; i < held_out.size(); i += kChunk) {
      std::vector<int64_t> rows(held_out.begin() + static_cast<std::ptrdiff_t>(i),
                                held_out.begin() + static_cast<std::ptrdiff_t>(std::min(held_out.size(), i + kChunk)));
      loss += attacker.held_out_loss(privacy(rows), labels_attr(rows), labels_id(rows)) * static_cast<double>(rows.size());
    }
    score.attacker_loss = loss / static_cast<double>(held_out.size());
    generator.set_state(generator_state);
    return score;
  }

  // Privacy-only pre-training (TrainOptions::privacy_pretrain): the warmed-up attackers frozen (or, with
  // pretrain_adversary_steps, following the output), the controller minimises their privacy loss. The budget
  // fixes how much of each picture is hidden, so all it can learn is where: the cells the attackers read
  // (measured: the main head, 0.81 of its cells hidden against 0.05 elsewhere at a budget of 0.06). Every rank
  // runs the same steps on the same rows (no all-reduce needed).
  json privacy_pretrain() {
    auto& blend = *method::blend_anonymizer(model_);
    torch::optim::Adam optimizer(model_.net().parameters(), torch::optim::AdamOptions(3e-3));
    // The record: the privacy loss, the hidden share and the attackers' loss on the first batch, before and after.
    const auto first_rows = pick_privacy_rows(kPretrainBatch, 1);
    const auto first = privacy_frames(first_rows);
    const auto first_attr = labels_attr(first_rows), first_id = labels_id(first_rows);
    struct Measure {
      double privacy, hidden, attackers;  // the privacy loss, the hidden share, the attackers' loss on the true labels
    };
    auto measure = [&] {
      torch::NoGradGuard no_grad;
      const auto output = blend.forward(first);
      return Measure{adversary_->privacy_loss(output).item<double>(), (1 - blend.weights(first).select(1, 0)).mean().item<double>(),
                     adversary_->held_out_loss(output, first_attr, first_id)};
    };
    const auto before = measure();
    // With --placement search: the privacy loss's own first-order search for the region, learned by cross-entropy
    // beside the privacy loss, whose gradient, and the surrogate's, reach the placement too. With search-only the
    // cross-entropy alone moves the placement: the privacy gradient moves the region away from the searched target
    // (measured: the cross-entropy 4.2 -> 6.0 without its term) and the surrogate's lifts it off the face
    // (6.66 -> 6.8-7.8 with it alone beside; docs/results.md, "a twelfth look"); they reach only the split over
    // the obfuscations. search-utility is search-only with the searched positions priced by the surrogate's answers
    // (method/placement_search.h); search-measured measures their privacy gain too.
    const bool search = o_.placement != "gradient";
    const bool priced = priced_placement(o_.placement);
    const bool search_only = o_.placement == "search-only" || priced;
    struct PlacementDetached {
      nets::BlendAnonymizerImpl& blend;
      ~PlacementDetached() { blend.set_placement_detached(false); }
    } detached{blend};
    blend.set_placement_detached(search_only);
    // The attackers the search scores positions against (--pretrain-search-attackers): the pre-training's own as they
    // now are; or a copy of them as they start, averaged toward them after each step's updates ("average") or kept
    // as it is beside them ("start-and-current", the two privacy losses averaged).
    const bool average = o_.pretrain_search_attackers == "average", both = o_.pretrain_search_attackers == "start-and-current";
    std::unique_ptr<method::PrivacyAdversary> copy;
    if (average || both) {
      copy = std::make_unique<method::PrivacyAdversary>(adversary_options(), static_cast<int64_t>(data_.attributes.size()),
                                                        static_cast<int64_t>(data_.identity_index.size()));
      copy->average_toward(*adversary_, 1);
    }
    const method::PrivacyLossFn measured = [&](const torch::Tensor& y) {
      if (both) return (copy->privacy_loss_per_picture(y) + adversary_->privacy_loss_per_picture(y)) / 2;
      return (average ? *copy : *adversary_).privacy_loss_per_picture(y);
    };
    auto adversary_loss = [&](const torch::Tensor& y) { return measured(y).mean(); };  // as privacy_loss is
    std::vector<std::vector<int64_t>> questions;                       // priced: the questions on each row's picture
    if (priced) questions = method::questions_on_each_picture(data_);  // no privacy-only rows
    auto placement_target = [&](const torch::Tensor& x, const std::vector<int64_t>& rows) {
      if (questions.empty()) return method::placement_target(blend, x, adversary_loss);
      auto cost = [&](const torch::Tensor& y) {
        return method::picture_answer_loss(*o_.surrogate_model, data_, y, rows, questions, o_.utility_margin);
      };
      const method::UtilityPrice price{cost, o_.preference};
      return method::placement_target(blend, x, adversary_loss, &price, o_.placement == "search-measured" ? &measured : nullptr);
    };
    auto placement = [&](const torch::Tensor& x, const std::vector<int64_t>& rows) {
      return method::placement_loss(blend, x, placement_target(x, rows));
    };
    double placement_before = 0;
    if (search) {
      const auto target = placement_target(first, first_rows);
      torch::NoGradGuard no_grad;
      placement_before = method::placement_loss(blend, first, target).item<double>();
    }
    model_.net().train();
    const auto params = model_.net().parameters();
    // With --pretrain-surrogate: the surrogate's true utility gradient on a task batch, combined at the preference.
    // With a surrogate at all, its utility loss on one fixed task batch before and after is recorded.
    std::unique_ptr<method::WhiteBoxGradient> transfer;
    if (o_.surrogate_model) transfer = std::make_unique<method::WhiteBoxGradient>(*o_.surrogate_model, data_, o_.utility_margin);
    auto surrogate_step = [&](const std::vector<int64_t>& rows) {
      std::vector<std::vector<int64_t>> groups;
      auto xu = data_.stack(rows, &groups).to(device_);
      auto space = method::make_probe_space(model_, xu, groups, basis_, head_basis_);
      return transfer->step(*space, rows, 0);
    };
    const auto fixed_rows = pick_rows(kPretrainUtilityBatch, 0);
    const double surrogate_before = transfer ? surrogate_step(fixed_rows).loss : 0;
    const bool refit = blend.has_fitted_fill() && o_.pretrain_fill == "fitted";
    std::vector<double> pretrain_fill;  // the colour the pre-training's last steps used
    if (blend.has_fitted_fill() && !refit) {  // --pretrain-fill grey: the core's colour is fitted once, after it
      torch::NoGradGuard no_grad;
      blend.fill_colour().fill_(0.5);  // the accessor hands out the buffer itself: this sets the model's colour
      pretrain_fill = {0.5, 0.5, 0.5};
    }
    for (int i = 1; i <= o_.privacy_pretrain; ++i) {
      if (refit && (i - 1) % kFillRefitSteps == 0) pretrain_fill = fit_fill_colour(blend);
      const auto rows = pick_privacy_rows(kPretrainBatch, i);
      auto x = privacy_frames(rows);
      auto loss = adversary_->privacy_loss(blend.forward(x));
      if (search && !search_only) loss = loss + placement(x, rows);
      // Gradients of the controller's parameters only: the attackers stay as they are.
      auto g_p = flat_grad(torch::autograd::grad({loss}, params, {}, false, false, /*allow_unused=*/true), params);
      auto direction = g_p;
      if (o_.pretrain_surrogate) {
        auto u = surrogate_step(pick_rows(kPretrainUtilityBatch, i));
        auto g_u = flat_grad(torch::autograd::grad({u.surrogate}, params, {}, false, false, /*allow_unused=*/true), params);
        direction = optim::mgda_preference(g_p, g_u, o_.preference).direction;
      }
      // search-only: the cross-entropy is no objective to trade, it is added to whatever the two agree on (with a
      // bank of one obfuscation they reach nothing, and it is the whole step).
      if (search_only)
        direction = direction + flat_grad(torch::autograd::grad({placement(x, rows)}, params, {}, false, false, true), params);
      set_grads(params, direction);
      optimizer.step();
      // --pretrain-adversary-steps: the attackers learn the output as it now is.
      for (int k = 0; k < o_.pretrain_adversary_steps; ++k) adversary_update_on(pick_privacy_rows(kPretrainAdversaryBatch, i * 64 + k));
      if (average) copy->average_toward(*adversary_, i + 1);  // the warmed-up attackers were the first of i + 1
    }
    const auto after = measure();
    json record = {{"pretrain_privacy_loss", {before.privacy, after.privacy}},
                   {"pretrain_hidden", {before.hidden, after.hidden}},
                   {"pretrain_attacker_loss", {before.attackers, after.attackers}}};
    // What the copy reads of the first batch (before: the warmed-up attackers' copy; after: the final output, which the
    // current attackers read as pretrain_attacker_loss says).
    if (copy) {
      torch::NoGradGuard no_grad;
      record[average ? "pretrain_average_attacker_loss" : "pretrain_start_attacker_loss"] = {
          before.attackers, copy->held_out_loss(blend.forward(first), first_attr, first_id)};
    }
    if (transfer) record["pretrain_surrogate_loss"] = {surrogate_before, surrogate_step(fixed_rows).loss};
    if (!pretrain_fill.empty()) record["pretrain_fill_colour"] = pretrain_fill;
    if (search) {
      const torch::Tensor target = placement_target(first, first_rows);
      torch::NoGradGuard no_grad;
      record["pretrain_placement_loss"] = {placement_before, method::placement_loss(blend, first, target).item<double>()};
    }
    return record;
  }

  // Whether the privacy side has samples of its own (privacy-only samples in the split).
  bool separate_privacy() const { return data_.privacy.size() > 0; }

  // The middle frames of the privacy side's `rows` (see pick_privacy_rows).
  torch::Tensor privacy_frames(const std::vector<int64_t>& rows) const {
    return privacy_frames(rows, separate_privacy() ? data_.privacy.frames : data_.frames);
  }
  // The same from other frames in the privacy side's layout (e.g. a baseline protector's output).
  torch::Tensor privacy_frames(const std::vector<int64_t>& rows, const std::vector<torch::Tensor>& frames) const {
    std::vector<std::vector<int64_t>> groups;
    auto x = method::stack_frames(frames, rows, &groups);
    return x.index_select(0, middle_frames(groups).cpu()).to(device_);
  }

  // One attacker update on the anonymizer's current output for the privacy
  // side's `rows` (no anonymizer gradient, batch-norm statistics untouched).
  double adversary_update_on(const std::vector<int64_t>& rows) {
    return adversary_->update(protect(privacy_frames(rows)), labels_attr(rows), labels_id(rows));
  }

  // The attackers see one frame per sample, the middle one (as in the evaluation protocol).
  torch::Tensor middle_frames(const std::vector<std::vector<int64_t>>& groups) const {
    return torch::tensor(method::middle_frame_rows(groups), torch::kLong).to(device_);
  }

  // The labels of the privacy side's `rows`.
  torch::Tensor labels_attr(const std::vector<int64_t>& rows) const {
    const auto& labels = separate_privacy() ? data_.privacy.attribute_labels : data_.attribute_labels;
    return labels.index_select(0, torch::tensor(rows, torch::kLong));
  }
  torch::Tensor labels_id(const std::vector<int64_t>& rows) const {
    const auto& labels = separate_privacy() ? data_.privacy.identity_labels : data_.identity_labels;
    return labels.index_select(0, torch::tensor(rows, torch::kLong));
  }

  // One step of the game. With several processes (data parallel) every rank draws the same
  // global batch and works on its contiguous share of it: the anonymizer's forward pass, the
  // privacy loss and the probes. The two gradients are all-reduced, each weighted by the
  // share's part of the batch so that their sum is the global batch's mean, before the Pareto
  // combination (MGDA is not linear in them); every rank then takes the same optimizer step.
  // The attackers' update needs no queries: every rank runs it on the whole batch's protected
  // images (gathered), so the attackers stay identical on every rank without an all-reduce,
  // and their batch-norm statistics are the whole batch's, as in one process.
  json adversarial_step(int64_t t) {
    torch::manual_seed(derive_seed(o_.seed, kGlobal, static_cast<uint64_t>(t)));
    const auto batch = pick_rows(kBatch, t);  // the global batch: the same on every rank
    const method::BatchShare share(o_.group, static_cast<int64_t>(batch.size()));
    const auto rows = share.local(batch);     // this rank's share (the whole batch in one process)
    std::vector<std::vector<int64_t>> groups;
    auto x = data_.stack(rows, &groups).to(device_);
    // The forward pass moves batch-norm statistics; a step cut short by the oracle must leave no trace.
    std::vector<torch::Tensor> buffers_before;
    for (const auto& b : model_.net().buffers()) buffers_before.push_back(b.clone());
    model_.net().train();
    // Where the utility gradient is probed: the control-space anonymizer's blend weights, else x' through a coarse basis.
    auto space = method::make_probe_space(model_, x, groups, basis_, head_basis_);
    const auto& xp = space->output();
    auto params = model_.net().parameters();

    // The privacy side reads the task batch's middle frames, or a batch of its own samples (cut between ranks alike).
    std::vector<int64_t> privacy_batch = batch;
    method::BatchShare privacy_share = share;
    torch::Tensor xp_privacy, privacy_loss, privacy_surrogate;
    if (separate_privacy()) {
      privacy_batch = pick_privacy_rows(kPrivacyBatch, t);
      privacy_share = method::BatchShare(o_.group, static_cast<int64_t>(privacy_batch.size()));
    }
    if (focus_cells_ > 0) {  // the privacy gradient kept in each image's top cells (method/privacy_focus.h)
      auto x_privacy = separate_privacy() ? privacy_frames(privacy_share.local(privacy_batch)) : x.index_select(0, middle_frames(groups));
      auto focused = method::focused_privacy_loss(*method::blend_anonymizer(model_), *adversary_, x_privacy, focus_cells_);
      xp_privacy = focused.output;
      privacy_loss = focused.loss;
      privacy_surrogate = focused.surrogate;
    } else {
      xp_privacy = separate_privacy() ? model_.forward(privacy_frames(privacy_share.local(privacy_batch))) : xp.index_select(0, middle_frames(groups));
      privacy_loss = privacy_surrogate = adversary_->privacy_loss(xp_privacy);  // a mean over this share
    }
    if (share.distributed()) {
      const double part = static_cast<double>(privacy_share.size()) / static_cast<double>(privacy_share.total());
      privacy_loss = privacy_loss * part;
      privacy_surrogate = privacy_surrogate * part;
    }
    auto g_p = flat_grad(torch::autograd::grad({privacy_surrogate}, params, {}, /*retain_graph=*/true, false, /*allow_unused=*/true), params);
    method::UtilityStep u;
    try {
      u = gradient_->step(*space, rows, derive_seed(o_.seed, kProbes, static_cast<uint64_t>(t)), share);
    } catch (...) {
      torch::NoGradGuard no_grad;
      auto buffers = model_.net().buffers();
      for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(buffers_before[i]);
      throw;
    }
    torch::Tensor g_f;  // the fidelity prior's gradient (no queries)
    if (o_.fidelity > 0) {
      g_f = flat_grad(torch::autograd::grad({F::l1_loss(xp, x)}, params, {}, /*retain_graph=*/true, false, true), params);
      if (share.distributed()) {  // a mean over this share's frames: weighted by their part of the batch's frames
        int64_t frames = 0;
        for (auto r : batch) frames += data_.frames[static_cast<size_t>(r)].size(0);
        g_f = g_f * (static_cast<double>(x.size(0)) / static_cast<double>(frames));
      }
    }
    torch::Tensor g_a, g_b, g_u;
    if (u.half_a.defined()) {
      g_a = flat_grad(torch::autograd::grad({u.half_a}, params, {}, true, false, true), params);
      g_b = flat_grad(torch::autograd::grad({u.half_b}, params, {}, false, false, true), params);
    } else {
      g_u = flat_grad(torch::autograd::grad({u.surrogate}, params, {}, false, false, true), params);
    }
    const auto& cache = o_.oracle.cache;
    double privacy_value = privacy_loss.item<double>(), cache_hits = static_cast<double>((cache ? cache->hits() : 0) - hits_at_start_);
    torch::Tensor xp_attackers = xp_privacy;  // what the attackers train on
    if (share.distributed()) {
      // One all-reduce per dtype: the gradients and every rank's protected images for the
      // attackers (float), the step's statistics (double); each rank's parts sum to the global batch's.
      std::vector<torch::Tensor> sums{g_p, u.half_a.defined() ? g_a : g_u, u.half_a.defined() ? g_b : torch::Tensor(),
                                      g_f, privacy_share.padded(xp_privacy.detach())};
      sums.push_back(torch::tensor({privacy_value, u.loss, u.utility, static_cast<double>(u.queries), static_cast<double>(u.critical_samples),
                                    static_cast<double>(u.pairs), static_cast<double>(u.flat_pairs), u.weight_a, u.weight_b,
                                    u.prior_samples > 0 ? u.prior_alpha * u.prior_samples : 0.0, static_cast<double>(u.prior_samples), cache_hits,
                                    u.split_half_cos2_sum, static_cast<double>(u.split_half_samples)},
                                   torch::kFloat64));
      // The anonymizer's batch-norm statistics (the U-Net's) moved with this share only: every rank
      // takes their mean over the ranks (a whole-batch statistic in expectation; not bit-exact).
      std::vector<torch::Tensor> buffers;
      for (const auto& b : model_.net().buffers())
        if (b.is_floating_point()) buffers.push_back(b);
      const size_t first_buffer = sums.size();
      for (const auto& b : buffers) sums.push_back(b.detach().clone());
      share.sum(sums);
      g_p = sums[0];
      if (u.half_a.defined()) g_a = sums[1], g_b = sums[2];
      else g_u = sums[1];
      g_f = sums[3];
      xp_attackers = sums[4];
      auto st = sums[5].accessor<double, 1>();
      privacy_value = st[0], u.loss = st[1], u.utility = st[2];
      u.queries = static_cast<int64_t>(st[3]), u.critical_samples = static_cast<int>(st[4]);
      u.pairs = static_cast<int64_t>(st[5]), u.flat_pairs = static_cast<int64_t>(st[6]);
      u.weight_a = st[7], u.weight_b = st[8];
      u.prior_samples = static_cast<int>(st[10]);
      u.prior_alpha = u.prior_samples > 0 ? st[9] / st[10] : -1;
      cache_hits = st[11];
      u.split_half_cos2_sum = st[12], u.split_half_samples = static_cast<int>(st[13]);
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(sums[first_buffer + i] / static_cast<double>(share.world_size()));
    }
    // The estimate's own quality from its two halves (black box only): per sample in the probe space,
    // pooled over the batch (what docs/estimator.md checks against the true cosine), and for the batch's
    // parameter gradient (noisier: a few dominant directions of J^T make a . b noisy).
    json split_half = nullptr, split_half_param = nullptr;
    if (u.half_a.defined()) {
      g_u = g_a + g_b;
      if (u.split_half_samples > 0) split_half = optim::pooled_split_half_cosine(u.split_half_cos2_sum, u.split_half_samples);
      if (u.weight_a > 0 && u.weight_b > 0 && o_.prior == "none")  // with a prior the halves share its part
        split_half_param = optim::split_half_cosine(g_a / u.weight_a, g_b / u.weight_b, g_u, u.weight_a, u.weight_b);
    }
    if (o_.fidelity > 0) g_u = g_u / g_u.norm().clamp_min(1e-12) + o_.fidelity * g_f / g_f.norm().clamp_min(1e-12);
    // The share of g_u's norm that is signal, by its two halves (--utility-norm split-half; validate() keeps it
    // apart from --fidelity and a prior): at least 0.1, so that one batch's noisy figure cannot scale the
    // utility side by more than 10.
    double signal_cos = 1;
    if (o_.utility_norm == "split-half" && split_half_param.is_number())
      signal_cos = std::clamp(split_half_param.get<double>(), 0.1, 1.0);

    optim::ParetoStep combined;
    switch (combiner_) {
      case Combiner::kMgda: combined = optim::mgda_two(g_p, g_u, optim::GradientNormalization::kL2, signal_cos); break;
      case Combiner::kPreference: combined = optim::mgda_preference(g_p, g_u, o_.preference, signal_cos); break;
      case Combiner::kWeighted: combined = optim::weighted_sum(g_p, g_u, o_.preference); break;
    }

    set_grads(params, combined.direction);
    double lr = scheduled_lr(spsa_ ? o_.sgd_learning_rate : o_.learning_rate, t, o_.steps);
    for (auto& group : optimizer_->param_groups()) {
      if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&group.options())) adam->lr(lr);
      if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&group.options())) sgd->lr(lr);
    }
    optimizer_->step();

    double adversary_loss = adversary_->update(xp_attackers, labels_attr(privacy_batch), labels_id(privacy_batch));
    // Extra attacker updates on other samples: an adversary that keeps up
    // with the anonymizer, so the privacy gradient is not spent fooling a
    // stale one (no queries; every rank runs them whole).
    for (int k = 1; k < o_.adversary_steps; ++k)
      adversary_loss = adversary_update_on(pick_privacy_rows(kAdversaryBatch, t * 64 + k));
    bool restarted = adversary_->maybe_restart(t);
    queries_ += u.queries;
    step_ = t;
    return {{"step", t}, {"lr", lr}, {"privacy_loss", privacy_value}, {"utility_loss", u.loss},
            {"utility", u.utility}, {"alpha", combined.alpha}, {"cos_pu", optim::cosine(g_p, g_u)},
            {"norm_p", g_p.norm().item<double>()}, {"norm_u", g_u.norm().item<double>()},
            {"adversary_loss", adversary_loss}, {"adversary_restart", restarted}, {"critical_samples", u.critical_samples},
            {"split_half_cos", split_half}, {"split_half_param_cos", split_half_param}, {"utility_signal_cos", signal_cos},
            {"flat_pairs", u.pairs > 0 ? json(static_cast<double>(u.flat_pairs) / static_cast<double>(u.pairs)) : json(nullptr)},
            {"step_queries", u.queries}, {"queries", queries_},
            {"prior_alpha", u.prior_alpha >= 0 ? json(u.prior_alpha) : json(nullptr)},
            {"surrogate_agreement", surrogate_agreement()}, {"cache_hits", static_cast<int64_t>(cache_hits)},
            {"world_size", o_.world_size}};
  }

  // The online surrogate's agreement with the black box over this step's probes (null: none learned).
  json surrogate_agreement() {
    if (!prior_ || !prior_->online()) return nullptr;
    auto [agreement, samples] = prior_->take_agreement();
    return samples > 0 ? json(agreement) : json(nullptr);
  }

  void save_model(const fs::path& path) const {
    torch::serialize::OutputArchive a;
    method::write_anonymizer(a, model_);
    TempFileGuard tmp(temp_path_for(path));
    a.save_to(tmp.path().string());
    tmp.commit(path);
  }

  void save_checkpoint(const fs::path& path) {
    torch::serialize::OutputArchive a;
    method::write_anonymizer(a, model_);
    torch::serialize::OutputArchive opt, adv, hist;
    optimizer_->save(opt);
    a.write("optimizer", opt);
    adversary_->save(adv);
    a.write("adversary", adv);
    json names = json::array();
    for (const auto& [name, tensor] : history_.state()) {
      hist.write(std::string("h").append(std::to_string(names.size())), tensor);
      names.push_back(name);
    }
    a.write("history", hist);
    if (prior_ && prior_->online()) {  // the surrogate learned from the replies: part of the run's state
      torch::serialize::OutputArchive surrogate;
      prior_->save(surrogate);
      a.write("surrogate", surrogate);
    }
    json state = {{"format", "scrim-train-checkpoint-1"}, {"step", step_}, {"initialised", initialised_}, {"queries", queries_},
                  {"history", names}, {"config", to_json(o_)}};
    a.write("trainer_state", c10::IValue(state.dump()));
    TempFileGuard tmp(temp_path_for(path));
    a.save_to(tmp.path().string());
    tmp.commit(path);
  }

  void load_checkpoint(const fs::path& path) {
    torch::serialize::InputArchive a;
    json state;
    try {
      if (distributed()) {
        auto bytes = checkpoint_bytes(path);
        a.load_from(bytes.data(), bytes.size());
      } else {
        a.load_from(path.string());
      }
      c10::IValue v;
      if (!a.try_read("trainer_state", v)) throw Error(path.string() + ": not a scrim training checkpoint");
      state = json::parse(v.toStringRef());
    } catch (const c10::Error&) {
      throw Error(path.string() + ": not a readable checkpoint");
    }
    // The run must continue under the configuration it started with.
    json saved = state.at("config"), now = to_json(o_);
    bool fresh = state.value("step", 0) == 0;  // an initialisation may be shared by runs that differ in their objective
    for (auto it = now.begin(); it != now.end(); ++it) {
      if (run_control_key(it.key()) || (fresh && (it.key() == "pareto" || it.key() == "preference" || it.key() == "fidelity"))) continue;
      if (saved.contains(it.key()) && saved[it.key()] != it.value())
        throw UsageError(path.string() + ": the run was started with " + it.key() + " = " + saved[it.key()].dump() + ", not " + it.value().dump());
    }
    auto loaded = method::read_anonymizer(a, path.string());
    {
      torch::NoGradGuard no_grad;
      auto src = loaded.net().named_parameters(), dst = model_.net().named_parameters();
      for (auto& p : dst) p.value().copy_(src[p.key()]);
      auto sb = loaded.net().named_buffers(), db = model_.net().named_buffers();
      for (auto& b : db) b.value().copy_(sb[b.key()]);
    }
    torch::serialize::InputArchive opt, adv, hist;
    a.read("optimizer", opt);
    optimizer_->load(opt);
    a.read("adversary", adv);
    adversary_->load(adv);
    a.read("history", hist);
    std::map<std::string, torch::Tensor> h;
    const auto& names = state.at("history");
    for (size_t i = 0; i < names.size(); ++i) {
      torch::Tensor t;
      hist.read("h" + std::to_string(i), t);
      h[names[i].get<std::string>()] = t;
    }
    history_.load_state(h);
    if (prior_ && prior_->online()) {
      torch::serialize::InputArchive surrogate;
      a.read("surrogate", surrogate);
      prior_->load(surrogate);
    }
    step_ = state.at("step");
    initialised_ = state.at("initialised");
    queries_ = state.at("queries");
  }

  // A resumed run's log keeps only the steps the checkpoint contains.
  void trim_log(const fs::path& path) const {
    std::ifstream in(path);
    if (!in) return;
    std::string line, kept;
    while (std::getline(in, line)) {
      try {
        if (json::parse(line).value("step", int64_t{0}) <= step_) kept += line + "\n";
      } catch (const json::exception&) {
        break;  // a line cut short by the kill
      }
    }
    write_file_atomic(path, kept);
  }

  TrainOptions o_;
  // The options read on every step, resolved once from their validated strings.
  enum class Combiner { kMgda, kPreference, kWeighted } combiner_;
  bool head_basis_, spsa_;
  int64_t focus_cells_ = 0;  // --privacy-cells as a number of cells per image; 0: off
  torch::Device device_;
  method::TrainingSet data_;
  method::AnonymizerModel model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<method::PrivacyAdversary> adversary_;
  optim::CriticalHistory history_;
  optim::ZerothOrderEstimator basis_;  // the coarse pixel basis of PixelProbeSpace
  std::unique_ptr<method::BlackBoxUtility> utility_;
  std::unique_ptr<method::UtilityGradient> gradient_;
  std::unique_ptr<method::SurrogatePrior> prior_;
  json selection_;                // --candidates: how many draws were scored, the one kept, whether it beats the baseline
  uint64_t draw_seed_ = 0;        // the seed of the batches drawn: the run's own, except while a candidate draw is pre-trained
  int64_t step_ = 0;
  bool initialised_ = false;
  int64_t queries_ = 0;           // over every rank
  int64_t hits_at_start_ = 0;     // this process's cache hits when the run (re)started
  bool writer_ = true;            // rank 0 (or the only process): writes the run
};

}  // namespace

void check_train_options(const TrainOptions& options) { validate(options); }

bool pretrain_fill_applies(const TrainOptions& o) {
  const auto bank = nets::parse_bank(o.bank);
  return o.privacy_pretrain > 0 && std::any_of(bank.begin(), bank.end(), [](const nets::BankItem& b) { return b.fitted; });
}

TrainResult train_anonymizer(const TrainOptions& options, const TrainCallback& on_step) {
  validate(options);
  ProcessGroup* group = options.group;
  if (group == nullptr || !group->distributed()) return Trainer(options).run(on_step);
  // Several processes: a rank that cannot start (its data, its model file) would leave the
  // others waiting in the first collective until the timeout. Each rank posts whether it
  // started through the store instead, and all stop at once with the first failure.
  static int runs = 0;  // a --sweep starts several runs, in the same order on every rank
  const std::string name = "train-start-" + std::to_string(runs++);
  std::unique_ptr<Trainer> trainer;
  std::exception_ptr failure;
  try {
    trainer = std::make_unique<Trainer>(options);
  } catch (const std::exception& e) {
    failure = std::current_exception();
    group->share_text(name, one_line(e.what()).empty() ? "failed" : one_line(e.what()));
  }
  if (!failure) group->share_text(name, "");
  auto started = group->gather_text(name);
  bool any = false;
  for (const auto& t : started) any = any || !t.empty();
  if (any) group->barrier();  // every rank has read every post before rank 0 (the store) leaves
  if (failure) std::rethrow_exception(failure);
  for (size_t r = 0; r < started.size(); ++r)
    if (!started[r].empty()) throw Error("train: rank " + std::to_string(r) + " failed: " + started[r]);
  return trainer->run(on_step);
}

json train_preference_sweep(const TrainOptions& o, int k, const TrainCallback& on_step) {
  if (k < 2) throw UsageError("--sweep needs at least 2 preferences");
  validate(o);
  const bool writer = o.group == nullptr || o.group->rank() == 0;  // rank 0 writes; the others' runs read its checkpoints
  // One shared initialisation (identity + adversary warm-up), then one run per preference.
  TrainOptions init = o;
  init.out = o.out / "init";
  init.steps = 0;
  init.resume = true;
  train_anonymizer(init);
  json front = {{"preferences", json::array()}};
  for (int i = 1; i <= k; ++i) {
    TrainOptions p = o;
    p.preference = static_cast<double>(i) / (k + 1);
    if (p.pareto == "mgda") p.pareto = "preference";
    p.out = o.out / ("pref-" + std::to_string(i));
    fs::create_directories(p.out);
    if (writer && !fs::exists(p.out / "checkpoint.pt")) fs::copy_file(init.out / "checkpoint.pt", p.out / "checkpoint.pt");
    p.resume = true;
    auto r = train_anonymizer(p, on_step);
    front["preferences"].push_back({{"preference", p.preference}, {"anonymizer", r.anonymizer.string()}, {"steps", r.steps_done},
                                    {"queries", r.last.value("queries", 0)}, {"stopped", r.stopped}, {"last", r.last}});
    if (r.stopped == "budget") break;
  }
  if (writer) write_file_atomic(o.out / "front.json", front.dump(2) + "\n");
  return front;
}

}  // namespace scrim
