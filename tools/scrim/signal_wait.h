// Graceful shutdown for long-running commands: SIGINT/SIGTERM call a stop
// function from a watcher thread (not from the signal handler itself).
#pragma once

#include <functional>
#include <thread>

namespace scrim::cli {

// Blocks SIGINT and SIGTERM in the calling thread (call before starting other
// threads, so they inherit the mask) and returns a thread that waits for one of
// them and then calls `on_signal`. The thread is detached.
void stop_on_signal(std::function<void()> on_signal);

}  // namespace scrim::cli
