#!/usr/bin/env bash
# Data-parallel `scrim train`: wall time of one process and of two on this
# machine, measured back to back in one run, in two settings: the in-process
# reference MLLM as fast as the cores allow (compute bound), and the same MLLM
# behind a per-process rate limit (--rps), as a rate-limited endpoint would be
# (each rank with its own connections and limit). Prints the times and the
# ratios two / one (below 1: two processes are faster).
#
#   bench/train_scaling.sh OUT [STEPS=6] [RPS=40]
#
# A tiny synthetic set and reference model are made in OUT the first time.
set -euo pipefail
out=$1 steps=${2:-6} rps=${3:-40}
scrim=${SCRIM:-build/scrim}
mkdir -p "$out"
[ -f "$out/synth/actions.jsonl" ] || "$scrim" -q data synth --out "$out/synth" --train 48 --test 8 --seed 4
[ -f "$out/ref.pt" ] || "$scrim" -q reference train --data "$out/synth/actions.jsonl" --out "$out/ref.pt" --epochs 1 --width 8 --batch 8
common=(--threads 1 -q train --data "$out/synth/actions.jsonl" --mllm "reference:$out/ref.pt" --anonymizer blend
        --batch 8 --probes 4 --steps "$steps" --adversary-warmup 2 --checkpoint-every 0)

now() { date +%s.%N; }
# one NAME [ARGS...]: one process; prints its wall seconds
one() {
  local name=$1; shift
  rm -rf "$out/$name"
  local t0; t0=$(now)
  "$scrim" "${common[@]}" "$@" --out "$out/$name" >/dev/null
  echo "$(now) - $t0" | bc
}
# two NAME [ARGS...]: two processes over loopback; prints their wall seconds
two() {
  local name=$1; shift
  rm -rf "$out/$name" "$out/$name-rank1"
  local port=$((20000 + RANDOM % 20000)) t0; t0=$(now)
  "$scrim" "${common[@]}" "$@" --out "$out/$name" --world-size 2 --rank 0 --master 127.0.0.1:$port >/dev/null &
  "$scrim" "${common[@]}" "$@" --out "$out/$name-rank1" --world-size 2 --rank 1 --master 127.0.0.1:$port >/dev/null
  wait
  echo "$(now) - $t0" | bc
}

q=$(( steps * 8 * (1 + 2 * 4) ))
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $steps steps, $q queries each run"
c1=$(one c1); c2=$(two c2)
r1=$(one r1 --rps "$rps"); r2=$(two r2 --rps "$rps")
printf '%-34s %8s %8s %7s\n' setting "1 proc" "2 procs" "2/1"
printf '%-34s %7.1fs %7.1fs %7.2f\n' "in-process reference (compute)" "$c1" "$c2" "$(echo "$c2 / $c1" | bc -l)"
printf '%-34s %7.1fs %7.1fs %7.2f\n' "--rps $rps per process" "$r1" "$r2" "$(echo "$r2 / $r1" | bc -l)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
