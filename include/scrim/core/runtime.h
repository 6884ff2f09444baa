// Process-wide runtime settings: thread counts for LibTorch, OpenBLAS and
// Tesseract's OpenMP. Set once, at the start of main().
#pragma once

namespace scrim {

// OpenBLAS and libgomp read their thread settings when they are loaded, before
// main() runs. If OPENBLAS_NUM_THREADS or OMP_THREAD_LIMIT is unset, this sets
// them (1, and the number of cores but at least 2) and re-executes the program
// once so they take effect; values a user set are kept. Returns normally when
// no re-exec was needed or possible.
void reexec_with_thread_environment(char** argv);

// The OMP_THREAD_LIMIT set where the user set none: the number of cores, at
// least 2 (0 cores: unknown).
unsigned omp_thread_limit_for(unsigned cores);

// Sets LibTorch's intra-op threads (0 = the number of cores, capped at 8) and
// OpenBLAS's threads to 1. Idempotent.
void configure_threads(int torch_threads = 0);

// The number of LibTorch intra-op threads configure_threads() chose.
int torch_threads();

}  // namespace scrim
