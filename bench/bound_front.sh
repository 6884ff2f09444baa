#!/usr/bin/env bash
# The black-box front against its white-box bound: for each preference w the
# same game is trained twice, once with the zeroth-order estimate of the
# utility gradient and once with the true gradient read through the reference
# MLLM; both fronts and the two strongest baselines are evaluated in one
# `scrim eval` run (privacy figures move between runs with the thread count:
# README), and each front's hypervolume u * (1 - cMAP) against (0, 0) printed.
#
#   bench/bound_front.sh DEMO_DIR EVALUATOR_MODEL OUT [STEPS=150]
#
# DEMO_DIR is a `scrim demo` output (synth/ and reference.pt, the black box);
# EVALUATOR_MODEL another reference model, as for bench/tradeoff.sh.
# Environment: PREFERENCES (default "0.15 0.3 0.5"); TRAIN_ARGS (default
# "--adversary-steps 8 --adversary-arch resnet18": the game's attackers of the
# class the evaluation finds strongest) replaces the game's adversary options;
# ATTACKER_SEEDS (default 3) the evaluation's attacker seeds.
set -euo pipefail
demo=$1 evaluator=$2 out=$3 steps=${4:-150}
scrim=${SCRIM:-build/scrim}
preferences=${PREFERENCES:-0.15 0.3 0.5}
read -r -a train_args <<< "${TRAIN_ARGS:---adversary-steps 8 --adversary-arch resnet18}"
common=(--data "$demo/synth/actions.jsonl" --mllm "reference:$demo/reference.pt" --steps "$steps" --max-train 1000
        --pareto preference --lr 5e-4 "${train_args[@]}")
mkdir -p "$out"
protectors=(downsample:factor=4 "regions:faces,mode=blur")
for w in $preferences; do
  for gradient in blackbox whitebox; do
    run="$out/$gradient-w$w"
    [ -f "$run/anonymizer.pt" ] || "$scrim" -q train "${common[@]}" --preference "$w" --gradient "$gradient" --out "$run"
    protectors+=("anonymizer:$run/anonymizer.pt")
  done
done
[ -f "$out/eval/results.json" ] || "$scrim" eval --data "$demo/synth/actions.jsonl" --mllm "reference:$evaluator" \
  --out "$out/eval" --max-train 1000 --attacker-epochs 5 --attacker-seeds "${ATTACKER_SEEDS:-3}" --protector "${protectors[@]}"
# Each front's hypervolume: the union of the boxes [0, u] x [0, 1 - cMAP] of its points.
jq -r -L "$(dirname "$0")" 'include "hypervolume";
  [.protectors[] | select(.protector | test("blackbox-w"))] as $bb |
  [.protectors[] | select(.protector | test("whitebox-w"))] as $wb |
  (.protectors[] | "\(.protector)\t\(.utility)\t\(.cmap)\t\(.cmap_sd // "")"),
  "hypervolume black box \($bb | hv), white box \($wb | hv), ratio \(($bb | hv) / ($wb | hv))"' "$out/eval/results.json"
