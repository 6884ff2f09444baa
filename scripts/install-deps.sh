#!/usr/bin/env bash
# Installs scrim's build and run-time dependencies from Debian 12's archive.
# Idempotent; needs root (or sudo). Every package here is used by the build or the tests.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libgloo-dev libopenblas0-pthread
  libopencv-dev opencv-data
  libdlib-dev
  libtesseract-dev tesseract-ocr tesseract-ocr-eng
  libcpp-httplib-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  nlohmann-json3-dev libsqlite3-dev
  libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
