#!/usr/bin/env bash
# Pixel-detector speed, SynthLens and its numpy+OpenCV-python peer in one run (docs/benchmarks.md):
# images/s of all detectors together (stats, spectrum, residual peaks, blur, noise, JPEG, pHash,
# SHA-256) on Fashion-MNIST test images upscaled (bicubic) to 224 px, decoded once beforehand.
# Usage: scripts/bench_detect.sh [COUNT] [SIZE]   (BUILD_DIR defaults to build)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build}/core/detect/synthlens_detect_bench
COUNT=${1:-500}
SIZE=${2:-224}
PY=/usr/bin/python3
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
OURS=$("$BIN" --count "$COUNT" --size "$SIZE" --threads 1 2)
echo "$OURS"
PEER=$($PY bench/detect_peer.py "$COUNT" "$SIZE" 1)
echo "$PEER"
$PY - "$OURS" "$PEER" <<'PYEOF'
import json, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
peer = json.loads(sys.argv[2])
for o in ours:
    print("synthlens %d thread(s): %.0f images/s = %.2fx the 1-thread peer (%.0f images/s)"
          % (o["threads"], o["images_per_s"], o["images_per_s"] / peer["images_per_s"], peer["images_per_s"]))
PYEOF
