// A deterministic share of a list of independent jobs (`scrim protect --shard I/N`,
// or RANK of WORLD_SIZE): shard I takes the I-th of N contiguous, near-equal
// slices of the sorted list, so the shards' outputs concatenated in shard order
// are the unsharded output. Shards need no connection to each other: they suit a
// Slurm array or a Kubernetes Indexed Job as well as torchrun.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "scrim/distributed/distributed_options.h"

namespace scrim {

struct Shard {
  int index = 0;  // 0 .. count-1
  int count = 1;  // 1: the whole list
  bool sharded() const { return count > 1; }
};

// Parses "I/N" (0 <= I < N); throws UsageError naming `what` when malformed.
Shard parse_shard(const std::string& text, const std::string& what = "--shard");

// The flag when given ("" = not given), else RANK of WORLD_SIZE from the
// environment, else the whole list.
Shard resolve_shard(const std::string& flag, const EnvLookup& env);

// The [begin, end) slice of `n` jobs that `shard` takes.
std::pair<size_t, size_t> shard_range(size_t n, const Shard& shard);

}  // namespace scrim
