// --world-size, --rank and --master HOST:PORT: the flags of the commands whose
// processes talk to each other (train, eval), over torchrun's variables
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; docs/distributed.md).
#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "scrim/distributed/distributed_options.h"

namespace scrim::cli {

// Adds the flags to `cmd`; the returned flags are filled when it parses.
std::shared_ptr<DistributedFlags> add_distributed_options(CLI::App* cmd);

// The run's layout: the flags over this process's environment.
DistributedOptions resolve_distributed(const DistributedFlags& flags);

}  // namespace scrim::cli
