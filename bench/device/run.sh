#!/usr/bin/env bash
# Builds the LibTorch-only benchmarks against the python3 PyTorch's LibTorch
# and runs the anonymizer benchmark on the GPU and on the CPU, side by side.
#   bench/device/run.sh OUTDIR [BENCHMARK_PREFIX]
# BENCHMARK_PREFIX: a folder with include/benchmark/ and lib/libbenchmark.so*
# where Google Benchmark is not installed.
set -euo pipefail
out=${1:?usage: bench/device/run.sh OUTDIR [BENCHMARK_PREFIX]}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../.." && pwd)
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
extra=()
if [[ $# -ge 2 ]]; then
  bm=$(cd "$2" && pwd)
  extra=(-DBENCHMARK_INCLUDE_DIR="$bm/include" -DBENCHMARK_LIBRARY="$(ls "$bm"/lib/libbenchmark.so* | head -1)")
  export LD_LIBRARY_PATH="$bm/lib:${LD_LIBRARY_PATH:-}"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt" || true
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$out/gpu.txt"
cmake -S "$root/bench/device" -B /tmp/scrim-build-device -G Ninja -DCMAKE_PREFIX_PATH="$torch_prefix" "${extra[@]}" > "$out/cmake.log" 2>&1 \
  || { tail -30 "$out/cmake.log"; exit 1; }
ninja -C /tmp/scrim-build-device > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
bin=/tmp/scrim-build-device/scrim_bench_anonymizer
"$bin" --device cuda --benchmark_min_time=2 --benchmark_format=console | tee "$out/cuda.txt"
"$bin" --benchmark_min_time=2 --benchmark_format=console | tee "$out/cpu.txt"
