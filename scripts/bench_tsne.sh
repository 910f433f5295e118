#!/usr/bin/env bash
# t-SNE (and UMAP) against scikit-learn's Barnes-Hut TSNE on Fashion-MNIST PCA-50 inputs
# (10,000 and 60,000 rows), in one run on one machine. Figures go to docs/benchmarks.md.
#   BUILD_DIR=build-proj ./scripts/bench_tsne.sh        # SIZES="10000" for the short run
#   SKIP_SKLEARN=1 ...                                   # our side only (while tuning)
#   TSNE_ITERATIONS=1000 ...                             # scikit-learn's count (default: ours, 750)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN=$BUILD_DIR/app/synthlens
OUT=${OUT:-$ROOT/out/bench_tsne}
SIZES=${SIZES:-"10000 60000"}
PEER=${PEER:-$ROOT/../shared/bench/sklearn_tsne.py}
PY=/usr/bin/python3  # Debian's Python: numpy, scipy and scikit-learn 1.2
[[ -x $BIN ]] || { echo "no $BIN (build the synthlens target first)" >&2; exit 1; }
mkdir -p "$OUT"
"$PY" "$ROOT/scripts/bench_tsne_inputs.py" "$OUT"

seconds() { "$PY" -c 'import json,sys; print("%.1f" % json.loads(sys.stdin.read())["seconds"])'; }
field() { "$PY" -c "import json,sys; print(f'{json.loads(sys.stdin.read())[\"$1\"]:.4f}')"; }
raw() { "$PY" -c "import json,sys; print(json.loads(sys.stdin.read()).get(\"$1\", '-'))"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for n in $SIZES; do
  emb=$OUT/fmnist${n}_50.npy
  if [[ -z ${SKIP_SKLEARN:-} ]]; then
    echo "load before sklearn n=$n: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$PY" "$PEER" "$emb" "$OUT/sklearn_tsne_${n}.npy" | tee "$OUT/sklearn_tsne_${n}.txt"
  fi
  for method in tsne umap; do
    echo "load before synthlens $method n=$n: $(cut -d' ' -f1-3 /proc/loadavg)"
    iters=()
    [[ $method == tsne && -n ${TSNE_ITERATIONS:-} ]] && iters=(--iterations "$TSNE_ITERATIONS")
    json=$("$BIN" project --in "$emb" --method "$method" --seed 0 --trustworthiness 10 "${iters[@]}" \
             --out "$OUT/synthlens_${method}_${n}.npy")
    echo "$json" > "$OUT/synthlens_${method}_${n}.json"
    # Trustworthiness twice: ours (own 5k subsample) and scikit-learn's on the peer's subsample.
    echo "synthlens $method n=$n iterations=$(raw iterations <<<"$json") seconds=$(seconds <<<"$json")" \
         "trustworthiness=$(field trustworthiness <<<"$json")" \
         "sklearn_scored=$("$PY" "$ROOT/scripts/bench_tsne_trust.py" "$emb" "$OUT/synthlens_${method}_${n}.npy")"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
