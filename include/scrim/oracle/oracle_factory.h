// Builds an oracle from a spec string and wraps it in the standard decorators:
//   Cache( Retry( Budget( RateLimit( backend ))))
// so cached replies cost nothing, every attempt counts against the budget, and
// a spent budget is never retried.
//
// Specs:  reference:MODEL_FILE              the in-process reference MLLM
//         openai:BASE_URL#MODEL             any OpenAI-compatible endpoint; the key comes
//                                           from SCRIM_API_KEY, else OPENAI_API_KEY
#pragma once

#include <filesystem>
#include <memory>
#include <string>

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

// Throws scrim::UsageError for a malformed spec, scrim::Error when the backend cannot be created.
OracleStack make_oracle(const std::string& spec, const OracleStackOptions& options = {});

}  // namespace scrim
