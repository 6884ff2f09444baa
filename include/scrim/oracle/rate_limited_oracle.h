// Spaces query starts to at most `per_second` and `per_minute` (0: no limit).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>

#include "scrim/oracle/oracle.h"

namespace scrim {

class RateLimitedOracle : public Oracle {
 public:
  RateLimitedOracle(std::shared_ptr<Oracle> inner, double per_second, double per_minute);
  OracleReply query(const OracleRequest& request) override;
  std::string model_id() const override { return inner_->model_id(); }

 private:
  // Blocks until a query may start, and records that it did.
  void acquire();

  std::shared_ptr<Oracle> inner_;
  double per_second_, per_minute_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point next_start_{};
  std::deque<std::chrono::steady_clock::time_point> last_minute_;
};

}  // namespace scrim
