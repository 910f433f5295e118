#!/usr/bin/python3
"""Regenerates the golden files of core/imaging/resize_test.cc with Pillow.

Run with Debian's Python (numpy + Pillow 9.4):  /usr/bin/python3 tests/data/resize/make_golden.py
Writes, next to this script, in_<case>_<mode>.png (the inputs), out_<case>_<mode>_<filter>.png
(Image.resize(size, filter) of each input) and cases.txt (one line per output:
"case mode filter in_w in_h out_w out_h"). Inputs are deterministic (seeded numpy), mixing
noise, smooth ramps and hard 0/255 edges so bicubic overshoot exercises the 8-bit clipping.
"""
import os
import sys

import numpy as np
import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (in_w, in_h, out_w, out_h) - downscale, upscale, mixed, one axis only, tiny, heavy.
CASES = {
    "mixed": (37, 23, 28, 28),      # down in x, up in y
    "down4": (64, 48, 16, 12),      # integer 4x downscale
    "up": (8, 8, 28, 28),           # upscale (the 28x28 encoders)
    "odd": (101, 67, 29, 17),       # non-integer downscale factors
    "only_h": (30, 28, 28, 28),     # horizontal pass only
    "only_v": (28, 40, 28, 28),     # vertical pass only
    "tiny": (3, 2, 7, 5),           # borders dominate
    "heavy": (256, 192, 24, 20),    # ~10x down: wide kernels, the parallel path
    "big_up": (16, 12, 120, 90),    # large upscale output: the parallel path
}
FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def make_input(w, h, channels, seed):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((h, w, channels), np.float64)
    for c in range(channels):
        ramp = 255.0 * ((x * (c + 1) / max(w, 1) + y / max(h, 1)) % 1.0)
        img[..., c] = ramp
    # A noisy band and hard black/white blocks.
    band = (y.astype(int) % 7) < 3
    img[band] = rng.randint(0, 256, size=(int(band.sum()), channels))
    checker = ((x.astype(int) // 3 + y.astype(int) // 2) % 2 == 0) & (x > w / 2)
    img[checker] = 255.0
    img[(x < w / 4) & (y > h / 2)] = 0.0
    out = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return out[..., 0] if channels == 1 else out


def main():
    lines = []
    seed = 1
    for name, (iw, ih, ow, oh) in CASES.items():
        for mode, channels in (("L", 1), ("RGB", 3)):
            seed += 1
            im = Image.fromarray(make_input(iw, ih, channels, seed), mode)
            im.save(os.path.join(HERE, "in_%s_%s.png" % (name, mode)))
            for fname, f in FILTERS.items():
                out = im.resize((ow, oh), f)
                out.save(os.path.join(HERE, "out_%s_%s_%s.png" % (name, mode, fname)))
                lines.append("%s %s %s %d %d %d %d" % (name, mode, fname, iw, ih, ow, oh))
    with open(os.path.join(HERE, "cases.txt"), "w") as f:
        f.write("# Pillow %s, numpy %s; case mode filter in_w in_h out_w out_h\n"
                % (PIL.__version__, np.__version__))
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
