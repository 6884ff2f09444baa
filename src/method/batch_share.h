// One process's share of a data-parallel training step (`scrim train` on several
// processes; docs/distributed.md). Every rank draws the same global batch from the
// same seeded stream and takes the contiguous positions [begin, end) of it — rank r
// of W takes ⌊B·r/W⌋ … ⌊B·(r+1)/W⌋ − 1, as `--shard` cuts inputs — so what a sample
// gets (its probe directions, its share of the probe budget, its history entry)
// depends on its global position, never on the rank that holds it.
//
// The collectives over the batch are sums of per-position tensors that are zero
// on the other ranks' positions: a gathered row is the row its owner computed,
// bit for bit (x + 0 = x). Without a group, or with a group of one, the share is
// the whole batch and every collective is the identity.
// Private header: LibTorch inside.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "scrim/distributed/process_group.h"

namespace scrim::method {

class BatchShare {
 public:
  BatchShare() = default;
  // This rank's share of a global batch of `total` positions (group null: the whole batch).
  BatchShare(ProcessGroup* group, int64_t total);

  bool distributed() const { return group_ != nullptr && group_->distributed(); }
  ProcessGroup* group() const { return group_; }
  int rank() const { return distributed() ? group_->rank() : 0; }
  int world_size() const { return distributed() ? group_->world_size() : 1; }
  int64_t begin() const { return begin_; }
  int64_t end() const { return end_; }
  int64_t size() const { return end_ - begin_; }   // this rank's samples
  int64_t total() const { return total_; }        // the global batch
  // This rank's share of a global batch's per-position values.
  template <class T>
  std::vector<T> local(const std::vector<T>& global) const {
    return std::vector<T>(global.begin() + begin_, global.begin() + end_);
  }

  // `local` [size(), ...] placed at this rank's positions of a zero tensor [total(), ...];
  // summed over the ranks (all_reduce), it is the whole batch's tensor on every rank.
  torch::Tensor padded(const torch::Tensor& local) const;
  // In place: each tensor becomes its sum over the ranks (one collective per dtype).
  void sum(std::vector<torch::Tensor>& tensors) const;
  // padded(local) summed over the ranks: [total(), ...] on every rank.
  torch::Tensor gather(const torch::Tensor& local) const;

 private:
  ProcessGroup* group_ = nullptr;
  int64_t begin_ = 0, end_ = 0, total_ = 0;
};

// A step's MLLM failures, agreed by all ranks so that none waits at a collective for a
// rank that gave up: a rank whose queries failed (a spent budget, an endpoint that
// stayed down) keeps its error, skips the rest of its probes and still joins the
// step's collectives, where every rank learns every rank's outcome; then all stop the
// step alike (check throws). With one process the error is thrown where it happens.
class StepFailures {
 public:
  // Runs `probes`; an OracleError is kept (distributed) or thrown (one process).
  template <class F>
  void run(const BatchShare& share, F&& probes) {
    if (failed_) return;
    if (!share.distributed()) return probes();
    try {
      probes();
    } catch (const std::exception&) {
      keep(std::current_exception());
    }
  }
  bool failed() const { return static_cast<bool>(failed_); }
  // This rank's outcome as a tensor [world size] (its code at its rank, 0: none) to sum with
  // a step's collective; after the sum, check(summed) throws on every rank if any rank failed:
  // the rank's own error where it failed, else an OracleError of the first failing rank's kind.
  torch::Tensor codes(const BatchShare& share) const;
  void check(const BatchShare& share, const torch::Tensor& summed_codes) const;

 private:
  void keep(std::exception_ptr error);
  std::exception_ptr failed_;
  int64_t code_ = 0;
};

}  // namespace scrim::method
