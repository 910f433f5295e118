#!/usr/bin/python3
"""Peer of synthlens_detect_bench (docs/benchmarks.md): the same per-image computations in
numpy + OpenCV-python, one image at a time: luma/saturation/channel stats, Laplacian variance,
grey entropy, 64 px azimuthal log spectrum, median-3 residual power spectrum with a 5x5 local
median, Immerkaer noise (10th percentile), 8x8 DCT zero fraction, 64 px blur measure, 32 px DCT
pHash and SHA-256 of the pixels. Usage: detect_peer.py COUNT SIZE [THREADS]
"""
import gzip
import hashlib
import json
import os
import sys
import time

import cv2
import numpy as np

count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
size = int(sys.argv[2]) if len(sys.argv) > 2 else 224
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
cv2.setNumThreads(threads)

path = os.environ.get("SYNTHLENS_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
raw = gzip.open(path + "/t10k-images-idx3-ubyte.gz").read()
grey = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:count]
images = [cv2.resize(np.repeat(g[:, :, None], 3, 2), (size, size), interpolation=cv2.INTER_CUBIC)
          for g in grey]

S = 64
f = np.fft.fftfreq(S) * S
RBIN = np.round(np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)).astype(int).ravel()
RMASK = (RBIN >= 1) & (RBIN <= S // 2)
RCOUNT = np.bincount(RBIN[RMASK] - 1, minlength=S // 2)
KMASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
HF = (np.add.outer(np.arange(8), np.arange(8)) >= 4).ravel()
D8 = cv2.dct(np.eye(8, dtype=np.float32))  # rows: DCT basis, so DCT(B) = D8 @ B @ D8.T


def analyse(img):
    x = img.astype(np.float32)
    luma = np.sqrt(0.241 * x[..., 0] ** 2 + 0.691 * x[..., 1] ** 2 + 0.068 * x[..., 2] ** 2)
    mx, mn = x.max(2), x.min(2)
    sat = np.divide(mx - mn, mx, out=np.zeros_like(mx), where=mx > 0)
    out = {"brightness": luma.mean() / 255, "contrast": luma.std() / 255,
           "saturation": sat.mean(), "means": x.reshape(-1, 3).mean(0) / 255}
    lh = np.cumsum(np.bincount(np.minimum(255, np.rint(luma).astype(int)).ravel(), minlength=256))
    out["dark"] = 1 - np.argmax(lh >= 0.99 * luma.size) / 255
    out["light"] = np.argmax(lh >= 0.05 * luma.size) / 255
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    out["sharpness"] = cv2.Laplacian(g, cv2.CV_64F).var()
    h = np.bincount(g.ravel(), minlength=256) / g.size
    h = h[h > 0]
    out["entropy"] = -(h * np.log2(h)).sum()
    # spectrum
    sq = cv2.resize(g.astype(np.float32), (S, S), interpolation=cv2.INTER_AREA)
    mag = np.log1p(np.abs(np.fft.fft2(sq))).ravel()
    out["spectrum"] = np.bincount(RBIN[RMASK] - 1, mag[RMASK], minlength=S // 2) / RCOUNT
    # residual peaks
    res = g.astype(np.float32) - cv2.medianBlur(g, 3).astype(np.float32)
    p = np.abs(np.fft.fft2(res)) ** 2
    logp = np.log(p + 1e-3 * p.mean() + 1e-6).astype(np.float32)
    med = cv2.medianBlur(cv2.copyMakeBorder(logp, 2, 2, 2, 2, cv2.BORDER_WRAP), 5)[2:-2, 2:-2]
    d = logp - med
    d[0, 0] = 0
    out["periodic"] = max(0.0, float(d.max()))
    # blur on a <= 64 px copy
    small = cv2.resize(g, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    out["blur"] = -np.log((cv2.Laplacian(small, cv2.CV_32F).var() + 1) / (small.var() + 1))
    # noise
    r = np.abs(cv2.filter2D(g.astype(np.float32), -1, KMASK)[1:-1, 1:-1]).ravel()
    out["noise"] = np.partition(r, r.size // 10)[r.size // 10] / (0.12566 * 6)
    # jpeg: blocks of the 8x8 grid
    H, W = (g.shape[0] // 8) * 8, (g.shape[1] // 8) * 8
    b = g[:H, :W].astype(np.float32).reshape(H // 8, 8, W // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8) - 128
    keep = b.reshape(len(b), -1).std(1) >= 2
    c = (D8 @ b[keep] @ D8.T).reshape(-1, 64)[:, HF]
    out["jpeg"] = (np.abs(c) < 1).mean() if len(c) else 0.0
    # pHash + SHA-256
    dd = cv2.dct(cv2.resize(g.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA))[:8, :8].ravel()
    out["phash"] = np.packbits(dd > np.median(dd)).tobytes()
    out["sha256"] = hashlib.sha256(b"%dx%dx3:" % (img.shape[1], img.shape[0]) + img.tobytes()).hexdigest()
    return out


best = 1e30
for _ in range(2):
    t0 = time.perf_counter()
    for img in images:
        analyse(img)
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"impl": "numpy+cv2 peer", "threads": threads, "images": len(images), "size": size,
                  "seconds": best, "images_per_s": len(images) / best}))
