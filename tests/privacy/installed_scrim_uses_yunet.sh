#!/bin/sh
# An installed scrim (`cmake --install` into a temporary prefix), run from a
# folder with no shared/ above it and without SCRIM_MODELS_DIR, uses the YuNet
# model it ships: no error, no Haar fallback or warning, and (when the real
# photos are there) the faces of a group photo hidden.
# Usage: installed_scrim_uses_yunet.sh CMAKE BUILD_DIR SHARED_DIR
set -eu
cmake=$1 build=$2 shared=$3
tmp=$(mktemp -d /tmp/scrim-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$tmp/prefix" >/dev/null
scrim=$tmp/prefix/bin/scrim
[ -x "$scrim" ] || fail "no $scrim after cmake --install"
for f in face_detection_yunet_2022mar.onnx LICENSE; do
  [ -f "$tmp/prefix/share/scrim/models/$f" ] || fail "no share/scrim/models/$f in the install"
done

mkdir "$tmp/work" "$tmp/work/in"
cd "$tmp/work"
unset SCRIM_MODELS_DIR
d=$tmp
while [ "$d" != / ]; do
  [ ! -e "$d/shared" ] || fail "$d/shared exists: the test needs a folder with no shared/ above it"
  d=$(dirname "$d")
done

photo=$shared/realdata/faces/dlib_pascal/2008_001322.jpg
if [ -f "$photo" ]; then
  cp "$photo" in/photo.jpg
else
  "$scrim" -q data synth --out synth --train 3 --test 0 --clips 8 >/dev/null 2>&1 || fail "data synth failed"
  find synth -name '*.png' | head -n 1 | xargs -I{} cp {} in/photo.png
fi
[ -n "$(ls in)" ] || fail "no input picture"

"$scrim" protect --protector regions:faces,mode=solid in --out hidden >out.txt 2>err.txt || fail "protect failed: $(cat err.txt)"
! grep -qi 'haar\|warn' err.txt || fail "a fallback or warning: $(cat err.txt)"
grep -q 'face=yunet' hidden/scrim-protect.jsonl || fail "the record does not name yunet"
if [ -f in/photo.jpg ]; then
  # The same decode and encode with nothing hidden: the files differ only if faces were found and hidden.
  "$scrim" -q protect --protector raw in --out plain >/dev/null 2>&1 || fail "raw protect failed"
  ! cmp -s plain/photo.jpg hidden/photo.jpg || fail "no face hidden in the group photo"
fi
echo "installed scrim used YuNet from $tmp/prefix/share/scrim/models"
