#!/usr/bin/env bash
# Generative-view benchmark, SynthLens and its Python peer in one run (docs/benchmarks.md).
# Needs a built tree (./scripts/build.sh) and Debian's python3-torch. MODEL defaults to the
# bundled diffusion package.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${BUILD_DIR:-build}/app/synthlens
MODEL=${MODEL:-resources/models/fmnist-diffusion}
THREADS=${THREADS:-$(nproc)}
PY=/usr/bin/python3
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F), load $(cut -d' ' -f1 /proc/loadavg)"
for strength in 1.0 0.5; do
  echo "synthlens strength=$strength: $($CLI --threads "$THREADS" bench generate --model "$MODEL" --views 8 --steps 25 --strength "$strength" --repeats 3 --json)"
  echo "peer      strength=$strength: $($PY bench/torch_generate_peer.py "$MODEL" --views 8 --steps 25 --strength "$strength" --threads "$THREADS" --repeats 3)"
done
