#!/usr/bin/env bash
# The learned anonymizer's front against the baselines' (issue: "the learned
# anonymizer beats every baseline"): for each preference w and each training
# seed the game is trained twice, once with the zeroth-order estimate of the
# utility gradient (the black box) and once with the true gradient read through
# the reference MLLM (its white-box bound); every anonymizer and the baselines
# are evaluated in ONE `scrim eval` run (privacy figures move between runs with
# the thread count: README) with a held-out evaluator and several attacker
# seeds. Prints the table (utility, cMAP ± sd, leakage), the floor, each front's
# hypervolume u * (1 - cMAP) against (0, 0) and the black box's ratio to its bound.
#
#   bench/front.sh DEMO_DIR EVALUATOR_MODEL OUT [STEPS=145]
#
# 145 steps of the default batch (8 samples x (2 x 8 probes + 1) = 136
# queries per step) spend 19,720 queries: inside the issue's 20,000 per
# anonymizer, which MAX_QUERIES also enforces.
# DEMO_DIR is a `scrim demo` output (synth/ and reference.pt, the black box);
# EVALUATOR_MODEL another reference model that training never queried, e.g.
#   build/scrim reference train --data DEMO_DIR/synth/actions.jsonl --out evaluator.pt \
#     --seed 2 --width 24 --epochs 15 --film-blocks 0 --lr 0.002 --batch 32
# Environment: PREFERENCES (default "0.15 0.3 0.5"); SEEDS (training seeds,
# default "1 2"); TRAIN_ARGS (default "--adversary-steps 8 --adversary-arch
# resnet18 --fidelity 1": the game's attackers of the class the evaluation finds
# strongest, and the fidelity prior); ATTACKER_SEEDS (default 3); DEVICE (cpu or
# cuda, for training); MAX_QUERIES (default 20000 per black-box anonymizer);
# SCRIM (default build/scrim).
# Finished runs are kept: re-running skips every anonymizer already trained
# and the evaluation when OUT/eval/results.json exists.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: bench/front.sh DEMO_DIR EVALUATOR_MODEL OUT [STEPS=145]" >&2; exit 2; }
demo=$1 evaluator=$2 out=$3 steps=${4:-145}
scrim=${SCRIM:-build/scrim}
preferences=${PREFERENCES:-0.15 0.3 0.5}
seeds=${SEEDS:-1 2}
read -r -a train_args <<< "${TRAIN_ARGS:---adversary-steps 8 --adversary-arch resnet18 --fidelity 1}"
for f in "$demo/synth/actions.jsonl" "$demo/reference.pt" "$evaluator"; do
  [ -f "$f" ] || { echo "bench/front.sh: $f not found" >&2; exit 1; }
done
command -v jq > /dev/null || { echo "bench/front.sh: needs jq" >&2; exit 1; }
common=(--data "$demo/synth/actions.jsonl" --mllm "reference:$demo/reference.pt" --steps "$steps" --max-train 1000
        --pareto preference --lr 5e-4 --device "${DEVICE:-cpu}" "${train_args[@]}")
mkdir -p "$out"
protectors=(raw blur:sigma=2 pixelate:block=4 downsample:factor=4 bdq "regions:faces" "regions:faces,mode=solid")
for w in $preferences; do
  for seed in $seeds; do
    for gradient in blackbox whitebox; do
      run="$out/$gradient-w$w-s$seed"
      budget=()
      [ "$gradient" = blackbox ] && budget=(--max-queries "${MAX_QUERIES:-20000}")
      [ -f "$run/anonymizer.pt" ] ||
        "$scrim" -q train "${common[@]}" "${budget[@]}" --preference "$w" --seed "$seed" --gradient "$gradient" --out "$run"
      protectors+=("anonymizer:$run/anonymizer.pt")
    done
  done
done
[ -f "$out/eval/results.json" ] || "$scrim" eval --data "$demo/synth/actions.jsonl" --mllm "reference:$evaluator" \
  --out "$out/eval" --max-train 1000 --attacker-epochs 5 --attacker-seeds "${ATTACKER_SEEDS:-3}" --protector "${protectors[@]}"
# Each front's hypervolume: the union of the boxes [0, u] x [0, 1 - cMAP] of its points.
jq -r -L "$(dirname "$0")" 'include "hypervolume";
  def f3: . * 1000 | round / 1000;
  [.protectors[] | select(.protector | test("/blackbox-w"))] as $bb |
  [.protectors[] | select(.protector | test("/whitebox-w"))] as $wb |
  [.protectors[] | select(.protector | startswith("anonymizer:") | not)] as $base |
  "protector\tutility\tcMAP\tsd\tleakage",
  (.protectors[] | "\(.protector)\t\(.utility | f3)\t\(.cmap | f3)\t\(.cmap_sd // 0 | f3)\t\(.leakage // "-" | if type == "number" then f3 else . end)"),
  "floor (an attacker that reads nothing): cMAP \(.cmap_floor | f3)",
  "hypervolume black box \($bb | hv | f3), white box \($wb | hv | f3), ratio \(if ($wb | hv) > 0 then (($bb | hv) / ($wb | hv) | f3) else "-" end), baselines \($base | hv | f3)"' \
  "$out/eval/results.json"
