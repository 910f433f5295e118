#!/usr/bin/python3
"""The matplotlib way to the comparison figure (docs/benchmarks.md): what a user writes today.

Reads the originals from Fashion-MNIST's IDX file and the classic views that `synthlens augment`
wrote (DIR/test_<i>_v<k>.png), draws the same grid as `synthlens figure comparison --model none`
(rows: original + K views, nearest-neighbour images, captions), and saves PDF (TrueType fonts,
fonttype 42) and/or PNG at 300 dpi. Prints the seconds spent reading, drawing and saving, the
interpreter's start and imports excluded (the bench script also times the whole process).

usage: figure_peer.py VIEWS_DIR IDS(comma) K OUT_PREFIX [pdf|png|both]
"""
import gzip
import sys
import time

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["pdf.fonttype"] = 42
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.image import imread  # noqa: E402

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def main():
    views_dir, ids, k, out = sys.argv[1], [int(i) for i in sys.argv[2].split(",")], int(sys.argv[3]), sys.argv[4]
    formats = ["pdf", "png"] if len(sys.argv) < 6 or sys.argv[5] == "both" else [sys.argv[5]]
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    start = time.perf_counter()
    fig, axes = plt.subplots(len(ids), 1 + k, figsize=(6.75, 0.95 * len(ids) + 0.3), squeeze=False)
    for r, i in enumerate(ids):
        axes[r][0].imshow(images[i], cmap="gray", interpolation="nearest", vmin=0, vmax=255)
        axes[r][0].set_ylabel(f"test:{i}\n{NAMES[labels[i]]}", fontsize=7, rotation=0, ha="right", va="center")
        for v in range(k):
            view = imread(f"{views_dir}/test_{i}_v{v}.png")
            axes[r][1 + v].imshow(view, cmap="gray", interpolation="nearest")
            axes[r][1 + v].set_xlabel(f"v{v}", fontsize=7)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0][0].set_title("original", fontsize=7, fontweight="bold")
    axes[0][1 + k // 2].set_title("classic · simclr", fontsize=7, fontweight="bold")
    fig.tight_layout()
    for fmt in formats:
        fig.savefig(out + "." + fmt, dpi=300)
    print(f"{time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
