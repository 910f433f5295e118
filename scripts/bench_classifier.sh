#!/bin/sh
# Learned-detector retrain time: SynthLens's ArtifactClassifier vs scikit-learn on the same rows,
# same run, median of 3 pairs per size. Usage: BUILD_DIR=build scripts/bench_classifier.sh [F]
set -eu
BUILD_DIR=${BUILD_DIR:-build}
F=${1:-530}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for N in 1000 5000 20000; do
  for rep in 1 2 3; do
    "$BUILD_DIR/bench/synthlens_bench_classifier" --n "$N" --f "$F" --out-x "$TMP/x.npy" \
      --out-y "$TMP/y.txt" > "$TMP/sl.$rep.json"
    /usr/bin/python3 bench/classifier_peer.py "$TMP/x.npy" "$TMP/y.txt" > "$TMP/py.$rep.json"
  done
  /usr/bin/python3 - "$TMP" "$N" <<'PY'
import json, statistics, sys
tmp, n = sys.argv[1], sys.argv[2]
sl = [json.load(open(f"{tmp}/sl.{r}.json")) for r in (1, 2, 3)]
py = [json.load(open(f"{tmp}/py.{r}.json")) for r in (1, 2, 3)]
a = statistics.median(s["seconds"] for s in sl)
b = statistics.median(p["seconds"] for p in py)
print(f"N={n}: SynthLens {a:.3f} s (CV AUROC {sl[0]['cv_auroc']:.4f}), "
      f"scikit-learn {b:.3f} s (CV AUROC {py[0]['cv_auroc']:.4f}), {b / a:.1f}x")
PY
done
