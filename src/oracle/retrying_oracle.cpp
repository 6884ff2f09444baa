#include "scrim/oracle/retrying_oracle.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>

#include "scrim/core/rng.h"
#include "scrim/oracle/oracle_error.h"
#include "oracle/call_deadline.h"

namespace scrim {

RetryingOracle::RetryingOracle(std::shared_ptr<Oracle> inner, RetryOptions options)
    : inner_(std::move(inner)), options_(std::move(options)) {
  if (options_.seed == 0) options_.seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  if (!options_.sleep) options_.sleep = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
}

OracleReply RetryingOracle::query(const OracleRequest& request) {
  auto deadline = CallClock::time_point::max();
  if (options_.deadline_s > 0) {
    // Capped so that the time point cannot overflow; a week is no deadline in practice.
    double seconds = std::min(options_.deadline_s, 7 * 86400.0);
    deadline = CallClock::now() + std::chrono::duration_cast<CallClock::duration>(std::chrono::duration<double>(seconds));
  }
  CallDeadlineScope scope(deadline);
  for (int attempt = 0;; ++attempt) {
    try {
      return inner_->query(request);
    } catch (const OracleError& e) {
      if (!e.retryable() || attempt >= options_.max_retries) throw;
      double delay;
      if (e.retry_after_s() >= 0) {
        delay = std::min(e.retry_after_s(), 120.0);
      } else {
        // Full jitter (Brooker, "Exponential Backoff And Jitter", AWS 2015).
        double cap = std::min(options_.max_delay_s, options_.base_delay_s * std::pow(2.0, attempt));
        Rng rng(derive_seed(options_.seed, 0, draws_++));
        delay = rng.uniform(0.5 * cap, cap);
      }
      if (delay >= call_seconds_left()) {
        char why[96];
        std::snprintf(why, sizeof why, " (gave up after %d attempt(s): the call's deadline of %g s is reached)",
                      attempt + 1, options_.deadline_s);
        throw OracleError(OracleError::Kind::kTimeout, e.what() + std::string(why), e.status());
      }
      ++retries_;
      spdlog::warn("{} (retry {}/{} in {:.1f} s)", e.what(), attempt + 1, options_.max_retries, delay);
      options_.sleep(delay);
    }
  }
}

}  // namespace scrim
