#!/usr/bin/env bash
# Remakes every figure image in docs/figures.md and the README with `synthlens figure` itself
# (bundled models, Fashion-MNIST test set). Run after ./scripts/build.sh; takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
S=build/app/synthlens
OUT=docs/images/figures
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
export QT_QPA_PLATFORM=offscreen

# A small synthetic set: img2img views (strength 0.5) of the first 1,000 test images.
$S generate --input fashion-mnist:test --limit 1000 --model builtin --mode img2img --strength 0.5 \
  --views 1 --seed 3 --out "$WORK/gen"

# 1. Comparison grid (paper, full width) and the same figure on a dark 16:9 slide.
$S figure comparison --input fashion-mnist:test --ids test:0,test:1,test:2,test:8 --views 4 \
  --seed 1 --sweep --dpi 150 --no-sidecar --out "$OUT/comparison.png"
$S figure comparison --input fashion-mnist:test --ids test:0,test:1 --views 4 --seed 1 \
  --captions index,seed --preset slide-16x9 --theme dark --dpi 96 --no-sidecar \
  --caption "Classic SimCLR views vs img2img views of the bundled diffusion model" --out "$OUT/comparison-slide.png"
# 2. Embedding plot: real test images vs their img2img views, t-SNE, coloured by class.
$S figure embedding --real fashion-mnist:test --limit 1000 --synthetic "$WORK/gen" --method tsne \
  --colour class --preset paper-full --dpi 150 --no-sidecar --out "$OUT/embedding.png"
$S figure embedding --real fashion-mnist:test --limit 200 --synthetic "$WORK/gen" --synthetic-limit 200 \
  --method pca --arrows --preset paper-column --dpi 200 --no-sidecar --out "$OUT/embedding-arrows.png"
$S figure embedding --real fashion-mnist:test --limit 300 --views-of test:7 --views 8 --view-seed 2 \
  --arrows --preset paper-column --dpi 200 --no-sidecar --out "$OUT/embedding-views.png"
# 3. Metrics table (with 95% bootstrap intervals) and per class.
$S figure metrics --real fashion-mnist:test --limit 1000 --synthetic "$WORK/gen" --bootstrap 20 \
  --dpi 150 --no-sidecar --out "$OUT/metrics.png"
$S figure metrics --real fashion-mnist:test --limit 1000 --synthetic "$WORK/gen" --out "$OUT/metrics.tex" --no-sidecar
# 4. Strength sweep.
$S figure sweep --input fashion-mnist:test --images 128 --dpi 150 --no-sidecar --out "$OUT/sweep.png"
# 5. Detector and bias panels of the same synthetic set.
$S figure detectors --input "$WORK/gen" --reference fashion-mnist:test --reference-limit 2000 --dpi 150 \
  --no-sidecar --out "$OUT/detectors.png"
$S figure bias --real fashion-mnist:test --real-limit 2000 --synthetic "$WORK/gen" --dpi 150 --no-sidecar \
  --out "$OUT/bias.png"
# 6. Hand labels: a few images of the test set labelled as a user would (CSV import), with boxes.
cat > "$WORK/labels.csv" <<'CSV'
source,image_id,clean,categories,note,box_category,x,y,width,height
fashion-mnist:test,test:1,0,blur,,blur,4,2,20,14
fashion-mnist:test,test:2,0,blur;noise,,noise,8,6,12,12
fashion-mnist:test,test:5,0,noise,,noise,2,16,16,10
fashion-mnist:test,test:7,0,blur,,,,,,
fashion-mnist:test,test:11,0,artifact-texture,,artifact-texture,6,4,14,20
fashion-mnist:test,test:12,0,artifact-texture,,artifact-texture,3,3,10,10
fashion-mnist:test,test:3,1,,,,,,,
fashion-mnist:test,test:4,1,,,,,,,
CSV
# (labels import never creates a project, so a typo cannot; augment --project makes one.)
$S augment --input fashion-mnist:test --limit 1 --views 1 --recipe simclr --out "$WORK/one" \
  --project "$WORK/labels.synthlens" >/dev/null 2>&1
$S labels import --project "$WORK/labels.synthlens" --in "$WORK/labels.csv" >/dev/null
$S figure labels --project "$WORK/labels.synthlens" --examples 3 --dpi 150 --no-sidecar --out "$OUT/labels.png"
# 7. The figure builder: the sweep and bias figures above as one figure, one caption.
$S figure combined --panels "$OUT/comparison-slide.png,$OUT/sweep.png" --caption "Figure 1: classic and img2img views of the bundled model, and how far img2img views move from their sources as the strength grows" \
  --dpi 120 --no-sidecar --out "$OUT/combined.png"
# 8. The studio's Export dialog, as the Qt test shows it (offscreen).
SYNTHLENS_SCREENSHOT_DIR="$OUT" SYNTHLENS_BIN_DIR="$PWD/build/app" build/ui/ui_export_dialog_test >/dev/null
echo "wrote $(ls "$OUT" | wc -l) files to $OUT"
