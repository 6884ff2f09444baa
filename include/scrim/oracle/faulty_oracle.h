// Fault injection for tests: makes the wrapped oracle fail the way real
// services do (timeouts, 429 with Retry-After, 500, malformed JSON, truncated
// bodies), following a fixed schedule so tests are exact.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "scrim/oracle/oracle.h"

namespace scrim {

enum class Fault { kNone, kTimeout, kRateLimited, kServerError, kMalformedJson, kTruncatedBody, kConnectionReset };

// The OracleError each fault raises (429 carries Retry-After = retry_after_s).
[[noreturn]] void raise_fault(Fault fault, double retry_after_s = 1.0);

class FaultyOracle : public Oracle {
 public:
  // Query i (0-based) fails with schedule[i] while i < schedule.size(); later queries pass.
  FaultyOracle(std::shared_ptr<Oracle> inner, std::vector<Fault> schedule, double retry_after_s = 1.0);
  OracleReply query(const OracleRequest& request) override;
  std::string model_id() const override { return inner_->model_id(); }
  int64_t calls() const { return calls_; }

 private:
  std::shared_ptr<Oracle> inner_;
  std::vector<Fault> schedule_;
  double retry_after_s_;
  std::atomic<int64_t> calls_{0};
};

}  // namespace scrim
