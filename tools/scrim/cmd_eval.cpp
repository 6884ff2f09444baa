// `scrim eval`: the evaluation protocol over protectors, with JSON and HTML output.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "distributed_flags.h"
#include "oracle_options.h"
#include "scrim/core/fs_util.h"
#include "scrim/distributed/process_group.h"
#include "scrim/eval/evaluation.h"

namespace scrim::cli {

std::string eval_summary_table(const nlohmann::json& results) {
  // With several attacker seeds the cMAP column is their mean, then its standard deviation and the strongest seed's.
  // Leakage scales cMAP between the floor (0: nothing readable) and raw (1); "—" when raw was not evaluated;
  // "lk-max" is the same from each row's strongest seed.
  const bool spread = results.value("attacker_seeds", 1) > 1;
  char line[256];
  auto cell = [&](const nlohmann::json& r, const char* key) {
    if (!r.contains(key)) return std::string("    —  ");
    std::snprintf(line, sizeof line, "%7.3f", r[key].get<double>());
    return std::string(line);
  };
  // "vs raw": the utility's paired difference from raw's on the same questions, ± its standard error.
  auto versus_raw = [&](const nlohmann::json& r) {
    if (!r.contains("utility_vs_raw") || r["protector"] == "raw") return std::string("        —      ");
    std::snprintf(line, sizeof line, "%+8.4f±%.4f", r["utility_vs_raw"][0].get<double>(), r["utility_vs_raw"][1].get<double>());
    return std::string(line);
  };
  std::string out = std::string("protector                                   utility     vs raw ± se   cMAP  ") + (spread ? "    sd    max" : "") +
                    "  leakage" + (spread ? "   lk-max" : "") + "    F1   id-top1  mllm   queries\n";
  for (const auto& r : results["protectors"]) {
    std::string seeds = spread ? cell(r, "cmap_sd") + cell(r, "cmap_worst_seed") : "";
    std::string leak = cell(r, "leakage") + (spread ? "  " + cell(r, "leakage_worst_seed") : "");
    const std::string gap = versus_raw(r);
    std::snprintf(line, sizeof line, "  %-40s %6.3f  %s  %5.3f%s  %s  %5.3f  %6.3f  %5.3f  %6lld\n", r["protector"].get<std::string>().c_str(),
                  r["utility"].get<double>(), gap.c_str(), r["cmap"].get<double>(), seeds.c_str(), leak.c_str(), r["mean_f1"].get<double>(),
                  r["identity_top1"].get<double>(), r.value("mllm_leakage", -1.0), static_cast<long long>(r["queries"].get<int64_t>()));
    out += line;
  }
  std::snprintf(line, sizeof line, "floor (an attacker that reads nothing): cMAP %.3f, identity top-1 %.3f\n", results.value("cmap_floor", 0.0),
                results.value("identity_floor", 0.0));
  return out + line;
}

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate protectors: utility through the MLLM, privacy against retrained attackers");
  auto o = std::make_shared<EvalOptions>();
  auto oracle = add_oracle_options(cmd);
  cmd->add_option("--data", o->manifest, "Manifest with train and test splits")->required();
  cmd->add_option("--protector", o->protectors, "Protector spec(s) (see scrim protect --list)")->required()->expected(1, -1);
  cmd->add_option("--out", o->out, "Folder for results.json and report.html")->required();
  cmd->add_option("--attackers", o->attackers, "Attacker architectures")->delimiter(',')->capture_default_str();
  cmd->add_option("--attacker-epochs", o->attacker_epochs, "Attacker epochs (every one runs; the final networks are tested)")->capture_default_str();
  cmd->add_option("--attacker-seeds", o->attacker_seeds,
                  "Retrain each attacker with this many seeds; cMAP is the mean of the per-seed worst cases, with its spread")
      ->capture_default_str();
  cmd->add_option("--max-train", o->max_train, "Use at most this many training samples (0: all)")->capture_default_str();
  cmd->add_option("--max-test", o->max_test, "Use at most this many test samples (0: all)")->capture_default_str();
  cmd->add_option("--independent-samples", o->independent_samples, "Test images for the OCR and face-detector attackers")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed for the attackers")->capture_default_str();
  auto distributed = add_distributed_options(cmd);
  cmd->callback([o, oracle, distributed] {
    // Several processes share out the jobs; each gets the merged results, and rank 0 writes them.
    const DistributedOptions layout = resolve_distributed(*distributed);
    std::unique_ptr<ProcessGroup> group;
    std::string who = "eval: ";
    if (layout.world_size > 1) {
      group = std::make_unique<ProcessGroup>(layout);
      o->group = group.get();
      who = "eval (rank " + std::to_string(layout.rank) + " of " + std::to_string(layout.world_size) + "): ";
    }
    o->mllm = oracle->spec;
    OracleStackOptions stack = oracle->stack;
    if (stack.cache.empty()) stack.cache = o->out / "oracle-cache.sqlite";  // re-runs reuse the replies
    o->oracle = make_oracle(o->mllm, stack);
    o->concurrency = stack.concurrency;
    auto results = run_evaluation(*o, [who](const std::string& stage) { info(who + stage); });
    if (layout.rank != 0) {
      info(who + "done; rank 0 writes the merged results to " + (o->out / "results.json").string());
      return;
    }
    write_file_atomic(o->out / "results.json", results.dump(2) + "\n");
    write_file_atomic(o->out / "report.html", render_html_report(results));
    nlohmann::json brief = results;
    // Printed without the pictures and the per-question utilities: results.json has both.
    for (auto& r : brief["protectors"]) r.erase("examples"), r.erase("utility_by_question");
    print_result(brief, eval_summary_table(results) + "report: " + (o->out / "report.html").string() + "\n");
  });
}

}  // namespace scrim::cli
