#!/usr/bin/env bash
# One command: install dependencies, build, and run every test (CPU machines skip the `gpu`
# label; Qt tests run offscreen).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
export QT_QPA_PLATFORM=offscreen
label_args=(-LE gpu)
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then label_args=(); fi
ctest --output-on-failure -j"$(nproc)" "${label_args[@]}"
