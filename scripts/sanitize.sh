#!/usr/bin/env bash
# Builds the CLI and the test suite with AddressSanitizer and UndefinedBehaviorSanitizer
# into build-asan/ (RelWithDebInfo, no benchmarks) and runs the tests under them; an
# argument is a GoogleTest filter, e.g.
#   scripts/sanitize.sh                                 # the whole suite
#   scripts/sanitize.sh 'RequestGuard*:ImageIo*'        # the suites that parse hostile input
# The first error stops the run (abort_on_error, halt_on_error). Reports that come from
# inside third-party libraries (LibTorch, OpenCV, ...) are suppressed only by
# scripts/asan.supp and scripts/lsan.supp, each entry with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=build-asan
jobs=${SCRIM_BUILD_JOBS:-$(nproc)}
flags="-fsanitize=address,undefined -fno-omit-frame-pointer"
# CMake passes CMAKE_CXX_FLAGS to the link step too, which links the sanitizers' runtimes.
cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCRIM_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$out" -j "$jobs" --target scrim scrim_tests
export OPENBLAS_NUM_THREADS=1 OMP_THREAD_LIMIT=2
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:suppressions=$root/scripts/asan.supp${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
exec "$out/tests/scrim_tests" --gtest_filter="${1:-*}"
