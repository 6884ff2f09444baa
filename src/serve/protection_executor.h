// Where the proxy protects images: on a few long-lived threads of its own, each holding its own protector, rather
// than on whichever of the 32 or more HTTP workers took the request. A learned protector runs LibTorch, whose
// OpenMP pool belongs to the calling thread: called from many threads it woke (or first built) a pool per thread on
// each request, and their pools contended for the same cores; on its own threads the pool stays warm and the work
// queues instead (docs/performance.md). Protectors are not thread-safe: each thread uses only its own. The queue is
// first come, first served across every client (the proxy's per-client limits bound how much one client queues).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "scrim/core/error.h"
#include "scrim/privacy/protector.h"

namespace scrim::serve {

// Every protection thread stayed busy for as long as the caller would wait: nothing was protected.
class ProtectionBusy : public Error {
 public:
  using Error::Error;
};

class ProtectionExecutor {
 public:
  // `threads` protectors made by `make` on the calling thread (whatever it throws, e.g. for a bad spec, is thrown
  // here, before any thread starts), one per thread, each warmed up on a small grey picture there. 0 threads: as
  // many as fill the cores (protection_threads()).
  explicit ProtectionExecutor(const std::function<std::unique_ptr<Protector>()>& make, size_t threads = 0);
  ~ProtectionExecutor();
  ProtectionExecutor(const ProtectionExecutor&) = delete;
  ProtectionExecutor& operator=(const ProtectionExecutor&) = delete;

  // `image` protected on one of the threads; blocks until it is, and rethrows what the protector threw. Once stop()
  // has begun, throws scrim::Error at once (nothing is protected: the caller refuses the request). With a `max_wait`,
  // an image no thread has taken up by then leaves the queue and ProtectionBusy is thrown (one taken up is waited for).
  cv::Mat protect(const cv::Mat& image, std::chrono::milliseconds max_wait = std::chrono::milliseconds::zero());
  // Refuses new work, finishes what is queued, and joins the threads (the destructor's, callable before it).
  void stop();
  // The protectors' spec as they name it (defaults filled in).
  const std::string& spec() const { return spec_; }
  size_t threads() const { return threads_.size(); }

  // The cores over the threads LibTorch uses per call, at least 1: as many protections at once as fill the cores.
  static size_t protection_threads();

 private:
  void work(Protector& protector);

  struct Call {  // one protect() call: its picture (the caller's, alive while it waits) and its result
    const cv::Mat* image;
    std::promise<cv::Mat> done;
  };

  std::string spec_;
  std::vector<std::unique_ptr<Protector>> protectors_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<Call>> queue_;  // a Call is shared: the caller may wake while its worker still holds it
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once the members above exist
};

}  // namespace scrim::serve
