// `scrim data synth`: render the synthetic benchmark.
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "scrim/core/progress.h"
#include "scrim/data/synth.h"

namespace scrim::cli {

void add_data_synth_command(CLI::App& data) {
  auto opts = std::make_shared<SynthOptions>();
  auto* cmd = data.add_subcommand("synth", "Render the synthetic benchmark (deterministic for a seed)");
  cmd->add_option("--out", opts->out, "Output folder")->required();
  cmd->add_option("--train", opts->train, "Training samples")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--test", opts->test, "Test samples")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", opts->seed, "Random seed")->capture_default_str();
  cmd->add_option("--size", opts->size, "Image side in pixels")->capture_default_str()->check(CLI::Range(32, 2048));
  cmd->add_option("--clips", opts->clips, "Frames per action clip (0: still images; at least 8)")->capture_default_str();
  cmd->add_flag("--overwrite", opts->overwrite, "Replace a non-empty output folder");
  cmd->callback([opts] {
    ProgressBar bar("synth", opts->train + opts->test, globals().quiet);
    SynthSummary s = generate_synth(*opts, [&bar] { bar.advance(); });
    bar.finish();
    nlohmann::json j = {{"out", opts->out.string()},
                        {"actions_manifest", s.actions_manifest.string()},
                        {"vqa_manifest", s.vqa_manifest.string()},
                        {"images", s.images},
                        {"videos", s.videos},
                        {"vqa_questions", s.vqa_questions},
                        {"privacy_questions", s.privacy_questions},
                        {"seconds", s.seconds},
                        {"images_per_second", s.seconds > 0 ? s.images / s.seconds : 0.0}};
    char line[512];
    std::snprintf(line, sizeof line,
                  "wrote %d samples (%d clips, %d VQA questions, %d privacy questions) in %.1f s\n  %s\n  %s\n",
                  s.images, s.videos, s.vqa_questions, s.privacy_questions, s.seconds, s.actions_manifest.c_str(),
                  s.vqa_manifest.c_str());
    print_result(j, line);
  });
}

}  // namespace scrim::cli
