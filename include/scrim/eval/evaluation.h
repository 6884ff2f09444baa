// The evaluation protocol (`scrim eval`): for each protector, protect the
// train and test splits; measure utility through the MLLM and the task scorer
// on the protected test split; train fresh attackers of every architecture on
// the protected train split and test them on the protected test split (worst
// case over architectures; with several attacker seeds, the mean of the
// per-seed worst cases and their spread); run independent attackers (OCR, face detector, the
// MLLM asked the private questions). Beside every cMAP stands the floor, the
// cMAP of an attacker that reads nothing (`cmap_floor`, the mean test
// prevalence), and, when `raw` is evaluated, each protector's `leakage`
// = (cMAP - floor) / (cMAP_raw - floor); with several attacker seeds also
// `cmap_worst_seed` (the strongest seed's) and its `leakage_worst_seed`, which
// an attacker that fails to train cannot pull down. Results go to JSON and an HTML report.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scrim/oracle/oracle_stack.h"
#include "scrim/privacy/attacker.h"

namespace scrim {

class ProcessGroup;

struct EvalOptions {
  std::filesystem::path manifest;
  std::vector<std::string> protectors;          // specs
  // The MLLM, built by the caller: the CLI from --mllm (make_oracle,
  // scrim/reference/oracle_factory.h), a test from any Oracle (wrap_oracle).
  // Queries go to oracle.oracle; its budget and cache, when present, count them.
  OracleStack oracle;
  std::string mllm;                             // the oracle's spec, recorded in the results (a description)
  std::filesystem::path out;                    // results.json and report.html go here
  std::vector<std::string> attackers = {"small", "resnet18"};
  int attacker_epochs = 8;
  // Each architecture is retrained with seeds seed, seed + 1, ...: a retrained
  // attacker's cMAP moves by a few hundredths with its seed, so one seed cannot
  // tell close protectors apart.
  int attacker_seeds = 1;
  int max_train = 0;                            // 0: the whole split
  int max_test = 0;
  int frames = 4;                               // frames per video sample
  int independent_samples = 100;                // test images for OCR and face-detector attackers
  int examples = 4;                             // example images per protector in the report
  int concurrency = 4;                          // MLLM queries in flight
  uint64_t seed = 1;
  // Several processes (scrim/distributed/process_group.h): each protector's jobs
  // (its MLLM questions and independent attackers, then one attacker per seed
  // and architecture) are cut into contiguous shares of the job list, one per
  // rank; every rank gets the merged results, which equal one process's at the
  // same --threads except for the timings and the cache hits. Null: one process.
  ProcessGroup* group = nullptr;
};

// Called with a short description of each stage.
using EvalProgress = std::function<void(const std::string& stage)>;

// Runs the protocol; returns the results object that results.json holds (on
// every rank of options.group; rank 0 writes them).
nlohmann::json run_evaluation(const EvalOptions& options, const EvalProgress& progress = {});

// A self-contained HTML page (inline SVG plot, inline images) from run_evaluation's results.
std::string render_html_report(const nlohmann::json& results);

}  // namespace scrim
