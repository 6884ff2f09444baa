#include "serve/protection_executor.h"

#include <algorithm>

#include "scrim/core/error.h"
#include "scrim/core/runtime.h"

namespace scrim::serve {

size_t ProtectionExecutor::protection_threads() {
  if (torch_threads() == 0) configure_threads();  // LibTorch's threads as every scrim command sets them
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t per_call = static_cast<size_t>(std::max(1, torch_threads()));
  return std::max<size_t>(1, cores / per_call);
}

ProtectionExecutor::ProtectionExecutor(const std::function<std::unique_ptr<Protector>()>& make, size_t threads) {
  const size_t n = threads > 0 ? threads : protection_threads();
  for (size_t i = 0; i < n; ++i) protectors_.push_back(make());
  spec_ = protectors_.front()->spec();
  try {
    for (auto& p : protectors_) threads_.emplace_back([this, q = p.get()] { work(*q); });
  } catch (...) {  // a thread that could not start: the started ones are stopped before the error leaves
    stop();
    throw;
  }
}

ProtectionExecutor::~ProtectionExecutor() { stop(); }

void ProtectionExecutor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void ProtectionExecutor::work(Protector& protector) {
  // The first call on a thread builds what the protector's libraries keep per thread (LibTorch's OpenMP pool):
  // done here, the first request does not wait for it. Its output and any error are of no use.
  try {
    protector.protect(cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(128)));
  } catch (...) {
  }
  for (;;) {
    std::shared_ptr<Call> call;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      call = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      call->done.set_value(protector.protect(*call->image));
    } catch (...) {
      call->done.set_exception(std::current_exception());
    }
  }
}

cv::Mat ProtectionExecutor::protect(const cv::Mat& image, std::chrono::milliseconds max_wait) {
  auto call = std::make_shared<Call>();
  call->image = &image;
  auto result = call->done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error("the proxy is shutting down: the image was not protected");
    queue_.push_back(call);
  }
  ready_.notify_one();
  if (max_wait > std::chrono::milliseconds::zero() && result.wait_for(max_wait) == std::future_status::timeout) {
    std::lock_guard lock(mutex_);
    auto queued = std::find(queue_.begin(), queue_.end(), call);
    if (queued != queue_.end()) {  // no thread took it up: it leaves the queue unprotected, and the caller refuses
      queue_.erase(queued);
      throw ProtectionBusy("every protection thread was busy for " + std::to_string(max_wait.count()) + " ms");
    }
  }
  return result.get();  // taken up: it finishes
}

}  // namespace scrim::serve
