#!/usr/bin/python3
"""Golden data for core/detect tests: a few images and the values an independent numpy/scipy
implementation computes for them (tests/data/detect/golden.json).

Run from this folder with Debian's python3 (numpy, scipy, OpenCV-python): /usr/bin/python3 make_golden.py
OpenCV is used only for PNG I/O, RGB->grey, resizing and the 3x3 median filter (the shared
primitives); the statistics, spectra, FFTs, DCTs, hashes and percentiles are numpy/scipy/hashlib.
"""
import hashlib
import json

import cv2
import numpy as np
from scipy.fft import dct

rng = np.random.default_rng(20240605)


def smooth_rgb(h, w, c):
    base = rng.normal(0, 1, (h // 4 + 2, w // 4 + 2, c))
    up = cv2.resize(base.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    up = up.reshape(h, w, c)
    img = 128 + 60 * up + rng.normal(0, 6, (h, w, c))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


images = {
    "rgb_40x30": smooth_rgb(30, 40, 3),
    "grey_28": smooth_rgb(28, 28, 1)[:, :, 0],
    "rgba_9x7": np.concatenate([smooth_rgb(7, 9, 3), rng.integers(0, 256, (7, 9, 1), dtype=np.uint8)], 2),
    "rgb_130x96": smooth_rgb(96, 130, 3),
}
# A clipped, tinted corner so the exposure/colour statistics are non-trivial.
images["rgb_130x96"][:20, :30] = [255, 250, 0]
images["grey_28"][:6, :] = 0

SPEC = 64


def grey_of(img):
    if img.ndim == 2:
        return img
    code = cv2.COLOR_RGB2GRAY if img.shape[2] == 3 else cv2.COLOR_RGBA2GRAY
    return cv2.cvtColor(np.ascontiguousarray(img), code)


def rgb3(img):
    if img.ndim == 2:
        return np.repeat(img[:, :, None], 3, 2).astype(np.float64)
    return img[:, :, :3].astype(np.float64)


def stats(img):
    x = rgb3(img)
    luma = np.sqrt(0.241 * x[..., 0] ** 2 + 0.691 * x[..., 1] ** 2 + 0.068 * x[..., 2] ** 2)
    mx, mn = x.max(2), x.min(2)
    sat = np.where(mx > 0, (mx - mn) / np.where(mx > 0, mx, 1), 0)
    g = grey_of(img)
    lap = np.zeros(g.shape)
    gp = np.pad(g.astype(np.float64), 1, mode="reflect")  # = OpenCV BORDER_REFLECT_101
    lap = gp[:-2, 1:-1] + gp[2:, 1:-1] + gp[1:-1, :-2] + gp[1:-1, 2:] - 4 * gp[1:-1, 1:-1]
    hist = np.bincount(g.ravel(), minlength=256) / g.size
    p = hist[hist > 0]
    return {
        "brightness": luma.mean() / 255, "contrast": luma.std() / 255, "saturation": sat.mean(),
        "sharpness": lap.var(), "entropy": float(-(p * np.log2(p)).sum()),
        "mean_r": x[..., 0].mean() / 255, "mean_g": x[..., 1].mean() / 255,
        "mean_b": x[..., 2].mean() / 255,
    }, luma


def spectrum(g):
    side = min(g.shape)
    y0, x0 = (g.shape[0] - side) // 2, (g.shape[1] - side) // 2
    sq = g[y0:y0 + side, x0:x0 + side].astype(np.float32)
    if side > SPEC:
        sq = cv2.resize(sq, (SPEC, SPEC), interpolation=cv2.INTER_AREA)
    elif side < SPEC:
        sq = cv2.resize(sq, (SPEC, SPEC), interpolation=cv2.INTER_CUBIC)
    mag = np.log1p(np.abs(np.fft.fft2(sq.astype(np.float64))))
    f = np.fft.fftfreq(SPEC) * SPEC
    r = np.round(np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)).astype(int)
    return [float(mag[r == k].mean()) for k in range(1, SPEC // 2 + 1)]


def periodic_peak(g):
    if min(g.shape) < 8:
        return 0.0
    res = g.astype(np.float64) - cv2.medianBlur(g, 3).astype(np.float64)
    p = np.abs(np.fft.fft2(res)) ** 2
    logp = np.log(p + 1e-3 * p.mean() + 1e-6)
    pad = np.pad(logp, 2, mode="wrap")
    win = np.lib.stride_tricks.sliding_window_view(pad, (5, 5))
    med = np.median(win.reshape(*logp.shape, 25), axis=2)
    d = logp - med
    d[0, 0] = -np.inf
    return float(max(0.0, d.max()))


def phash(g):
    shrink = g.shape[0] >= 32 and g.shape[1] >= 32
    s = cv2.resize(g.astype(np.float32), (32, 32),
                   interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR).astype(np.float64)
    d = dct(dct(s, axis=0, norm="ortho"), axis=1, norm="ortho")[:8, :8].ravel()
    bits = d > np.median(d)
    return "%016x" % int("".join("1" if b else "0" for b in bits), 2)


def noise_sigma(g):
    if min(g.shape) < 3:
        return 0.0
    f = g.astype(np.float64)
    r = (f[:-2, :-2] - 2 * f[:-2, 1:-1] + f[:-2, 2:] - 2 * f[1:-1, :-2] + 4 * f[1:-1, 1:-1]
         - 2 * f[1:-1, 2:] + f[2:, :-2] - 2 * f[2:, 1:-1] + f[2:, 2:])
    v = np.sort(np.abs(r).ravel())
    return float(v[v.size // 10] / (0.12566 * 6))


def jpeg_zeroed(g):
    m = np.add.outer(np.arange(8), np.arange(8)) >= 4
    fr = []
    for y in range(0, g.shape[0] - 7, 8):
        for x in range(0, g.shape[1] - 7, 8):
            b = g[y:y + 8, x:x + 8].astype(np.float64) - 128
            if b.std() < 2:
                continue
            d = dct(dct(b, axis=0, norm="ortho"), axis=1, norm="ortho")
            fr.append((np.abs(d[m]) < 1).mean())
    return float(np.mean(fr)) if fr else 0.0


def shadow_clip_steps(luma):
    """Log-odds of hard (> 4) vs soft (2..4) 4-neighbours of luma <= 1 pixels (8-bit luma)."""
    l = np.minimum(255, np.floor(luma + 0.5)).astype(int)
    hard = soft = 0
    for a, b in ((l[:, :-1], l[:, 1:]), (l[:-1, :], l[1:, :])):
        edge = (a <= 1) != (b <= 1)
        q = np.maximum(a, b)[edge]
        hard += int((q > 4).sum())
        soft += int((q <= 4).sum())
    pile = np.log(((l <= 1).sum() + 1) / (((l >= 2) & (l <= 4)).sum() + 1))
    return float(np.log((hard + 1) / (soft + 1)) + pile)


def hist_percentile(luma, q):
    h = np.bincount(np.minimum(255, np.floor(luma + 0.5).astype(int)).ravel(), minlength=256)
    c = np.cumsum(h)
    return int(np.argmax(c >= q / 100 * luma.size))


golden = {}
for name, img in images.items():
    if img.ndim == 2:
        cv2.imwrite(name + ".png", img)
    elif img.shape[2] == 3:
        cv2.imwrite(name + ".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    else:
        cv2.imwrite(name + ".png", cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA))
    st, luma = stats(img)
    g = grey_of(img)
    ch = 1 if img.ndim == 2 else img.shape[2]
    head = b"%dx%dx%d:" % (img.shape[1], img.shape[0], ch)
    x = rgb3(img)
    means = x.reshape(-1, 3).mean(0) / 255
    m = means.mean()
    golden[name] = {
        "stats": st,
        "spectrum": spectrum(g),
        "periodic_peak": periodic_peak(g),
        "phash": phash(g),
        "sha256": hashlib.sha256(head + np.ascontiguousarray(img).tobytes()).hexdigest(),
        "noise": noise_sigma(g),
        "jpeg": jpeg_zeroed(g),
        "dark": 1 - hist_percentile(luma, 99) / 255,
        "light": hist_percentile(luma, 5) / 255,
        "clipped_highlights": float((np.floor(luma + 0.5) >= 254).mean()),
        "clipped_shadows": shadow_clip_steps(luma),
        "colour_cast": float(np.sqrt(((means - m) ** 2).mean()) / (m + 0.05)),
        "low_information": -st["entropy"],
    }
golden["percentile"] = {"values": [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0],
                        "q": [0, 25, 50, 90, 99, 100]}
golden["percentile"]["expected"] = [float(np.percentile(golden["percentile"]["values"], q))
                                    for q in golden["percentile"]["q"]]
with open("golden.json", "w") as f:
    json.dump(golden, f, indent=1)
print("wrote", len(images), "images and golden.json")
