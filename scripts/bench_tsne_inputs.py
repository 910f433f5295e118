#!/usr/bin/python3
"""Inputs of scripts/bench_tsne.sh: Fashion-MNIST train pixels (/255) PCA'd to 50 dims with numpy.
Writes OUT/fmnist10000_50.npy (the first 10,000 images, their own PCA) and OUT/fmnist60000_50.npy.
Usage: bench_tsne_inputs.py OUT_DIR [FASHION_MNIST_DIR]"""
import gzip
import os
import sys

import numpy as np

out = sys.argv[1]
src = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("SYNTHLENS_FASHION_MNIST",
                                                            "/usr/share/datasets/fashion-mnist")
with gzip.open(os.path.join(src, "train-images-idx3-ubyte.gz"), "rb") as f:
    raw = f.read()
n = int.from_bytes(raw[4:8], "big")
pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 28 * 28).astype(np.float64) / 255.0
os.makedirs(out, exist_ok=True)
for rows in (10000, 60000):
    path = os.path.join(out, f"fmnist{rows}_50.npy")
    if os.path.exists(path):
        continue
    x = pixels[:rows]
    xc = x - x.mean(axis=0)
    w, v = np.linalg.eigh(xc.T @ xc / (rows - 1))
    emb = (xc @ v[:, ::-1][:, :50]).astype(np.float32)
    np.save(path, emb)
    print(f"wrote {path} {emb.shape}")
