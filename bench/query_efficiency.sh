#!/usr/bin/env bash
# Query efficiency of the critical history: hypervolume of the
# (utility, privacy) front against queries spent, for --history none, prior,
# subspace, full and the BlackVIP-style SPSA-GC baseline, at the same budget.
# Each variant trains K=2 preferences (shared initialisation, --sweep 2) and
# keeps a snapshot every STEPS/4 steps; every snapshot is evaluated with a
# reference MLLM that training never queried (utility) and a freshly trained
# attacker (privacy = 1 - cMAP). Prints one row per variant and snapshot.
#
#   bench/query_efficiency.sh DEMO_DIR EVALUATOR_MODEL OUT [STEPS=60] [SNAPSHOTS="15 30 45 60"]
#
# SNAPSHOTS picks which snapshots are evaluated (each costs an attacker training).
# Environment: VARIANTS (default "none prior subspace full spsa-gc") picks the
# variants; TRAIN_ARGS adds options to every training (e.g. --hard-label: the
# black box gives answers only, no log-probs).
set -euo pipefail
demo=$1 evaluator=$2 out=$3 steps=${4:-60}
scrim=${SCRIM:-build/scrim}
variants=${VARIANTS:-none prior subspace full spsa-gc}
read -r -a train_args <<< "${TRAIN_ARGS:-}"
snap=$((steps / 4))
snapshots=${5:-$(seq "$snap" "$snap" "$steps")}
mkdir -p "$out"
protectors=()
for variant in $variants; do
  args=(--history "$variant")
  [ "$variant" = spsa-gc ] && args=(--estimator spsa-gc --history none)
  if [ ! -f "$out/$variant/front.json" ]; then
    "$scrim" -q train --data "$demo/synth/actions.jsonl" --mllm "reference:$demo/reference.pt" --out "$out/$variant" \
      --sweep 2 --steps "$steps" --snapshot-every "$snap" --max-train 1000 --lr 5e-4 "${args[@]}" ${train_args[@]+"${train_args[@]}"}
  fi
  for pref in 1 2; do
    for s in $snapshots; do protectors+=("anonymizer:$out/$variant/pref-$pref/anonymizer-step$s.pt"); done
  done
done
"$scrim" -q eval --seed 1 --data "$demo/synth/actions.jsonl" --mllm "reference:$evaluator" --out "$out/eval" \
  --attackers small --max-train 600 --max-test 300 --attacker-epochs 4 --independent-samples 0 --protector "${protectors[@]}"
python3 - "$out" "$snapshots" "$variants" <<'PY'
import json, re, sys
out, snapshots, variants = sys.argv[1], [int(x) for x in sys.argv[2].split()], sys.argv[3].split()
res = json.load(open(f"{out}/eval/results.json"))
points = {}
for p in res["protectors"]:
    m = re.search(r"/([^/]+)/pref-(\d)/anonymizer-step(\d+)\.pt", p["protector"])
    points.setdefault((m.group(1), int(m.group(3))), []).append((p["utility"], 1 - p["cmap"]))
def hypervolume(pts):  # 2-D, maximise both, reference point (0, 0)
    front = sorted(pts, key=lambda t: -t[0])
    hv, best_p = 0.0, 0.0
    for u, p in front:
        if p > best_p:
            hv += u * (p - best_p)
            best_p = p
    return hv
print(f"{'variant':10} {'step':>5} {'queries':>8} {'hypervolume':>12}  points (utility, privacy)")
for variant in variants:
    for s in snapshots:
        pts = points.get((variant, s), [])
        if not pts:
            continue
        log = [json.loads(l) for l in open(f"{out}/{variant}/pref-1/train-log.jsonl")]
        q = 2 * next(r["queries"] for r in log if r["step"] == s)  # both preferences spend the same per step
        print(f"{variant:10} {s:5d} {q:8d} {hypervolume(pts):12.4f}  " + " ".join(f"({u:.3f}, {p:.3f})" for u, p in pts))
PY
