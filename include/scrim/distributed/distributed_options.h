// Where a run's processes meet, in torch.distributed's conventions: the
// launcher (torchrun, Slurm, a Kubernetes Job) sets RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR and MASTER_PORT, or the CLI passes --world-size,
// --rank and --master HOST:PORT (a flag overrides its variable).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace scrim {

struct DistributedOptions {
  int world_size = 1;                   // processes in the run; 1: no store, no group
  int rank = 0;                         // this process, 0 .. world_size-1; rank 0 serves the store
  int local_rank = 0;                   // this process on its machine (picks the GPU with --device cuda)
  std::string master_addr;              // host of rank 0's store (required with world_size > 1)
  int master_port = 0;                  // its port, 1 .. 65535 (required with world_size > 1)
  bool cuda = false;                    // collectives on CUDA tensors: NCCL, which needs a LibTorch built with it
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};  // for peers to arrive, and for each collective
};

// What the CLI flags say; a set field overrides the environment.
struct DistributedFlags {
  std::optional<int> world_size;  // --world-size
  std::optional<int> rank;        // --rank
  std::string master;             // --master HOST:PORT ("" = not given)
};

using EnvLookup = std::function<const char*(const char*)>;  // std::getenv's shape, injectable for tests

// The run's layout from the flags over torchrun's variables. Throws UsageError,
// naming the variable or flag, for a value that cannot work (rank outside the
// world, a world of several without a master address, a port out of range).
DistributedOptions resolve_distributed_options(const DistributedFlags& flags, const EnvLookup& env);

// Splits "HOST:PORT" ("[::1]:PORT" for IPv6); throws UsageError when malformed.
std::pair<std::string, int> parse_host_port(const std::string& text);

}  // namespace scrim
