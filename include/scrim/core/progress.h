// A one-line progress bar on stderr, drawn only when stderr is a terminal and
// the caller did not ask for quiet. Thread-safe: workers may call advance().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace scrim {

class ProgressBar {
 public:
  // total: the number of units of work; label: a short word shown before the bar.
  ProgressBar(std::string label, int64_t total, bool quiet);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void advance(int64_t n = 1);
  // Changes the total once it is known (before the first advance).
  void set_total(int64_t total) { total_ = total; }
  // A short text shown after the ETA (e.g. "412 queries/s"); taken at the next draw.
  void set_note(std::string note);
  // Erases the bar; called by the destructor too.
  void finish();
  bool enabled() const { return enabled_; }

  // Whether progress output is wanted: stderr is a terminal and not quiet.
  static bool wanted(bool quiet);

 private:
  void draw(int64_t done);

  std::string label_;
  std::string note_;
  int64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::atomic<int64_t> done_{0};
  std::mutex draw_mutex_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace scrim
