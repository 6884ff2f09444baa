// The deadline of the MLLM call in progress on this thread. RetryingOracle
// sets it around the attempts it makes; the layers below it that wait (the
// rate limiter, the HTTP backend) read it, so that one call — every attempt
// and back-off included — ends by its deadline. A thread-local rather than a
// request field: the decorators below RetryingOracle run on the caller's
// thread, and the Oracle interface stays request in, reply out.
#pragma once

#include <chrono>

namespace scrim {

using CallClock = std::chrono::steady_clock;

inline thread_local CallClock::time_point t_call_deadline = CallClock::time_point::max();

// The current call's deadline; time_point::max() when there is none.
inline CallClock::time_point call_deadline() { return t_call_deadline; }

// Seconds left before the deadline (may be negative); a large number when there is none.
inline double call_seconds_left() {
  if (t_call_deadline == CallClock::time_point::max()) return 1e9;
  return std::chrono::duration<double>(t_call_deadline - CallClock::now()).count();
}

// Sets the deadline for its lifetime (an earlier enclosing one is kept), then restores it.
class CallDeadlineScope {
 public:
  explicit CallDeadlineScope(CallClock::time_point deadline) : saved_(t_call_deadline) {
    if (deadline < t_call_deadline) t_call_deadline = deadline;
  }
  ~CallDeadlineScope() { t_call_deadline = saved_; }
  CallDeadlineScope(const CallDeadlineScope&) = delete;
  CallDeadlineScope& operator=(const CallDeadlineScope&) = delete;

 private:
  CallClock::time_point saved_;
};

}  // namespace scrim
