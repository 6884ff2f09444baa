// Shared pieces of the scrim CLI: global flags and the registration functions
// each subcommand file provides.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

namespace scrim::cli {

// Flags every command understands (set on the top-level app).
struct GlobalOptions {
  bool quiet = false;    // no progress bars, no informational messages
  bool json = false;     // machine-readable results on stdout
  bool verbose = false;  // debug logging on stderr
  int threads = 0;       // LibTorch threads (0: one per core, at most 8)
};
GlobalOptions& globals();

// Prints `result` as JSON (with --json) or `text` otherwise, on stdout.
void print_result(const nlohmann::json& result, const std::string& text);

// Informational line on stderr, suppressed by --quiet and --json.
void info(const std::string& line);

// The baseline protectors the demo and `scrim reproduce` evaluate beside the learned anonymizer.
const std::vector<std::string>& baseline_protectors();

// --pareto and --preference, registered together. A weight on privacy means nothing to MGDA-UB (the
// default): --preference given alone selects the preference combiner, beside --pareto mgda it is refused.
// The returned check applies that rule; call it first in the command's callback.
std::function<void()> add_pareto_options(CLI::App* cmd, std::string& pareto, double& preference);

// Subcommand registration, one per source file.
void add_data_command(CLI::App& app);
void add_data_synth_command(CLI::App& data);
void add_data_stats_command(CLI::App& data);
void add_data_import_command(CLI::App& data);
void add_demo_command(CLI::App& app);
void add_reference_command(CLI::App& app);
void add_ask_command(CLI::App& app);
void add_protect_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_eval_real_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_reproduce_command(CLI::App& app);
std::string eval_summary_table(const nlohmann::json& results);

}  // namespace scrim::cli
