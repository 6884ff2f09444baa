// `scrim train`: trains the black-box anonymizer (or, with --gradient
// whitebox, its white-box upper bound); `--sweep K` trains K preferences.
// With several processes (WORLD_SIZE/RANK/MASTER_* or --world-size/--rank/--master)
// the training is data-parallel: each rank probes its share of every batch,
// and rank 0 writes the run (docs/distributed.md).
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "distributed_flags.h"
#include "oracle_options.h"
#include "scrim/core/error.h"
#include "scrim/core/progress.h"
#include "scrim/distributed/process_group.h"
#include "scrim/method/train_recipe.h"
#include "scrim/method/trainer.h"
#include "scrim/privacy/protector.h"
#include "scrim/reference/oracle_factory.h"
#include "scrim/reference/reference_mllm.h"

namespace scrim::cli {

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train the anonymizer against a black-box MLLM (privacy/utility min-max)");
  auto o = std::make_shared<TrainOptions>();
  auto sweep = std::make_shared<int>(0);
  auto oracle = add_oracle_options(cmd);
  cmd->add_option("--data", o->manifest, "Manifest (its train split)")->required();
  cmd->add_option("--out", o->out, "Run folder (checkpoint.pt, anonymizer.pt, train-log.jsonl)")->required();
  cmd->add_flag("--resume", o->resume, "Continue the run in --out from its checkpoint");
  cmd->add_option("--sweep", *sweep, "Train K preference vectors (one anonymizer each) and write the front");
  auto recipe = std::make_shared<std::string>();
  std::string names;
  for (const auto& n : train_recipe_names()) names += (names.empty() ? "" : ", ") + n;
  cmd->add_option("--recipe", *recipe,
                  "Start from a measured configuration (" + names +
                      "; head: the action task's head-shaped, hard-edged region, docs/results.md); the flags given beside it "
                      "override its values");
  cmd->add_option("--gradient", o->gradient, "blackbox, or whitebox (reference MLLM only: the upper bound)")->capture_default_str();
  cmd->add_option("--estimator", o->estimator, "zo, or spsa-gc (BlackVIP-style baseline)")->capture_default_str();
  auto check_pareto = add_pareto_options(cmd, o->pareto, o->preference);
  cmd->add_option("--fidelity", o->fidelity,
                  "Mix the gradient of L1(x', x) into the utility direction at this weight (a query-free prior; 0: off)")
      ->capture_default_str();
  cmd->add_option("--utility-norm", o->utility_norm,
                  "mgda/preference with the black box: scale the utility estimate by its own norm (raw) or by its signal's, "
                  "from the split-half figure (split-half: its noise no longer shrinks the utility side)")
      ->capture_default_str();
  cmd->add_option("--history", o->history, "Critical history: none, prior, subspace or full")->capture_default_str();
  cmd->add_option("--probes", o->probes, "Probe pairs per sample (q)")->capture_default_str();
  cmd->add_option("--scout-probes", o->scout_probes, "Probe pairs per sample before the allocator")->capture_default_str();
  cmd->add_option("--mu", o->mu, "Probe radius in [0, 1] image units")->capture_default_str();
  cmd->add_option("--grid", o->grid, "Coarse probe basis: grid x grid per channel (0: pixels)")->capture_default_str();
  cmd->add_option("--distribution", o->distribution, "gaussian or rademacher")->capture_default_str();
  cmd->add_flag("--hard-label", o->hard_label, "Use only the answer text (loss = 1 - utility), not log-probs");
  cmd->add_option("--steps", o->steps, "Adversarial steps")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Samples per step")->capture_default_str();
  cmd->add_option("--lr", o->learning_rate, "Anonymizer learning rate (Adam, cosine schedule)")->capture_default_str();
  cmd->add_option("--init-steps", o->init_steps, "Identity-initialisation steps (U-Net, or --init-target; the blend anonymizer starts near the identity)")->capture_default_str();
  cmd->add_option("--init-target", o->init_target,
                  "Start from a protector instead of the identity: the initialisation learns its output (e.g. downsample:factor=4)");
  cmd->add_option("--adversary-warmup", o->adversary_warmup, "Adversary steps before the game")->capture_default_str();
  cmd->add_option("--adversary-arch", o->adversary_arch, "small or resnet18")->capture_default_str();
  cmd->add_option("--adversaries", o->adversary_members, "Adversary ensemble size")->capture_default_str();
  cmd->add_option("--adversary-restart", o->adversary_restart, "Steps between adversary restarts (0: never)")->capture_default_str();
  cmd->add_option("--adversary-steps", o->adversary_steps, "Attacker updates per anonymizer step (extra ones on other samples; no queries)")->capture_default_str();
  cmd->add_option("--utility-margin", o->utility_margin,
                  "Cap the utility loss where the answer is right by this many nats (log-odds margin; 0: uncapped)")
      ->capture_default_str();
  cmd->add_option("--privacy-cells", o->privacy_cells,
                  "Blend anonymizer: keep the privacy gradient in this fraction of each image's cells where it is largest (0: all)")
      ->capture_default_str();
  cmd->add_option("--privacy-pretrain", o->privacy_pretrain,
                  "Blend anonymizer with --hide-budget: privacy-only steps before the game, the attackers frozen unless "
                  "--pretrain-adversary-steps (no queries; 0: none)")
      ->capture_default_str();
  cmd->add_option("--pretrain-adversary-steps", o->pretrain_adversary_steps,
                  "Attacker updates on the output after each --privacy-pretrain step, so the region is placed where attackers "
                  "trained on hidden pictures read (0: the warmed-up attackers stay frozen)")
      ->capture_default_str();
  cmd->add_option("--pretrain-search-attackers", o->pretrain_search_attackers,
                  "With --pretrain-adversary-steps and a --placement search, which attackers the search scores positions against: "
                  "current (as they now are), average (their running mean over the pre-training) or start-and-current (the "
                  "warmed-up attackers as they started and the current ones, their losses averaged)")
      ->capture_default_str();
  cmd->add_flag("--pretrain-surrogate", o->pretrain_surrogate,
                "--privacy-pretrain also weighs --surrogate MODEL's utility (its true gradient, no queries), combined at --preference: "
                "the region is placed against a local model, then the black-box game refines it");
  cmd->add_option("--placement", o->placement,
                  "How --privacy-pretrain places the hidden region: gradient (the privacy loss through the blend), search "
                  "(each picture's best position searched to first order, the placement scores trained toward it beside the "
                  "privacy and surrogate gradients), search-only (toward it alone), search-utility (as search-only, the best "
                  "positions priced by what hiding there costs --surrogate MODEL's answers on the picture, weighed at --preference) "
                  "or search-measured (as search-utility, each position's privacy gain measured on the attackers, not to first "
                  "order, and the best refined at half-cell offsets)")
      ->capture_default_str();
  cmd->add_option("--pretrain-fill", o->pretrain_fill,
                  "With a fitted fill (--bank fill:value=fit), the colour --privacy-pretrain places the region against: fitted "
                  "(refitted to what the region hides as it moves) or grey (0.5; the colour fitted once after the pre-training)")
      ->capture_default_str();
  cmd->add_option("--candidates", o->candidates,
                  "Pre-train up to this many draws and keep the one a fresh attacker reads least among those the black box "
                  "answers as well as the best draw through (within a standard error) or, with --candidate-baseline, above it; "
                  "needs --privacy-pretrain (1: the run's own draw)")
      ->capture_default_str();
  cmd->add_option("--candidate-questions", o->candidate_questions,
                  "Training questions each --candidates draw answers through the black box (one query each)")
      ->capture_default_str();
  cmd->add_option("--candidate-baseline", o->candidate_baseline,
                  "A protector spec the --candidates draws must answer above (e.g. regions:faces): the least-read draw "
                  "that does is kept, and drawing stops at the first that is also read less than it (empty: the draws are "
                  "held to the best of them)");
  cmd->add_option("--candidate-lead", o->candidate_lead,
                  "How far a draw must answer above the --candidate-baseline, in paired standard errors of the difference "
                  "(2: a lower confidence bound above it; -1: not significantly below it)")
      ->capture_default_str();
  cmd->add_option("--adversary-erasing", o->adversary_erasing,
                  "Random erasing of the attackers' training images: rectangles per image blended toward grey (0: off)")
      ->capture_default_str();
  cmd->add_option("--privacy-target", o->privacy_target,
                  "What the privacy loss pushes the attackers toward: prevalence (the label prior: uninformative) or half (0.5, uniform)")
      ->capture_default_str();
  cmd->add_option("--privacy-identity-weight", o->privacy_identity_weight,
                  "The identity term's weight in the privacy loss beside the attributes' mean (0: attributes alone)")
      ->capture_default_str();
  cmd->add_option("--anonymizer", o->anonymizer,
                  "unet, bdq (BDQ encoder: learned blur and quantisation bins), or blend (control space: blend weights over --bank, "
                  "probed in those weights)")->capture_default_str();
  cmd->add_option("--blend-grid", o->blend_grid, "blend: control cells per side (G; D = K G^2 controls per image)")->capture_default_str();
  cmd->add_option("--blend-context", o->blend_context,
                  "blend: dilated layers after the encoder (each doubles the dilation; 3 let every cell see the whole picture)")
      ->capture_default_str();
  cmd->add_option("--blend-stride", o->blend_stride,
                  "blend: the encoder's stride, 8 or 4 (4: the controls can tell apart 4-pixel places; pair it with --blend-grid 28)")
      ->capture_default_str();
  cmd->add_option("--blend-upsample", o->blend_upsample,
                  "blend: how the controls become a per-pixel mask: bilinear, or guided (its edges follow the picture's, "
                  "e.g. a head's outline, at the same number of controls)")
      ->capture_default_str();
  cmd->add_option("--blend-edge", o->blend_edge,
                  "blend: soft (each pixel hidden as far as the mask says: a region's edge tints what lies round it), "
                  "hard:C (each pixel hidden outright where the mask hides at least C of it, else left as it is; trained "
                  "through the soft mask's gradient) or hard (C = 0.5)")
      ->capture_default_str();
  cmd->add_option("--hide-budget", o->hide_budget,
                  "blend: the share of each picture hidden, fixed, so that the network only chooses where (0: free per cell)")
      ->capture_default_str();
  cmd->add_option("--hide-shape", o->hide_shape,
                  "blend with --hide-budget: the hidden region's shape, blob (any, where the scores put it) or ellipse "
                  "(one ellipse of the budget's area that the network places and orients: the shape of a head) or peak (the "
                  "same ellipse on the scores' strongest mode rather than their mean) or head (an upright ellipse of a head's "
                  "proportions where it covers the most score mass)")
      ->capture_default_str();
  cmd->add_option("--bank", o->bank, "blend: the obfuscations beside the identity (blur:sigma=S, pixelate:block=B, fill:value=V; fill:value=fit: a colour fitted to the training pictures)")
      ->capture_default_str();
  cmd->add_flag("--blend-residual", o->blend_residual, "blend: add a residual that only the privacy side trains");
  cmd->add_option("--probe-basis", o->probe_basis,
                  "blend: probe the controls within the range of the head's Jacobian (head) or all of them (controls)")
      ->capture_default_str();
  cmd->add_option("--prior", o->prior,
                  "none, or surrogate: each sample's first probe pair follows the gradient of --surrogate (P-RGF style)")
      ->capture_default_str();
  cmd->add_option("--prior-mix", o->prior_mix,
                  "--prior surrogate: subspace (one pair along it, the rest orthogonal and shrunk) or prgf (scouts measure its "
                  "cosine, the rest mix it in by P-RGF's lambda*)")
      ->capture_default_str();
  cmd->add_option("--surrogate", o->surrogate,
                  "--prior surrogate, --pretrain-surrogate: a scrim reference model file, the local utility model (never the evaluator)");
  cmd->add_option("--surrogate-lr", o->surrogate_lr,
                  "--prior surrogate: learn it online from the black box's probe differences at this rate (0: fixed)")
      ->capture_default_str();
  cmd->add_option("--levels", o->levels, "BDQ quantisation levels")->capture_default_str();
  cmd->add_option("--width", o->width, "Anonymizer width")->capture_default_str();
  cmd->add_option("--depth", o->depth, "Anonymizer depth")->capture_default_str();
  cmd->add_option("--size", o->size, "Working resolution")->capture_default_str();
  cmd->add_option("--max-train", o->max_train, "Use at most this many training samples (0: all)")->capture_default_str();
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "Steps between checkpoints")->capture_default_str();
  cmd->add_option("--snapshot-every", o->snapshot_every, "Also keep anonymizer-stepN.pt every N steps (0: never)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu or cuda")->capture_default_str();
  auto distributed = add_distributed_options(cmd);
  cmd->callback([cmd, o, oracle, sweep, recipe, distributed, check_pareto] {
    if (!recipe->empty()) apply_train_recipe(*recipe, *o, [cmd](const std::string& flag) { return cmd->get_option(flag)->count() > 0; });
    check_pareto();
    // Several processes: data-parallel, each rank probing its share of every batch (docs/distributed.md).
    const DistributedOptions layout = resolve_distributed(*distributed);
    std::unique_ptr<ProcessGroup> group;
    std::string who = "train: ";
    OracleStackOptions stack = oracle->stack;
    if (layout.world_size > 1) {
      if (o->device != "cpu") throw UsageError("train: data-parallel training runs on --device cpu (its collectives are Gloo's)");
      group = std::make_unique<ProcessGroup>(layout);
      o->group = group.get();
      who = "train (rank " + std::to_string(layout.rank) + " of " + std::to_string(layout.world_size) + "): ";
      // One query budget for the run: every rank draws its queries from a counter in rank 0's store.
      ProcessGroup* g = group.get();
      if (stack.budget.max_queries > 0) stack.budget.shared_queries = [g](int64_t n) { return g->counter_add("train/queries", n); };
    }
    o->mllm = oracle->spec;
    o->oracle = make_oracle(o->mllm, stack);
    o->concurrency = stack.concurrency;
    // White-box access: only the in-process reference MLLM has gradients to read.
    if (o->gradient == "whitebox") o->white_box = std::dynamic_pointer_cast<ReferenceMllm>(o->oracle.backend);
    if (!o->init_target.empty()) o->init_target_protector = make_protector(o->init_target);  // UsageError naming a bad spec
    if (!o->candidate_baseline.empty()) o->candidate_baseline_protector = make_protector(o->candidate_baseline);
    if (!o->surrogate.empty()) o->surrogate_model = ReferenceMllm::load(o->surrogate);  // a private copy: online learning changes it
    check_train_options(*o);  // refused options leave nothing under --out
    if (stack.cache.empty()) {
      stack.cache = o->out / "oracle-cache.sqlite";  // a resumed run reuses the replies
      o->oracle = wrap_oracle(o->oracle.backend, stack);
    }
    int runs = *sweep > 0 ? *sweep : 1;
    ProgressBar bar("train", static_cast<int64_t>(o->steps) * runs, globals().quiet);
    // "queries" counts from the run's start, "seconds" from this process's: rate over this process only.
    int64_t queries_before = -1;
    auto on_step = [&bar, &queries_before](const nlohmann::json& r) {
      int64_t queries = r.value("queries", int64_t{0});
      if (queries_before < 0) queries_before = queries - r.value("step_queries", int64_t{0});
      double seconds = r.value("seconds", 0.0);
      if (seconds > 0) bar.set_note(std::to_string(static_cast<int64_t>((queries - queries_before) / seconds)) + " queries/s");
      bar.advance();
      if (globals().verbose) info(r.dump());
    };
    char line[512];
    const bool writer = layout.rank == 0;  // the other ranks' runs are rank 0's, which writes them
    auto done_elsewhere = [&] { info(who + "done; rank 0 writes the run to " + o->out.string()); };
    if (*sweep > 0) {
      auto front = train_preference_sweep(*o, *sweep, on_step);
      bar.finish();
      if (!writer) return done_elsewhere();
      std::string text;
      for (const auto& p : front["preferences"]) {
        std::snprintf(line, sizeof line, "preference %.2f: %s (%d steps, %lld queries)\n", p["preference"].get<double>(),
                      p["anonymizer"].get<std::string>().c_str(), p["steps"].get<int>(), static_cast<long long>(p["queries"].get<int64_t>()));
        text += line;
      }
      print_result(front, text + "front: " + (o->out / "front.json").string() + "\n");
      return;
    }
    auto r = train_anonymizer(*o, on_step);
    bar.finish();
    if (!writer) return done_elsewhere();
    nlohmann::json result = {{"anonymizer", r.anonymizer.string()}, {"steps", r.steps_done}, {"queries", r.queries},
                             {"cache_hits", r.cache_hits}, {"stopped", r.stopped}, {"seconds", r.seconds}, {"last", r.last}};
    std::string text;
    if (r.selection.is_object()) {
      result["selection"] = r.selection;
      // Counted from 1 here; the log's and the JSON's "chosen" is the draw's index, from 0.
      std::snprintf(line, sizeof line, "kept draw %d of %d drawn", r.selection["chosen"].get<int>() + 1, r.selection["drawn"].get<int>());
      text = line;
      if (r.selection["dominates"].is_boolean())
        text += r.selection["dominates"].get<bool>()
                    ? "; it beats " + o->candidate_baseline + " on the training questions and pictures"
                    : "; none beat " + o->candidate_baseline + " on both the training questions and pictures (draw more: --candidates)";
      text += "\n";
    }
    std::snprintf(line, sizeof line, "%s after %d steps, %lld queries (%lld from the cache), %.0f s\nanonymizer: %s\n",
                  r.stopped == "budget" ? "query budget spent" : "trained", r.steps_done, static_cast<long long>(r.queries),
                  static_cast<long long>(r.cache_hits), r.seconds, r.anonymizer.c_str());
    print_result(result, text + line);
  });
}

}  // namespace scrim::cli
