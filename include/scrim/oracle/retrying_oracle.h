// Retries transient failures (408, 409, 429, 5xx, connection errors, timeouts,
// malformed replies) with exponential back-off and full jitter, honouring the
// service's Retry-After (capped at 120 s), within an optional deadline for the
// whole call. Budget and quota errors are never retried.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "scrim/oracle/oracle.h"

namespace scrim {

struct RetryOptions {
  int max_retries = 5;          // attempts = 1 + max_retries
  double base_delay_s = 0.5;    // first back-off
  double max_delay_s = 30.0;    // cap of the exponential back-off
  uint64_t seed = 0;            // jitter stream (0: from the clock)
  // Deadline of one call in seconds, every attempt and back-off included
  // (0: none). An attempt in flight is cut short at it (HTTP timeouts are
  // clamped to the time left), and no retry starts that could not end by it.
  double deadline_s = 0;
  // Sleeps for the given seconds; tests replace it to record the delays.
  std::function<void(double)> sleep;
};

class RetryingOracle : public Oracle {
 public:
  RetryingOracle(std::shared_ptr<Oracle> inner, RetryOptions options);
  OracleReply query(const OracleRequest& request) override;
  std::string model_id() const override { return inner_->model_id(); }
  int64_t retries() const { return retries_; }

 private:
  std::shared_ptr<Oracle> inner_;
  RetryOptions options_;
  std::atomic<int64_t> retries_{0};
  std::atomic<uint64_t> draws_{0};
};

}  // namespace scrim
