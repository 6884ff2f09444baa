// `scrim data stats`: counts per split, label and attribute of a manifest.
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "scrim/data/manifest.h"
#include "scrim/data/manifest_stats.h"

namespace scrim::cli {

void add_data_stats_command(CLI::App& data) {
  auto path = std::make_shared<std::string>();
  auto* cmd = data.add_subcommand("stats", "Validate a manifest and print counts per split, label and attribute");
  cmd->add_option("MANIFEST", *path, "Manifest (JSON lines)")->required();
  cmd->callback([path] {
    Manifest m = read_manifest(*path);
    auto stats = manifest_stats(m);
    print_result(stats, format_manifest_stats(stats));
  });
}

}  // namespace scrim::cli
