// `scrim demo`: scrim's main job on its embedded default data. Today: render
// the synthetic benchmark and print its statistics.
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "scrim/core/progress.h"
#include "scrim/data/manifest.h"
#include "scrim/data/manifest_stats.h"
#include "scrim/data/synth.h"

namespace scrim::cli {

void add_demo_command(CLI::App& app) {
  auto opts = std::make_shared<SynthOptions>();
  opts->out = "scrim-demo/synth";
  opts->train = 2000;
  opts->test = 500;
  opts->overwrite = true;
  auto* cmd = app.add_subcommand("demo", "The offline demo on the embedded synthetic benchmark");
  cmd->add_option("--out", opts->out, "Folder for the generated data")->capture_default_str();
  cmd->add_option("--train", opts->train, "Training samples")->capture_default_str();
  cmd->add_option("--test", opts->test, "Test samples")->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Random seed")->capture_default_str();
  cmd->callback([opts] {
    info("demo: rendering the synthetic benchmark into " + opts->out.string());
    ProgressBar bar("synth", opts->train + opts->test, globals().quiet);
    SynthSummary s = generate_synth(*opts, [&bar] { bar.advance(); });
    bar.finish();
    char line[256];
    std::snprintf(line, sizeof line, "demo: %d samples in %.1f s (%.0f images/s)", s.images, s.seconds,
                  s.seconds > 0 ? s.images / s.seconds : 0.0);
    info(line);
    auto action_stats = manifest_stats(read_manifest(s.actions_manifest));
    auto vqa_stats = manifest_stats(read_manifest(s.vqa_manifest));
    nlohmann::json j = {{"out", opts->out.string()}, {"seconds", s.seconds},
                        {"actions", action_stats}, {"vqa", vqa_stats}};
    print_result(j, "== " + s.actions_manifest.string() + "\n" + format_manifest_stats(action_stats) + "\n== " +
                        s.vqa_manifest.string() + "\n" + format_manifest_stats(vqa_stats));
  });
}

}  // namespace scrim::cli
