#!/usr/bin/env bash
# Starting the black-box game from a baseline's output (--init-target) beside
# the identity start, evaluated with the two baselines in one `scrim eval` run
# (privacy figures of separate runs differ by up to ~0.04 cMAP: README).
#
#   bench/warm_start.sh DEMO_DIR EVALUATOR_MODEL OUT [STEPS=150]
#
# DEMO_DIR is a `scrim demo` output (synth/ and reference.pt, the black box);
# EVALUATOR_MODEL another reference model, as for bench/tradeoff.sh.
set -euo pipefail
demo=$1 evaluator=$2 out=$3 steps=${4:-150}
scrim=${SCRIM:-build/scrim}
common=(--data "$demo/synth/actions.jsonl" --mllm "reference:$demo/reference.pt" --steps "$steps" --max-train 1000
        --pareto preference --lr 5e-4 --adversary-steps 8)
mkdir -p "$out"
run() {
  local name=$1
  shift
  [ -f "$out/$name/anonymizer.pt" ] || "$scrim" -q train "${common[@]}" "$@" --out "$out/$name"
}
run id30 --preference 0.3
run ds30 --preference 0.3 --init-target downsample:factor=4 --init-steps 400
run rf15 --preference 0.15 --init-target "regions:faces,mode=blur" --init-steps 400
"$scrim" eval --data "$demo/synth/actions.jsonl" --mllm "reference:$evaluator" --out "$out/eval" \
  --max-train 1000 --attacker-epochs 5 \
  --protector downsample:factor=4 "regions:faces,mode=blur" \
              "anonymizer:$out/id30/anonymizer.pt" "anonymizer:$out/ds30/anonymizer.pt" "anonymizer:$out/rf15/anonymizer.pt"
