#!/usr/bin/env bash
# Figure and report benchmark (docs/benchmarks.md): SynthLens and the matplotlib peer in one run.
# Needs a built tree (./scripts/build.sh) and Debian's python3-matplotlib. REPORT=0 skips the
# 10,000 vs 2,000 report (it generates 2,000 views first).
set -euo pipefail
cd "$(dirname "$0")/.."
S=${BUILD_DIR:-build}/app/synthlens
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export QT_QPA_PLATFORM=offscreen
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
IDS=0,1,2,3,4,5,6,7
SIDS=test:0,test:1,test:2,test:3,test:4,test:5,test:6,test:7
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

# The views the peer draws (written by SynthLens; not part of the peer's time).
$S augment --input fashion-mnist:test --recipe simclr --views 4 --seed 1 --limit 8 --out "$WORK/views" >/dev/null 2>&1
# Whole processes on both sides (what a user runs: start, imports, reading, drawing, saving), and
# the peer's drawing alone (its own timer: imports and interpreter start excluded).
for fmt in pdf png; do
  t=(); p=(); d=()
  for r in 1 2 3; do
    t+=("$(secs $S figure comparison --input fashion-mnist:test --ids $SIDS --views 4 --seed 1 --model none --no-sidecar --out "$WORK/classic.$fmt")")
    p+=("$(secs $PY bench/figure_peer.py "$WORK/views" $IDS 4 "$WORK/peer" $fmt)")
    d+=("$($PY bench/figure_peer.py "$WORK/views" $IDS 4 "$WORK/peer" $fmt)")
  done
  echo "$fmt: synthlens figure comparison (8 images x 4 classic views, whole process) $(median3 "${t[@]}") s;" \
       "matplotlib peer whole process $(median3 "${p[@]}") s, its drawing and saving alone $(median3 "${d[@]}") s (medians of 3)"
done
t=(); for r in 1 2 3; do t+=("$(secs $S figure comparison --input fashion-mnist:test --ids $SIDS --views 4 --seed 1 --no-sidecar --out "$WORK/full.pdf")"); done
echo "synthlens figure comparison, 8 images x (4 classic + 4 img2img views, builtin model), pdf: $(median3 "${t[@]}") s"
ls -la "$WORK"/classic.pdf "$WORK"/classic.png "$WORK"/peer.pdf "$WORK"/peer.png "$WORK"/full.pdf | awk '{print "  " $5 " bytes  " $9}'

if [ "${REPORT:-1}" = 1 ]; then
  $S generate --input fashion-mnist:test --limit 2000 --model builtin --mode img2img --strength 0.5 --views 1 \
    --seed 11 --out "$WORK/gen2000" >/dev/null 2>&1
  t=$(secs $S report --real fashion-mnist:test --synthetic "$WORK/gen2000" --out "$WORK/report")
  echo "synthlens report, 10,000 real vs 2,000 synthetic (bundled models, defaults): $t s"
  ls -la "$WORK/report" | awk 'NR>1 {print "  " $5 " bytes  " $9}'
fi
