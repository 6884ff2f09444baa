// Several scrim processes acting as one, in torch.distributed's conventions:
// the launcher (torchrun, Slurm, a Kubernetes Job) sets RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR and MASTER_PORT, or the CLI passes --world-size,
// --rank and --master HOST:PORT. Rank 0 serves a c10d::TCPStore at the master
// address; every rank joins a c10d::ProcessGroupGloo (NCCL for CUDA tensors when
// LibTorch was built with it). One process with nothing set starts nothing:
// every collective is then the identity and the counter is local.
//
// LibTorch stays out of this header (its types are forward-declared).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scrim/distributed/distributed_options.h"

namespace at {
class Tensor;
}

namespace scrim {

enum class ReduceOp { kSum, kMean };

class ProcessGroup {
 public:
  // With world_size > 1 blocks until every rank has arrived, or throws scrim::Error
  // after options.timeout naming the ranks that did not arrive and the master address.
  explicit ProcessGroup(const DistributedOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  bool distributed() const { return world_size() > 1; }
  const std::string& backend() const;  // "none", "gloo" or "nccl"

  // In place on every rank: each tensor becomes the sum (or mean) of that tensor
  // over the ranks. Tensors may differ in shape; kMean needs floating-point tensors.
  void all_reduce(std::vector<at::Tensor>& tensors, ReduceOp op = ReduceOp::kSum);
  // In place: every rank's tensors become the `root` rank's.
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
  // Returns when every rank has called it.
  void barrier();
  // Atomically adds `delta` to the run-wide counter `name` (created at 0) and returns
  // the new value: a budget every rank draws from through the store.
  int64_t counter_add(const std::string& name, int64_t delta);

  // Text exchanged through the store, for results too irregular for a tensor
  // (serialized JSON). share_text posts this rank's `text` under `name` (once per
  // name) and returns at once; gather_text returns every rank's text under `name`,
  // in rank order, waiting as long as the missing ranks show signs of life (each
  // rank beats a heart in the store every second): a rank silent for the timeout
  // fails it with a one-line error naming that rank. With one process, gather_text
  // returns the text this process shared.
  void share_text(const std::string& name, const std::string& text);
  std::vector<std::string> gather_text(const std::string& name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scrim
