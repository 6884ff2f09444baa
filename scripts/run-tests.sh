#!/usr/bin/env bash
# README command (b): install the dependencies, build, and run the whole test suite.
# The build treats warnings in scrim's code as errors (SCRIM_WERROR): CI runs this script.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh -DSCRIM_WERROR=ON
export OPENBLAS_NUM_THREADS=1 OMP_THREAD_LIMIT=2
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 600
