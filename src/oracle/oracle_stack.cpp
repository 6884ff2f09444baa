#include "scrim/oracle/oracle_stack.h"

#include "scrim/oracle/rate_limited_oracle.h"

namespace scrim {

OracleStack wrap_oracle(std::shared_ptr<Oracle> backend, const OracleStackOptions& o) {
  OracleStack s;
  s.backend = std::move(backend);
  std::shared_ptr<Oracle> top = s.backend;
  if (o.per_second > 0 || o.per_minute > 0) top = std::make_shared<RateLimitedOracle>(top, o.per_second, o.per_minute);
  s.budget = std::make_shared<BudgetOracle>(top, o.budget);
  s.retry = std::make_shared<RetryingOracle>(s.budget, o.retry);
  top = s.retry;
  if (!o.cache.empty()) {
    s.cache = std::make_shared<CachedOracle>(top, o.cache);
    top = s.cache;
  }
  s.oracle = top;
  return s;
}

}  // namespace scrim
