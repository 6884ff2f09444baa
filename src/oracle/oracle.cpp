#include "scrim/oracle/oracle.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "scrim/oracle/oracle_error.h"

namespace scrim {

bool OracleError::retryable() const {
  switch (kind_) {
    case Kind::kConnection:
    case Kind::kTimeout:
    case Kind::kMalformed:  // truncated bodies are transport faults more often than not
      return true;
    case Kind::kHttp:
      return status_ == 408 || status_ == 409 || status_ == 429 || status_ >= 500;
    default:
      return false;
  }
}

std::vector<OracleReply> query_batch(Oracle& oracle, const std::vector<OracleRequest>& requests, int concurrency) {
  std::vector<OracleReply> replies(requests.size());
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex mutex;
  auto worker = [&] {
    while (true) {
      size_t i = next.fetch_add(1);
      if (i >= requests.size()) return;
      try {
        replies[i] = oracle.query(requests[i]);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        next = requests.size();  // start nothing new
        return;
      }
    }
  };
  int n = std::clamp(concurrency, 1, static_cast<int>(std::max<size_t>(1, requests.size())));
  if (n == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < n; ++t) pool.emplace_back(worker);
    for (auto& th : pool) th.join();
  }
  if (failure) std::rethrow_exception(failure);
  return replies;
}

}  // namespace scrim
