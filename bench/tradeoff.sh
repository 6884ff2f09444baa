#!/usr/bin/env bash
# The trade-off on the synthetic benchmark: the black-box anonymizer, its
# white-box bound and every baseline protector, evaluated with a reference
# MLLM that training never queried (utility) and retrained attackers (privacy).
#
#   bench/tradeoff.sh DEMO_DIR EVALUATOR_MODEL OUT [STEPS=100]
#
# DEMO_DIR is a `scrim demo` output (synth/ and reference.pt, the black box
# the anonymizer is trained against); EVALUATOR_MODEL another reference model
# (`scrim reference train --seed 2 --width 24 --film-blocks 0 --lr 0.002 --batch 32 ...` for the README's figures).
set -euo pipefail
demo=$1 evaluator=$2 out=$3 steps=${4:-100}
scrim=${SCRIM:-build/scrim}
common=(--data "$demo/synth/actions.jsonl" --mllm "reference:$demo/reference.pt" --steps "$steps" --max-train 1000
        --pareto preference --preference 0.3 --lr 5e-4)
mkdir -p "$out"
[ -f "$out/blackbox/anonymizer.pt" ] || "$scrim" -q train "${common[@]}" --out "$out/blackbox"
[ -f "$out/whitebox/anonymizer.pt" ] || "$scrim" -q train "${common[@]}" --gradient whitebox --out "$out/whitebox"
"$scrim" eval --data "$demo/synth/actions.jsonl" --mllm "reference:$evaluator" --out "$out/eval" \
  --max-train 1000 --attacker-epochs 5 \
  --protector raw blur:sigma=2 pixelate:block=4 downsample:factor=4 bdq "regions:faces,mode=blur" \
              "anonymizer:$out/blackbox/anonymizer.pt" "anonymizer:$out/whitebox/anonymizer.pt"
