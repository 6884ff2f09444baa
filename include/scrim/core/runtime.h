// Process-wide runtime settings: thread counts for LibTorch, OpenBLAS and
// Tesseract's OpenMP. Set once, at the start of main().
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace scrim {

// OpenBLAS and libgomp read their thread settings when they are loaded, before
// main() runs. If any variable of thread_environment_defaults() is unset, this
// sets it and re-executes the program once so they take effect; values a user
// set are kept. Returns normally when no re-exec was needed or possible.
void reexec_with_thread_environment(char** argv);

// The environment scrim runs with where the user set none: OPENBLAS_NUM_THREADS=1,
// OMP_THREAD_LIMIT = omp_thread_limit_for(cores), OMP_WAIT_POLICY=PASSIVE.
std::vector<std::pair<std::string, std::string>> thread_environment_defaults(unsigned cores);

// The OMP_THREAD_LIMIT set where the user set none: the number of cores, at
// least 2 (0 cores: unknown).
unsigned omp_thread_limit_for(unsigned cores);

// The most LibTorch threads scrim starts (--threads and SCRIM_THREADS are capped to it).
inline constexpr int kMaxThreads = 256;

// Sets LibTorch's intra-op threads (0 = the number of cores, capped at 8; at
// most kMaxThreads) and OpenBLAS's threads to 1. Idempotent.
void configure_threads(int torch_threads = 0);

// The number of LibTorch intra-op threads configure_threads() chose.
int torch_threads();

}  // namespace scrim
