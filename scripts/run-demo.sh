#!/usr/bin/env bash
# README command (a): install the dependencies, build, and run scrim's main job
# on its embedded default data (the offline demo).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
./build/scrim demo "$@"
