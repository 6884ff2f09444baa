#include "signal_wait.h"

#include <csignal>
#include <cstdio>

namespace scrim::cli {

void stop_on_signal(std::function<void()> on_signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, on_signal = std::move(on_signal)] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "scrim: signal %d, finishing requests in flight\n", sig);
    on_signal();
  }).detach();
}

}  // namespace scrim::cli
