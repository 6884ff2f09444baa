// The anonymizer's trainer (`scrim train`): alternating min-max between the
// anonymizer f_A and an ensemble of privacy attackers f_B, with the utility
// gradient estimated through the black-box MLLM (zeroth order, critical
// history) — or, for the upper bound, read from the in-process reference
// MLLM — and the two objectives combined by MGDA-UB, a preference vector or a
// weighted sum. After Hui et al., "When Visual Privacy Protection Meets
// Multimodal Large Language Models" (IJCV 2026); see DESIGN.md for our
// reconstruction of the parts the paper leaves open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scrim/oracle/oracle_stack.h"

namespace scrim {

class ProcessGroup;
class Protector;
class ReferenceMllm;

struct TrainOptions {
  std::filesystem::path manifest;       // training data (its "train" split)
  std::filesystem::path out;            // run folder: checkpoint.pt, anonymizer.pt, train-log.jsonl, config.json
  // The black box, built by the caller: the CLI from --mllm (make_oracle,
  // scrim/reference/oracle_factory.h), a test from any Oracle (wrap_oracle). The
  // trainer queries oracle.oracle, stops cleanly when its budget is spent, and
  // logs its cache's hits.
  OracleStack oracle;
  std::string mllm;                     // the oracle's spec, recorded in config.json (a description: `oracle` is what is queried)
  // White-box access for --gradient whitebox (the in-process reference MLLM's
  // gradients), built by the caller; null: black box only.
  std::shared_ptr<ReferenceMllm> white_box;

  // The named configuration the options started from (scrim/method/train_recipe.h), recorded in config.json; the
  // fields record what ran, flags given beside it included. Empty: none.
  std::string recipe;

  std::string gradient = "blackbox";    // blackbox | whitebox (reference MLLM only: the upper bound)
  std::string estimator = "zo";         // zo (Adam) | spsa-gc (Rademacher + Nesterov momentum, BlackVIP style)
  std::string pareto = "mgda";          // mgda | preference | weighted
  double preference = 0.5;              // weight on privacy for preference and weighted
  // How mgda and preference scale the black-box utility gradient: raw (its own norm) or split-half (its
  // signal's norm and squared length, from the split-half estimate of its cosine, optim/pareto_combiner.h).
  std::string utility_norm = "raw";
  std::string history = "full";         // none | prior | subspace | full
  int probes = 8;                       // q: antithetic pairs per sample (the batch's budget is batch * q)
  int scout_probes = 2;                 // pairs per sample before the allocator spends the rest
  double mu = 0.03;                     // probe radius, in [0, 1] image units (8-bit PNG: keep it above ~0.01)
  int grid = 8;                         // coarse basis: grid x grid per channel
  std::string distribution = "gaussian";  // gaussian | rademacher
  bool hard_label = false;              // ignore log-probs: loss = 1 - utility
  // The utility loss max(-margin, -utility_margin): a sample whose answer is right by
  // this many nats defends no more confidence (Carlini & Wagner's kappa), so the
  // privacy side may erase what the MLLM reads but does not need. 0: uncapped.
  double utility_margin = 0;
  // A query-free prior on the utility side: the utility direction becomes
  // unit(g_u) + fidelity * unit(gradient of L1(x', x)), so the steps the
  // zeroth-order estimate's noise takes away from the input are pulled back.
  // 0: the paper's objective. Applies to --gradient whitebox too (the same objective).
  double fidelity = 0;
  int top_logprobs = 20;

  int steps = 150;                      // adversarial steps
  int batch = 8;
  double learning_rate = 2e-3;          // anonymizer (Adam); cosine schedule with a 5% warm-up
  double sgd_learning_rate = 0.05;      // spsa-gc's Nesterov SGD
  int init_steps = 150;                 // identity initialisation by L1 reconstruction (no queries)
  // A protector spec whose output the initialisation reproduces instead of the
  // identity (e.g. "downsample:factor=4"), so the game starts at that
  // baseline's point of the trade-off; empty: the identity.
  std::string init_target;
  std::shared_ptr<const Protector> init_target_protector;  // built from init_target by the caller (make_protector)
  int adversary_warmup = 100;           // adversary steps on the initialised anonymizer's output (no queries)
  std::string adversary_arch = "small";
  int adversary_members = 2;
  int adversary_restart = 100;          // steps between restarts of one member; 0: never
  double adversary_learning_rate = 1e-3;
  int adversary_steps = 1;              // attacker updates per anonymizer step (the extra ones on other samples)
  // Random erasing of the attackers' training images: rectangles per image blended
  // toward grey (method/privacy_adversary.h), so the privacy loss keeps rewarding an
  // erased region once the anonymizer has drifted from the raw pictures. 0: off.
  int adversary_erasing = 0;
  // The control-space anonymizer's privacy gradient kept, per image, in this
  // fraction of the grid's cells where it is largest (method/privacy_focus.h):
  // local erasures instead of a uniform blur. 0: every cell.
  double privacy_cells = 0;
  // Privacy-only pre-training of the control-space anonymizer with a hide budget, after the
  // attackers' warm-up and before the game (no queries): this many steps with the attackers
  // frozen, minimising their privacy loss, so that the controller learns where they read
  // (docs/results.md). 0: none.
  int privacy_pretrain = 0;
  // Attacker updates on the pre-training's current output after each pre-training step: the attackers follow the
  // hiding, so the region is placed where attackers trained on hidden pictures read (the face below a hidden crown),
  // not where attackers warmed up on unhidden ones read first (docs/results.md, "a sixteenth look"). 0: frozen.
  int pretrain_adversary_steps = 0;
  // Which attackers a searched placement scores positions against while pretrain_adversary_steps updates them:
  // "current" (the pre-training's own, as they now are), "average" (their running mean over the pre-training, their
  // weights averaged after each step: a target that settles; measured: fitted no better than the moving one, the region
  // further onto the collar, docs/results.md "a seventeenth look"), or "start-and-current" (the privacy losses of the
  // warmed-up attackers as they were at the start, which read the top of the head, and of the current ones, which read
  // the face below a hidden crown, averaged: a target that is neither's alone).
  std::string pretrain_search_attackers = "current";
  // The pre-training also weighs a local surrogate's utility (`surrogate`, read through its true
  // gradient, no queries), combined with the privacy side at `preference` as the game combines
  // them: where to hide is learned against a model scrim can differentiate, and the black-box game
  // then refines it (a transfer prior for the region's placement, as --prior surrogate is one for
  // the estimate). The black box and the evaluator are never read.
  bool pretrain_surrogate = false;
  // How the pre-training places the hidden region. "gradient": the attackers' privacy loss differentiated through
  // the blend, which reaches a cell in proportion to its current placement probability (a region on the sky gets no
  // signal from the head). "search": each picture's best placement searched over every position to first order
  // and the scores trained toward it by cross-entropy (method/placement_search.h), the privacy loss's and the
  // surrogate's gradients reaching them too. "search-only": the cross-entropy alone trains the scores (the privacy and
  // surrogate gradients reach only the split over the obfuscations): the region lands on the face, hiding more, and
  // partly on the collar, costing clothing-colour answers (docs/results.md, "a twelfth look"). "search-utility": as
  // search-only, but the searched positions are priced by what hiding there costs the `surrogate`'s answers to every
  // question on the picture (measured at the best few by privacy gain), weighed at `preference`. "search-measured":
  // as search-utility, with each position's privacy gain measured too (the attackers' loss with it hidden, not to
  // first order) and the best refined at half-cell offsets (docs/results.md, "a fifteenth look").
  std::string placement = "gradient";
  // With a fitted fill (--bank fill:value=fit) and --privacy-pretrain, the colour the pre-training places the region
  // against: "fitted" (refitted to the region's core every 50 steps, so the utility side weighs the fill the region
  // will get) or "grey" (0.5 throughout, the core's colour fitted once after it). Priced against the dark fill, the
  // searched region reached further onto the collar, which the held-out evaluator pays for (docs/results.md, "an
  // eighteenth look" and "a nineteenth look").
  std::string pretrain_fill = "fitted";
  // Several pre-trained draws, one kept (method/candidate_selection.h): with K > 1 the initialisation and
  // the pre-training run K times from different draws (the first is the run's own seed, so K = 1 is the
  // plain run), each draw's output answers the same `candidate_questions` training questions through the
  // black box, a fresh attacker measures what it leaks on held-out training pictures, and the rule keeps
  // the least-leaking draw whose utility is within a standard error of the best (or, with a baseline, as
  // below); the game (if any) goes on from it. Costs up to (K + 1) * candidate_questions queries, counted in
  // the run's budget.
  int candidates = 1;
  int candidate_questions = 1000;
  // A protector spec the draws must answer as well as (e.g. "regions:faces"): scored like a draw, and the rule keeps
  // the least-read draw whose utility leads the baseline's by candidate_lead paired standard errors (none: the
  // best utility). Drawing stops at the first draw that also leaves the fresh attacker a higher loss than the
  // baseline's output does (it dominates the baseline). Empty: the draws are compared with the best of them
  // instead (within a standard error), and all K are drawn.
  std::string candidate_baseline;
  std::shared_ptr<const Protector> candidate_baseline_protector;  // built from candidate_baseline by the caller (make_protector)
  double candidate_lead = 2.0;
  // What the privacy loss pushes the attackers' outputs toward: "prevalence" (the
  // label prior, what an attacker that reads nothing answers) or "half" (0.5 and
  // uniform identities, the earlier target, which rewards fooling the attackers).
  std::string privacy_target = "prevalence";
  // The identity term's weight in the privacy loss, beside the attributes' (method/privacy_adversary.h):
  // 1 adds re-identification's KL over the identities to the attributes' mean KL as they come (on the
  // synthetic set it is the larger term, and the one that holds a hidden region on the head,
  // docs/results.md); 0 trains on the attributes alone.
  double privacy_identity_weight = 1.0;

  std::string anonymizer = "unet";      // unet (the U-Net) | bdq (BDQ encoder: learned blur and quantisation bins)
                                        // | blend (control-space: blend weights over a bank of obfuscations, probed in those weights)
  int blend_grid = 8;                   // blend: G x G control cells per image
  int blend_context = 0;                // blend: dilated layers that let each cell's controls see the whole picture
  int blend_stride = 8;                 // blend: the encoder's stride (4: controls that can follow a head's outline)
  std::string blend_upsample = "bilinear";  // blend: controls to mask, bilinear or guided (edges snap to the picture's)
  std::string blend_edge = "soft";          // blend: soft (pixels hidden as far as the mask says) or hard[:C] (outright or not)
  double hide_budget = 0;               // blend: the share of each picture hidden, fixed; the network chooses where (0: free)
  std::string hide_shape = "blob";      // blend with a budget: the hidden region's shape: blob, ellipse, peak or head
  std::string bank = "blur:sigma=3,pixelate:block=8,fill:value=0.5";  // blend: the obfuscations beside the identity
  bool blend_residual = false;          // blend: an additive residual that only the privacy side trains
  std::string probe_basis = "controls"; // blend: probe all the controls, or only the head's Jacobian range (head; docs/estimator.md)
  // A prior for the black-box estimate (docs/estimator.md): "surrogate" spends each
  // sample's first probe pair along the gradient of a local reference model (the
  // file `surrogate`, loaded by the caller into surrogate_model), learned online from
  // the black box's probe differences at surrogate_lr (0: a fixed transfer prior).
  std::string prior = "none";           // none | surrogate
  std::string prior_mix = "subspace";   // subspace | prgf: how the probes use it (method/utility_gradient.h: PriorMix)
  std::string surrogate;                // the surrogate's model file (recorded in config.json)
  double surrogate_lr = 0;
  std::shared_ptr<ReferenceMllm> surrogate_model;
  int width = 8, depth = 3, size = 112; // U-Net width and depth; working resolution
  int levels = 6;                       // BDQ quantisation levels
  int frames = 4;                       // frames per video sample
  int max_train = 0;                    // 0: the whole split
  int checkpoint_every = 25;
  int snapshot_every = 0;               // also keep anonymizer-stepN.pt every N steps; 0: never
  bool resume = false;                  // continue from out/checkpoint.pt
  // Data-parallel training over the group's processes (built by the caller, outliving the
  // run; scrim/distributed/process_group.h): every rank draws the same global batch of
  // `batch` samples, probes its contiguous share and all-reduces its gradients, so every
  // rank holds the same parameters after each step; rank 0 alone writes under `out`, and
  // --max-queries is one budget for the run when the caller shares it (BudgetOptions::
  // shared_queries). docs/distributed.md says what equals a one-process run. Null: one process.
  ProcessGroup* group = nullptr;
  int world_size = 1;                   // the processes that trained the run: recorded in config.json and every log record
                                        // (set by the trainer from `group`; a resumed run may use another count)
  int concurrency = 4;                  // oracle queries in flight
  uint64_t seed = 1;
  std::string device = "cpu";           // cpu | cuda
};

struct TrainResult {
  int steps_done = 0;
  int64_t queries = 0;                  // oracle queries this run made (cache hits included)
  int64_t cache_hits = 0;
  std::string stopped = "done";         // done | budget
  std::filesystem::path anonymizer;     // the final model
  double seconds = 0;
  nlohmann::json last;                  // the last log record
  nlohmann::json selection;             // --candidates (this process's start): {"drawn", "chosen", "dominates" (null without a baseline)}
};

// Called after every step with its log record (also appended to train-log.jsonl).
using TrainCallback = std::function<void(const nlohmann::json& record)>;

// Throws scrim::UsageError for options train_anonymizer would refuse (the CLI
// asks before it writes anything under `out`).
void check_train_options(const TrainOptions& options);
// Whether --pretrain-fill has something to colour: a privacy-only pre-training and a fitted fill in the bank
// (check_train_options refuses pretrain_fill "grey" without both).
bool pretrain_fill_applies(const TrainOptions& options);

// Validates the options (throws scrim::UsageError) and trains.
TrainResult train_anonymizer(const TrainOptions& options, const TrainCallback& on_step = {});

// `scrim train --sweep K`: K preferences w = 1/(K+1) ... K/(K+1), one run each
// under out/pref-I, sharing one initialisation; writes out/front.json.
nlohmann::json train_preference_sweep(const TrainOptions& options, int k, const TrainCallback& on_step = {});

// The options as JSON (for config.json and the checkpoint).
nlohmann::json to_json(const TrainOptions& options);
// A run's config.json read back: every field to_json writes (absent ones keep their defaults).
// The oracle, the white box, the surrogate model and the --init-target protector are objects the
// caller builds from `mllm`, `surrogate` and `init_target`. Throws scrim::UsageError naming an
// unknown key or a value of the wrong type.
TrainOptions train_options_from_json(const nlohmann::json& config);

}  // namespace scrim
