#!/usr/bin/env bash
# Runs every shell command of README.md's "Quick starts" as written, offline, in a
# scratch folder: the commands are read from the README itself (each ```sh block of
# that section), so a README that drifts from the CLI fails here. What cannot exist
# offline is stood in for, and only that:
#   - photos/, clip.mp4 and data.jsonl come from `scrim data synth`;
#   - https://api.openai.com/v1 and its model become a local `scrim reference serve`
#     (an OpenAI-compatible server of a small reference model trained here);
#   - `scrim serve` runs in the background and gets one chat request with an image.
# Usage: scripts/check-readme.sh [BUILD_DIR=build]     (about 5 minutes on 2 cores)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$repo/build}" && pwd)"
[ -x "$build/scrim" ] || { echo "check-readme: $build/scrim not found (build first)" >&2; exit 2; }
work="$(mktemp -d /tmp/scrim-readme.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
ln -s "$build" build   # the README's commands call build/scrim

# The quick starts' shell blocks, one command per entry (continuation lines joined).
blocks="$(awk '/^## Quick starts/{on=1; next} /^## /{on=0} on && /^```sh/{sh=1; next} sh && /^```/{sh=0; next} sh' "$repo/README.md" |
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta')"
[ -n "$blocks" ] || { echo "check-readme: no sh blocks under '## Quick starts' in README.md" >&2; exit 1; }

echo "check-readme: data and a reference model (stand-ins for the user's own)"
build/scrim -q data synth --out synth --train 64 --test 16 --seed 7
build/scrim -q data synth --out synth-clips --train 0 --test 1 --seed 7 --clips 8
mkdir -p photos
cp synth/images/test/test-00000[0-3].png photos/
cp synth-clips/clips/test/test-000000.mp4 clip.mp4
cp synth/actions.jsonl data.jsonl
ln -s synth/images images   # data.jsonl's relative media paths
build/scrim -q reference train --data synth/actions.jsonl --out ref.pt --epochs 1 --width 8 >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mllm_port="$(free_port)"
build/scrim reference serve --model ref.pt --port "$mllm_port" --name gpt-4o-mini 2>reference-serve.log &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$mllm_port/v1/models" >/dev/null && break; sleep 0.2; done
local_api="http://127.0.0.1:$mllm_port/v1"

status=0
while IFS= read -r cmd; do
  [ -z "${cmd// }" ] && continue
  run="${cmd//https:\/\/api.openai.com\/v1/$local_api}"
  echo "check-readme: $cmd"
  if [[ "$run" == *" serve "* ]]; then
    proxy="$(sed -n 's/.*--listen \([^ ]*\).*/\1/p' <<<"$run")"
    bash -c "$run" 2>proxy.log &
    pids+=($!)
    for _ in $(seq 50); do curl -sf "http://$proxy/health" >/dev/null && break; sleep 0.2; done
    image="$(base64 -w0 photos/test-000000.png)"
    body="{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is the person doing?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,$image\"}}]}]}"
    if ! curl -sf "http://$proxy/v1/chat/completions" -H 'Content-Type: application/json' -d "$body" | grep -q '"choices"'; then
      echo "check-readme: FAILED: the proxy did not answer a chat request (log: $(tail -2 proxy.log))" >&2
      status=1
    fi
    kill "${pids[-1]}" 2>/dev/null || true
  elif ! bash -c "$run" >command.log 2>&1; then
    echo "check-readme: FAILED: $cmd" >&2
    tail -5 command.log >&2
    status=1
  fi
done <<<"$blocks"
[ "$status" = 0 ] && echo "check-readme: every quick-start command ran"
exit "$status"
