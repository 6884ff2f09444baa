// The standard decorators around an oracle backend:
//   Cache( Retry( Budget( RateLimit( backend ))))
// so cached replies cost nothing, every attempt counts against the budget, and
// a spent budget is never retried. The backend comes from a spec string
// (scrim/reference/oracle_factory.h) or, in tests, from any Oracle.
#pragma once

#include <filesystem>
#include <memory>

#include "scrim/oracle/budget_oracle.h"
#include "scrim/oracle/cached_oracle.h"
#include "scrim/oracle/oracle.h"
#include "scrim/oracle/retrying_oracle.h"

namespace scrim {

struct OracleStackOptions {
  std::filesystem::path cache;   // SQLite file; empty: no cache
  RetryOptions retry;
  BudgetOptions budget;
  double per_second = 0;         // rate limit; 0: none
  double per_minute = 0;
  int concurrency = 4;           // HTTP requests in flight
  double connect_timeout_s = 10;
  double read_timeout_s = 120;
};

struct OracleStack {
  std::shared_ptr<Oracle> oracle;          // the outermost decorator: use this
  std::shared_ptr<Oracle> backend;         // the backend alone
  std::shared_ptr<CachedOracle> cache;     // null without a cache
  std::shared_ptr<BudgetOracle> budget;
  std::shared_ptr<RetryingOracle> retry;
};

// Wraps `backend` in the decorators `options` asks for (a budget and a retry
// layer always; a rate limit and a cache when set).
OracleStack wrap_oracle(std::shared_ptr<Oracle> backend, const OracleStackOptions& options = {});

}  // namespace scrim
