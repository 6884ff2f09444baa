#include "scrim/oracle/budget_oracle.h"

#include "scrim/oracle/oracle_error.h"

namespace scrim {

BudgetOracle::BudgetOracle(std::shared_ptr<Oracle> inner, BudgetOptions options)
    : inner_(std::move(inner)), options_(options) {}

OracleReply BudgetOracle::query(const OracleRequest& request) {
  // A shared budget: the query is drawn from the run-wide count before it is sent (a refused
  // draw is not given back, so the count never lets more than max_queries through).
  if (options_.max_queries > 0 && options_.shared_queries && options_.shared_queries(1) > options_.max_queries)
    throw OracleError(OracleError::Kind::kBudget, "query budget spent: " + std::to_string(options_.max_queries) + " queries (shared by every process of the run)");
  {
    std::lock_guard lock(mutex_);
    // Queries in flight count against the limit, so concurrent callers cannot overshoot it.
    if (options_.max_queries > 0 && !options_.shared_queries && used_.queries + in_flight_ >= options_.max_queries)
      throw OracleError(OracleError::Kind::kBudget, "query budget spent: " + std::to_string(options_.max_queries) + " queries");
    if (options_.max_tokens > 0 && used_.tokens >= options_.max_tokens)
      throw OracleError(OracleError::Kind::kBudget, "token budget spent: " + std::to_string(used_.tokens) + " tokens");
    if (options_.max_cost > 0 && used_.cost >= options_.max_cost)
      throw OracleError(OracleError::Kind::kBudget, "cost budget spent: " + std::to_string(used_.cost));
    ++in_flight_;
  }
  OracleReply reply;
  try {
    reply = inner_->query(request);
  } catch (...) {
    std::lock_guard lock(mutex_);
    --in_flight_;
    ++used_.queries;  // a failed query may still have been billed
    throw;
  }
  std::lock_guard lock(mutex_);
  --in_flight_;
  ++used_.queries;
  used_.tokens += reply.usage.prompt_tokens + reply.usage.completion_tokens;
  used_.cost += reply.usage.prompt_tokens / 1000.0 * options_.price_per_1k_prompt +
                reply.usage.completion_tokens / 1000.0 * options_.price_per_1k_completion;
  return reply;
}

BudgetUsage BudgetOracle::usage() const {
  std::lock_guard lock(mutex_);
  return used_;
}

}  // namespace scrim
