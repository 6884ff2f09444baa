#include "distributed_flags.h"

#include <cstdlib>

namespace scrim::cli {

std::shared_ptr<DistributedFlags> add_distributed_options(CLI::App* cmd) {
  auto flags = std::make_shared<DistributedFlags>();
  cmd->add_option("--world-size", flags->world_size, "Processes in the run (default: WORLD_SIZE, else 1)");
  cmd->add_option("--rank", flags->rank, "This process's rank, 0 .. world size - 1 (default: RANK)");
  cmd->add_option("--master", flags->master, "HOST:PORT of rank 0's store (default: MASTER_ADDR and MASTER_PORT)");
  return flags;
}

DistributedOptions resolve_distributed(const DistributedFlags& flags) {
  return resolve_distributed_options(flags, [](const char* name) { return std::getenv(name); });
}

}  // namespace scrim::cli
