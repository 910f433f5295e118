#!/usr/bin/env bash
# Classic-augmentation benchmark, SynthLens and its peers in one run (docs/benchmarks.md).
# Needs a built tree (./scripts/build.sh) and Debian's python3-torchvision / python3-opencv.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${BUILD_DIR:-build}/app/synthlens
PEERS=${SYNTHLENS_PEERS:-../shared/bench}
PY=/usr/bin/python3
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
for recipe in simclr bench/simclr_peer.json; do
  for threads in 1 2; do
    echo "synthlens $recipe threads=$threads: $($CLI bench augment --recipe "$recipe" --size 224 --threads "$threads" --views 3000 --json)"
  done
done
$PY "$PEERS/torchvision_simclr.py" 300 224
$PY "$PEERS/cv2_simclr.py" 1000 224
