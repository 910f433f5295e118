#!/usr/bin/python3
"""Oracle for core/augment/ops_test.cc: runs torchvision 0.14's uint8 tensor ops on a fixed image
and writes raw RGB outputs plus cases.txt. Regenerate (Debian python3-torchvision) with:
    cd core/augment/testdata && /usr/bin/python3 oracle.py
cases.txt lines: NAME OP PARAM1 PARAM2 FILE (images are HEIGHT x WIDTH x 3 raw uint8, HWC, RGB)."""
import numpy as np
import torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

H, W = 37, 53
rng = np.random.default_rng(7)
# Half noise, half smooth gradients so both blur and colour ops see realistic structure.
noise = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
yy, xx = np.mgrid[0:H, 0:W]
smooth = np.stack([xx * 255 // (W - 1), yy * 255 // (H - 1), (xx + yy) * 255 // (W + H - 2)], -1).astype(np.uint8)
img = np.where((xx < W // 2)[..., None], noise, smooth).astype(np.uint8)
t = torch.from_numpy(img).permute(2, 0, 1).contiguous()

cases = []
def emit(name, op, a, b, out):
    arr = out.permute(1, 2, 0).contiguous().numpy().astype(np.uint8)
    fname = name + ".rgb"
    arr.tofile(fname)
    cases.append(f"{name} {op} {a} {b} {fname} {arr.shape[0]} {arr.shape[1]}")

img.tofile("input.rgb")
for f in (0.6, 1.3):
    emit(f"brightness_{f}", "brightness", f, 0, F.adjust_brightness(t, f))
for f in (0.6, 1.4):
    emit(f"contrast_{f}", "contrast", f, 0, F.adjust_contrast(t, f))
for f in (0.0, 0.6, 1.4):
    emit(f"saturation_{f}", "saturation", f, 0, F.adjust_saturation(t, f))
for f in (-0.45, -0.1, 0.05, 0.3):
    emit(f"hue_{f}", "hue", f, 0, F.adjust_hue(t, f))
emit("grayscale", "grayscale", 0, 0, F.rgb_to_grayscale(t, num_output_channels=3))
for th in (128, 200):
    emit(f"solarize_{th}", "solarize", th, 0, F.solarize(t, th))
for k, s in ((5, 0.8), (9, 1.5), (23, 2.0), (23, 0.3)):
    emit(f"blur_{k}_{s}", "blur", k, s, F.gaussian_blur(t, [k, k], [s, s]))
emit("hflip", "hflip", 0, 0, F.hflip(t))
emit("vflip", "vflip", 0, 0, F.vflip(t))
# Upscaling crop: (top=5, left=20, h=20, w=24) -> 40x48 bilinear (no antialias on upscale).
emit("resized_crop", "resized_crop", 0, 0,
     F.resized_crop(t, 5, 20, 20, 24, [40, 48], interpolation=InterpolationMode.BILINEAR))
with open("cases.txt", "w") as f:
    f.write(f"input input 0 0 input.rgb {H} {W}\n")
    f.write("\n".join(cases) + "\n")
print(len(cases), "cases")
