#!/usr/bin/python3
"""Peer for `synthlens bench generate`: the same TorchScript denoiser driven from Python
(Debian python3-torch), DDIM (eta 0, trailing spacing) img2img views of 28x28 sources, with
classifier-free guidance batched as one forward of 2B. Prints {"views_per_s": ...}.

Usage: torch_generate_peer.py PKG_DIR [--views 8] [--steps 25] [--strength 0.5] [--guidance 3]
                                      [--batch 8] [--threads 1] [--repeats 5]
"""
import argparse, json, math, os, time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("package")
    ap.add_argument("--views", type=int, default=8)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--strength", type=float, default=0.5)
    ap.add_argument("--guidance", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    manifest = json.load(open(os.path.join(args.package, "model.json")))
    model = torch.jit.load(os.path.join(args.package, manifest["files"]["denoiser"])).eval()
    d = manifest["diffusion"]
    sched = d["schedule"]
    T = sched.get("num_train_timesteps", 1000)
    betas = np.linspace(sched.get("beta_start", 1e-4), sched.get("beta_end", 0.02), T)
    ac = torch.tensor(np.cumprod(1 - betas), dtype=torch.float32)
    res, ch = manifest["input"]["resolution"], manifest["input"]["channels"]
    cond = d.get("conditioning", {})
    ncls = cond.get("class", {}).get("num_classes", 0)
    edim = cond.get("embedding", {}).get("dim", 0) or 1
    B = args.views
    # Trailing spacing, truncated at strength * T (img2img).
    ts = [int(round(T - i * T / args.steps)) - 1 for i in range(args.steps)]
    ts = [t for t in ts if t <= int(args.strength * T)]
    g = torch.Generator().manual_seed(0)
    src = torch.rand(1, ch, res, res, generator=g) * 2 - 1

    def run():
        with torch.inference_mode():
            x0 = src.expand(B, -1, -1, -1)
            t0 = ts[0]
            x = ac[t0].sqrt() * x0 + (1 - ac[t0]).sqrt() * torch.randn(B, ch, res, res, generator=g)
            cls = torch.cat([torch.full((B,), 3, dtype=torch.long), torch.full((B,), ncls, dtype=torch.long)])
            emb = torch.zeros(2 * B, edim)
            mask = torch.zeros(2 * B)
            for i, t in enumerate(ts):
                tt = torch.full((2 * B,), t, dtype=torch.long)
                eps2 = model(torch.cat([x, x]), tt, cls, emb, mask)
                e_c, e_u = eps2[:B], eps2[B:]
                eps = e_u + args.guidance * (e_c - e_u)
                a = ac[t]
                a_prev = ac[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0)
                x0p = (x - (1 - a).sqrt() * eps) / a.sqrt()
                x = a_prev.sqrt() * x0p + (1 - a_prev).sqrt() * eps
            return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)

    run()  # warm-up
    t0 = time.perf_counter()
    for _ in range(args.repeats):
        run()
    dt = time.perf_counter() - t0
    print(json.dumps({"views_per_s": args.repeats * B / dt, "views": B, "steps": len(ts),
                      "threads": args.threads, "peer": "python3-torch " + torch.__version__}))


if __name__ == "__main__":
    main()
