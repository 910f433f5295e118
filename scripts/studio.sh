#!/usr/bin/env bash
# One command: install dependencies, build, and launch the studio on the embedded default
# (Fashion-MNIST test set). Extra arguments go to synthlens-studio (e.g. a folder to open).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: running the studio under Xvfb (xvfb-run)."
  exec xvfb-run -a -s "-screen 0 1600x1000x24" ./build/app/synthlens-studio "$@"
fi
exec ./build/app/synthlens-studio "$@"
