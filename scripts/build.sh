#!/usr/bin/env bash
# Configures (Release, Ninja, ccache when present) and builds everything into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SCRIM_BUILD_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
