// An oracle that fails one call in ten, the way real services do (each
// transient fault in turn), behind the standard decorators: for tests that hand
// training or evaluation an unreliable MLLM.
#pragma once

#include <memory>
#include <vector>

#include "scrim/oracle/faulty_oracle.h"
#include "scrim/oracle/oracle_stack.h"

namespace scrim::testing {

// Calls 9, 19, 29, ... fail (timeout, 429, 500, malformed JSON, truncated body,
// connection reset, in turn) for the first `calls` calls; the rest pass.
inline std::vector<Fault> every_tenth_call_fails(int calls) {
  const Fault kinds[] = {Fault::kTimeout,       Fault::kRateLimited,   Fault::kServerError,
                         Fault::kMalformedJson, Fault::kTruncatedBody, Fault::kConnectionReset};
  std::vector<Fault> schedule(static_cast<size_t>(calls), Fault::kNone);
  for (int i = 9; i < calls; i += 10) schedule[static_cast<size_t>(i)] = kinds[(i / 10) % 6];
  return schedule;
}

// `backend` failing as `schedule` says, wrapped in the standard stack (budget,
// retries) with `options`; the retry layer waits no time between attempts.
inline OracleStack flaky_stack(std::shared_ptr<Oracle> backend, std::vector<Fault> schedule, OracleStackOptions options = {}) {
  options.retry.sleep = [](double) {};
  return wrap_oracle(std::make_shared<FaultyOracle>(std::move(backend), std::move(schedule)), options);
}

}  // namespace scrim::testing
