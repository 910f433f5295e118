#!/usr/bin/env python3
"""Export a torchvision ResNet-18 as a SynthLens encoder package (docs/model-packages.md).

The network is randomly initialised unless --weights names a state_dict saved with
torch.save(model.state_dict(), PATH) (e.g. your own SSL-trained backbone). The classifier head is
replaced by a linear projection to --output-dim (or removed with --output-dim 512), the model is
compiled with torch.jit.script, and model.json records the input it expects.

    /usr/bin/python3 scripts/export/export_torchvision_encoder.py --out my-encoder
    synthlens embed --input fashion-mnist:test --encoder my-encoder --out emb.npy --limit 100
"""
import argparse
import json
import os

import torch
import torchvision


def build(output_dim: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    try:
        model = torchvision.models.resnet18(weights=None)
    except TypeError:  # torchvision < 0.13
        model = torchvision.models.resnet18(pretrained=False)
    in_features = model.fc.in_features
    model.fc = torch.nn.Identity() if output_dim == in_features else torch.nn.Linear(in_features, output_dim)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="package folder to write")
    parser.add_argument("--name", default="resnet18-encoder")
    parser.add_argument("--resolution", type=int, default=64, help="square input side")
    parser.add_argument("--output-dim", type=int, default=128)
    parser.add_argument("--weights", help="optional state_dict to load (torch.save(model.state_dict()))")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model = build(args.output_dim, args.seed)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    model.eval()  # BatchNorm uses running statistics; SynthLens never trains through the package

    scripted = torch.jit.script(model)
    # Check the contract SynthLens checks on load: [B, 3, R, R] float32 -> [B, D], finite.
    with torch.no_grad():
        probe = torch.randn(2, 3, args.resolution, args.resolution)
        out = scripted(probe)
        assert out.shape == (2, args.output_dim), out.shape
        assert torch.isfinite(out).all()
        assert torch.allclose(out, model(probe), atol=1e-5)

    os.makedirs(args.out, exist_ok=True)
    scripted.save(os.path.join(args.out, "encoder.pt"))
    manifest = {
        "format": "synthlens-model-package",
        "format_version": 1,
        "kind": "encoder",
        "name": args.name,
        "description": "torchvision ResNet-18 backbone" + (" (random init)" if not args.weights else ""),
        "files": {"encoder": "encoder.pt"},
        "input": {
            "resolution": args.resolution,
            "channels": 3,
            "resize": "bilinear",
            "value_range": [0.0, 1.0],
            # torchvision's ImageNet normalisation (transforms.Normalize after ToTensor).
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
        },
        "encoder": {"output_dim": args.output_dim},
        "training": {
            "command": "scripts/export/export_torchvision_encoder.py",
            "seed": args.seed,
            "weights": args.weights or "random",
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
        },
    }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}/model.json and encoder.pt ({args.output_dim}-D, {args.resolution}px RGB)")


if __name__ == "__main__":
    main()
