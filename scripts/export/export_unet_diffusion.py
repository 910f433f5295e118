#!/usr/bin/env python3
"""Export a small diffusers-style UNet as a SynthLens diffusion package (docs/model-packages.md).

Written in plain PyTorch (no diffusers needed) with the denoiser signature SynthLens calls:

    forward(x [B,C,H,W] float32, t [B] int64, class_id [B] int64,
            emb [B,E] float32, emb_mask [B] float32) -> [B,C,H,W]

class_id == num_classes is the null class and emb_mask == 0 the null embedding (classifier-free
guidance). The network is randomly initialised unless --weights names a state_dict; it is traced
with torch.jit.trace on example inputs (scripting works too) and checked on a second batch size.

    /usr/bin/python3 scripts/export/export_unet_diffusion.py --out my-diffusion
"""
import argparse
import json
import math
import os

import torch
from torch import nn
import torch.nn.functional as F


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding as in diffusers' get_timestep_embedding (flip_sin_to_cos=True)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, tdim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(tdim, cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    def __init__(self, channels: int, base: int, num_classes: int, emb_dim: int):
        super().__init__()
        self.num_classes = num_classes
        tdim = base * 4
        self.tdim = base
        self.time_mlp = nn.Sequential(nn.Linear(base, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        # One extra row: the null class used for classifier-free guidance.
        self.class_emb = nn.Embedding(max(num_classes, 0) + 1, tdim)
        self.emb_proj = nn.Linear(emb_dim, tdim)
        self.conv_in = nn.Conv2d(channels, base, 3, padding=1)
        self.down1 = ResBlock(base, base, tdim)
        self.down2 = ResBlock(base, base * 2, tdim)
        self.mid = ResBlock(base * 2, base * 2, tdim)
        self.up2 = ResBlock(base * 4, base, tdim)
        self.up1 = ResBlock(base * 2, base, tdim)
        self.norm_out = nn.GroupNorm(8, base)
        self.conv_out = nn.Conv2d(base, channels, 3, padding=1)

    def forward(self, x, t, class_id, emb, emb_mask):
        temb = self.time_mlp(timestep_embedding(t, self.tdim))
        temb = temb + self.class_emb(class_id)
        temb = temb + self.emb_proj(emb) * emb_mask[:, None]
        h0 = self.conv_in(x)
        h1 = self.down1(h0, temb)
        h2 = self.down2(F.avg_pool2d(h1, 2), temb)
        m = self.mid(h2, temb)
        u2 = self.up2(torch.cat([m, h2], dim=1), temb)
        u1 = self.up1(torch.cat([F.interpolate(u2, scale_factor=2.0, mode="nearest"), h1], dim=1), temb)
        return self.conv_out(F.silu(self.norm_out(u1)))


def example_inputs(batch: int, channels: int, resolution: int, num_classes: int, emb_dim: int, T: int):
    g = torch.Generator().manual_seed(batch)
    return (
        torch.randn(batch, channels, resolution, resolution, generator=g),
        torch.randint(0, T, (batch,), generator=g),
        torch.randint(0, num_classes + 1, (batch,), generator=g),
        torch.randn(batch, emb_dim, generator=g),
        (torch.rand(batch, generator=g) > 0.5).float(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="package folder to write")
    parser.add_argument("--name", default="tiny-unet-diffusion")
    parser.add_argument("--resolution", type=int, default=28, help="even square side")
    parser.add_argument("--channels", type=int, default=1, choices=[1, 3])
    parser.add_argument("--base", type=int, default=32, help="UNet width (multiple of 8)")
    parser.add_argument("--num-classes", type=int, default=10)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--timesteps", type=int, default=1000)
    parser.add_argument("--prediction-type", default="eps", choices=["eps", "v", "x0"])
    parser.add_argument("--weights", help="optional state_dict to load")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    assert args.resolution % 2 == 0, "--resolution must be even (one 2x down/up level)"

    torch.manual_seed(args.seed)
    model = TinyUNet(args.channels, args.base, args.num_classes, args.embedding_dim)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    model.eval()

    shape = (args.channels, args.resolution, args.num_classes, args.embedding_dim, args.timesteps)
    with torch.no_grad():
        traced = torch.jit.trace(model, example_inputs(4, *shape))
        # A traced graph must not have baked in the example batch size.
        for batch in (1, 3):
            inputs = example_inputs(batch, *shape)
            out = traced(*inputs)
            assert out.shape == inputs[0].shape, out.shape
            assert torch.allclose(out, model(*inputs), atol=1e-4)
            assert torch.isfinite(out).all()

    os.makedirs(args.out, exist_ok=True)
    traced.save(os.path.join(args.out, "denoiser.pt"))
    manifest = {
        "format": "synthlens-model-package",
        "format_version": 1,
        "kind": "diffusion",
        "name": args.name,
        "description": "small diffusers-style UNet" + (" (random init)" if not args.weights else ""),
        "files": {"denoiser": "denoiser.pt"},
        "input": {"resolution": args.resolution, "channels": args.channels, "resize": "bilinear",
                  "value_range": [-1.0, 1.0]},
        "diffusion": {
            "space": "pixel",
            "schedule": {"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02,
                         "num_train_timesteps": args.timesteps, "prediction_type": args.prediction_type},
            "conditioning": {
                "class": {"num_classes": args.num_classes} if args.num_classes > 0 else None,
                "embedding": {"dim": args.embedding_dim},
            },
        },
        "training": {"command": "scripts/export/export_unet_diffusion.py", "seed": args.seed,
                     "weights": args.weights or "random", "torch": torch.__version__},
    }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}/model.json and denoiser.pt ({args.channels}x{args.resolution}px)")


if __name__ == "__main__":
    main()
