// The proxy's protection threads (serve/protection_executor.h): callers on many threads have their images
// protected on the executor's own few threads, each with its own protector, every result the caller's own; a
// protector's error reaches its caller alone; a protector that cannot be made fails the construction.
#include "serve/protection_executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "scrim/core/error.h"
#include "scrim/core/runtime.h"

namespace scrim::serve {
namespace {

// Adds one to every byte, refuses a picture whose first byte is 13, and records the threads it ran on.
class ThreadRecordingProtector : public Protector {
 public:
  ThreadRecordingProtector(std::mutex& m, std::set<std::thread::id>& threads) : m_(m), threads_(threads) {}
  cv::Mat protect(const cv::Mat& bgr) const override {
    {
      std::lock_guard lock(m_);
      threads_.insert(std::this_thread::get_id());
    }
    if (bgr.at<cv::Vec3b>(0, 0)[0] == 13) throw std::runtime_error("thirteen");
    return bgr + cv::Scalar::all(1);
  }
  std::string spec() const override { return "recording"; }

 private:
  std::mutex& m_;
  std::set<std::thread::id>& threads_;
};

TEST(ProtectionExecutor, ProtectsEveryCallersImageOnItsOwnFewThreads) {
  std::mutex m;
  std::set<std::thread::id> ran_on;
  int made = 0;
  ProtectionExecutor executor(
      [&] {
        ++made;
        return std::make_unique<ThreadRecordingProtector>(m, ran_on);
      },
      2);
  EXPECT_EQ(made, 2);
  EXPECT_EQ(executor.threads(), 2u);
  EXPECT_EQ(executor.spec(), "recording");
  std::set<std::thread::id> callers;
  std::atomic<int> wrong{0}, refused{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      {
        std::lock_guard lock(m);
        callers.insert(std::this_thread::get_id());
      }
      for (int i = 0; i < 25; ++i) {
        const int value = (c * 25 + i) % 200;
        cv::Mat image(4, 5, CV_8UC3, cv::Scalar::all(value));
        try {
          cv::Mat out = executor.protect(image);
          if (cv::norm(out, image + cv::Scalar::all(1), cv::NORM_INF) != 0) ++wrong;
        } catch (const std::runtime_error& e) {
          if (value == 13 && std::string(e.what()) == "thirteen") ++refused;
          else ++wrong;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(refused.load(), 1);  // value 13 comes up once, and only its caller hears of it
  EXPECT_LE(ran_on.size(), 2u);
  for (const auto& id : ran_on) EXPECT_EQ(callers.count(id), 0u) << "a protection ran on its caller's thread";
}

// Once stopping, a call is refused at once with an error the proxy turns into a refusal: it neither waits for a thread
// that has left nor returns anything.
TEST(ProtectionExecutor, OnceStoppedItRefusesAtOnce) {
  std::mutex m;
  std::set<std::thread::id> ran_on;
  ProtectionExecutor executor([&] { return std::make_unique<ThreadRecordingProtector>(m, ran_on); }, 1);
  cv::Mat image(4, 5, CV_8UC3, cv::Scalar::all(7));
  EXPECT_EQ(cv::norm(executor.protect(image), image + cv::Scalar::all(1), cv::NORM_INF), 0);
  executor.stop();
  EXPECT_THROW(executor.protect(image), Error);
}

// Holds a picture whose first byte is 200 until released; protects the rest at once, counting them.
class GateProtector : public Protector {
 public:
  GateProtector(std::shared_future<void> open, std::promise<void>& entered, std::atomic<int>& protected_count)
      : open_(std::move(open)), entered_(entered), protected_count_(protected_count) {}
  cv::Mat protect(const cv::Mat& bgr) const override {
    if (bgr.at<cv::Vec3b>(0, 0)[0] == 200) {
      entered_.set_value();
      open_.wait();
    } else if (bgr.at<cv::Vec3b>(0, 0)[0] == 50) {
      ++protected_count_;
    }
    return bgr.clone();
  }
  std::string spec() const override { return "gate"; }

 private:
  std::shared_future<void> open_;
  std::promise<void>& entered_;
  std::atomic<int>& protected_count_;
};

// With every thread busy longer than the caller waits, the call leaves the queue unprotected (ProtectionBusy, which
// the proxy answers with a 503); the thread, once free, serves the next call at once.
TEST(ProtectionExecutor, AnImageNoThreadTakesUpInTimeLeavesTheQueueUnprotected) {
  std::promise<void> open, entered;
  std::atomic<int> protected_count{0};
  ProtectionExecutor executor([&] { return std::make_unique<GateProtector>(open.get_future().share(), entered, protected_count); }, 1);
  cv::Mat held(4, 4, CV_8UC3, cv::Scalar::all(200)), waiting(4, 4, CV_8UC3, cv::Scalar::all(50));
  std::thread first([&] { executor.protect(held); });
  entered.get_future().wait();  // the only thread is busy, for 2 s
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    open.set_value();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(executor.protect(waiting, std::chrono::milliseconds(100)), ProtectionBusy);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  opener.join();
  first.join();
  EXPECT_EQ(protected_count.load(), 0);  // the refused picture was never protected, not even later
  EXPECT_EQ(cv::norm(executor.protect(waiting, std::chrono::milliseconds(100)), waiting, cv::NORM_INF), 0);
  EXPECT_EQ(protected_count.load(), 1);
}

TEST(ProtectionExecutor, AProtectorThatCannotBeMadeFailsTheConstruction) {
  EXPECT_THROW(ProtectionExecutor([]() -> std::unique_ptr<Protector> { throw std::invalid_argument("bad spec"); }, 1),
               std::invalid_argument);
}

// As many protections at once as fill the cores, each using LibTorch's threads.
TEST(ProtectionExecutor, RunsAsManyProtectionsAtOnceAsFillTheCores) {
  const int before = torch_threads();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  configure_threads(1);
  EXPECT_EQ(ProtectionExecutor::protection_threads(), cores);
  configure_threads(static_cast<int>(cores));
  EXPECT_EQ(ProtectionExecutor::protection_threads(), std::max(1u, cores / static_cast<unsigned>(torch_threads())));
  configure_threads(before);
}

}  // namespace
}  // namespace scrim::serve
