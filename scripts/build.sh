#!/usr/bin/env bash
# Configures (Release, Ninja, ccache when present) and builds everything into build/;
# extra arguments go to the configure step, e.g. scripts/build.sh -DSCRIM_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SCRIM_BUILD_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$jobs"
