#include "scrim/core/runtime.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include <ATen/Parallel.h>

namespace scrim {
namespace {
int g_torch_threads = 0;
}

unsigned omp_thread_limit_for(unsigned cores) { return std::max(2u, cores); }

std::vector<std::pair<std::string, std::string>> thread_environment_defaults(unsigned cores) {
  return {
      // One BLAS thread per caller: LibTorch parallelises above BLAS, and nested
      // pools on 2 cores were measured 2.3x slower.
      {"OPENBLAS_NUM_THREADS", "1"},
      // Tesseract ran 3x slower on 2 cores without an OpenMP limit; the limit at
      // the core count keeps that. It binds LibTorch's OpenMP pool too: a fixed
      // limit of 2 held it to two threads on a 16-core machine (README, "Threads
      // on larger machines").
      {"OMP_THREAD_LIMIT", std::to_string(omp_thread_limit_for(cores))},
      // Idle OpenMP threads sleep instead of spinning: libgomp's default spin
      // burns the cores another job needs, and beside one a two-thread LibTorch
      // run slowed several-fold (DEVELOPERS.md, "Threads").
      {"OMP_WAIT_POLICY", "PASSIVE"},
  };
}

void reexec_with_thread_environment(char** argv) {
  if (std::getenv("SCRIM_NO_REEXEC") != nullptr) return;
  bool changed = false;
  for (const auto& [name, value] : thread_environment_defaults(std::thread::hardware_concurrency())) {
    if (std::getenv(name.c_str()) != nullptr) continue;  // a user's setting is kept
    setenv(name.c_str(), value.c_str(), 1);
    changed = true;
  }
  if (!changed) return;
  setenv("SCRIM_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the settings applied in-process.
}

void configure_threads(int torch_threads) {
  long n = torch_threads;
  if (n <= 0) {
    if (const char* env = std::getenv("SCRIM_THREADS")) n = std::strtol(env, nullptr, 10);
  }
  if (n <= 0) n = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
  // A typo such as SCRIM_THREADS=100000 would start that many threads.
  n = std::min(n, static_cast<long>(kMaxThreads));
  if (n != g_torch_threads) {
    at::set_num_threads(static_cast<int>(n));
    g_torch_threads = static_cast<int>(n);
  }
  using SetThreads = void (*)(int);
  if (auto* set_blas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_blas(1);
}

int torch_threads() { return g_torch_threads; }

}  // namespace scrim
