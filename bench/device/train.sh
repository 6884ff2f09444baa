#!/usr/bin/env bash
# scrim built whole against the python3 PyTorch's CUDA LibTorch, its other dependencies from a prefix made by
# bench/device/deps_prefix.py (on a machine that cannot install them), then a whole `scrim train --device cuda` on
# small synthetic data and, with FRONT_STEPS set, bench/front.sh on the GPU.
#   bench/device/train.sh PREFIX.tar.xz OUTDIR
# Environment: FRONT_STEPS (bench/front.sh's game steps; unset: no front), BUDGETS (bench/front.sh's, default 0.014).
set -uo pipefail
prefix=${1:?usage: bench/device/train.sh PREFIX.tar.xz OUTDIR} out=${2:?usage: bench/device/train.sh PREFIX.tar.xz OUTDIR}
mkdir -p "$out"; out=$(cd "$out" && pwd)
t0=$(date +%s); say() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
mkdir -p /opt/deb && tar -xJf "$prefix" -C /opt/deb || exit 1
# spdlog 1.10 needs its own fmt 9, not the fmt 12 inside the LibTorch wheel: -I is searched before every -isystem.
mkdir -p /opt/deb/fmt9 && ln -sfn /opt/deb/usr/include/fmt /opt/deb/fmt9/fmt
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' | tee -a "$out/gpu.txt"
lib=/opt/deb/usr/lib/x86_64-linux-gnu
build=/tmp/scrim-build-cuda; rm -rf "$build"  # a stale CMakeCache keeps the implicit include paths of earlier flags
say configure
cmake -S "$(dirname "$0")/../.." -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCRIM_BUILD_TESTS=OFF -DSCRIM_BUILD_BENCHMARKS=OFF \
  -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)');/opt/deb/usr" \
  -DOPENSSL_INCLUDE_DIR=/opt/deb/usr/include -DOPENSSL_CRYPTO_LIBRARY=$lib/libcrypto.so.3 -DOPENSSL_SSL_LIBRARY=$lib/libssl.so.3 \
  -DPKG_CONFIG_EXECUTABLE=/opt/deb/usr/bin/pkg-config-bundle -DCMAKE_CXX_FLAGS=-I/opt/deb/fmt9 \
  -DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,$lib -DTORCH_CUDA_ARCH_LIST="$(python3 -c 'import torch;print("%d.%d" % torch.cuda.get_device_capability())')" \
  > "$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
say build
ninja -C "$build" -k 0 scrim > "$out/build.log" 2>&1 || { grep -E "error|FAILED" "$out/build.log" | head -40; exit 1; }
say built
export LD_LIBRARY_PATH=$lib SCRIM_MODELS_DIR=$(cd "$(dirname "$0")/../../models" && pwd) PATH=$PATH:/opt/deb/usr/bin
scrim=$build/scrim demo=/tmp/scrim-demo-cuda
rm -rf "$demo"; mkdir -p "$demo"
"$scrim" -q data synth --out "$demo/synth" --train 1000 --test 200 --seed 1 > /dev/null || exit 1
common=(--data "$demo/synth/actions.jsonl" "$demo/synth/vqa.jsonl" --film-blocks 0 --batch 32 --lr 0.002 --grounding 0 --epochs 4)
"$scrim" -q reference train "${common[@]}" --seed 1 --out "$demo/reference.pt" > /dev/null || exit 1
"$scrim" -q reference train "${common[@]}" --seed 2 --width 24 --out "$demo/evaluator.pt" > /dev/null || exit 1
say "synthetic data and the reference MLLMs"
# The front's recipe (bench/front.sh), few steps: every part of a training step on the GPU.
"$scrim" train --data "$demo/synth/actions.jsonl" --mllm "reference:$demo/reference.pt" --steps 5 --max-train 500 \
  --recipe head --privacy-pretrain 50 --adversary-warmup 100 --max-queries 20000 --device cuda --seed 1 \
  --out "$demo/train-cuda" || exit 1
cp "$demo/train-cuda/train-log.jsonl" "$out/train-cuda-log.jsonl"
say "scrim train --device cuda"
[ -n "${FRONT_STEPS:-}" ] || exit 0
BUDGETS=${BUDGETS:-0.014} DEVICE=cuda SCRIM=$scrim "$(dirname "$0")/../front.sh" "$demo" "$demo/evaluator.pt" "$demo/front" "$FRONT_STEPS" \
  | tee "$out/front.txt"
say "bench/front.sh"
