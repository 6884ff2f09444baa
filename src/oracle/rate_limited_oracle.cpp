#include "scrim/oracle/rate_limited_oracle.h"

#include <thread>

#include "scrim/oracle/oracle_error.h"
#include "oracle/call_deadline.h"

namespace scrim {

RateLimitedOracle::RateLimitedOracle(std::shared_ptr<Oracle> inner, double per_second, double per_minute)
    : inner_(std::move(inner)), per_second_(per_second), per_minute_(per_minute) {}

void RateLimitedOracle::acquire() {
  using clock = std::chrono::steady_clock;
  std::unique_lock lock(mutex_);
  while (true) {
    auto now = clock::now();
    while (!last_minute_.empty() && now - last_minute_.front() >= std::chrono::minutes(1)) last_minute_.pop_front();
    auto wait_until = now;
    if (per_second_ > 0 && next_start_ > wait_until) wait_until = next_start_;
    if (per_minute_ > 0 && last_minute_.size() >= static_cast<size_t>(per_minute_))
      wait_until = std::max(wait_until, last_minute_.front() + std::chrono::minutes(1));
    if (wait_until <= now) break;
    if (wait_until > call_deadline()) {
      // No slot before the deadline: the call times out then, without a request sent.
      lock.unlock();
      std::this_thread::sleep_until(call_deadline());
      throw OracleError(OracleError::Kind::kTimeout, "rate limit: no request slot before the call's deadline");
    }
    lock.unlock();
    std::this_thread::sleep_until(wait_until);
    lock.lock();
  }
  auto now = clock::now();
  if (per_second_ > 0)
    next_start_ = now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / per_second_));
  if (per_minute_ > 0) last_minute_.push_back(now);
}

OracleReply RateLimitedOracle::query(const OracleRequest& request) {
  acquire();
  return inner_->query(request);
}

}  // namespace scrim
