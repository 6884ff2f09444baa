#include "serve/protection_executor.h"

#include <algorithm>
#include <future>

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
    std::function<void(Protector&)> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, nothing left
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task(protector);
  }
}

cv::Mat ProtectionExecutor::protect(const cv::Mat& image) {
  // The task owns the promise: the caller may wake and return while the worker is still inside set_value.
  auto done = std::make_shared<std::promise<cv::Mat>>();
  auto result = done->get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error("the proxy is shutting down: the image was not protected");
    tasks_.emplace_back([&image, done](Protector& p) {
      try {
        done->set_value(p.protect(image));
      } catch (...) {
        done->set_exception(std::current_exception());
      }
    });
  }
  ready_.notify_one();
  return result.get();
}

}  // namespace scrim::serve
