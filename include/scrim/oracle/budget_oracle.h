// A query budget: maximum queries, tokens and estimated cost. A query that
// would exceed it is refused with OracleError(kBudget) before it is sent;
// everything answered before stays valid (and cached, when a cache is outside).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "scrim/oracle/oracle.h"

namespace scrim {

struct BudgetOptions {
  int64_t max_queries = 0;             // 0: unlimited
  int64_t max_tokens = 0;              // prompt + completion tokens; 0: unlimited
  double max_cost = 0.0;               // in the currency of the prices below; 0: unlimited
  double price_per_1k_prompt = 0.0;    // cost of 1,000 prompt tokens
  double price_per_1k_completion = 0.0;
  // Where the query count lives when several processes share one budget (a data-parallel
  // `scrim train`): called with +1 before each query, it returns the run-wide count
  // including this query (ProcessGroup::counter_add on the store); a count above
  // max_queries refuses the query. Empty: this decorator counts alone. Tokens and cost
  // stay per process.
  std::function<int64_t(int64_t)> shared_queries;
};

struct BudgetUsage {
  int64_t queries = 0;
  int64_t tokens = 0;
  double cost = 0.0;
};

class BudgetOracle : public Oracle {
 public:
  BudgetOracle(std::shared_ptr<Oracle> inner, BudgetOptions options);
  OracleReply query(const OracleRequest& request) override;
  std::string model_id() const override { return inner_->model_id(); }
  BudgetUsage usage() const;

 private:
  std::shared_ptr<Oracle> inner_;
  BudgetOptions options_;
  mutable std::mutex mutex_;
  BudgetUsage used_;
  int64_t in_flight_ = 0;
};

}  // namespace scrim
