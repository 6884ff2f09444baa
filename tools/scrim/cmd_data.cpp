// `scrim data`: data-set tools (synthesise, import, inspect).
#include "cli_common.h"

namespace scrim::cli {

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Data sets: generate the synthetic benchmark, import public sets, print statistics");
  data->require_subcommand(1);
  add_data_synth_command(*data);
  add_data_stats_command(*data);
  add_data_import_command(*data);
}

}  // namespace scrim::cli
