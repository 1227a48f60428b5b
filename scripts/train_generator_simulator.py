"""Train the generator simulators shipped in ``dflib/assets/generator_simulator.npz``.

Each family (transposed-conv, nearest and bilinear up-sampling decoders) is trained as an
auto-encoder on real crops of the scikit-image photos, with an L1 loss. No skip
connection: the decoder rebuilds every pixel from a 4x smaller code, so its output keeps
the up-sampling traces a generator would leave. Seeded; a few minutes on a CPU.

    python scripts/train_generator_simulator.py            # writes the shipped weights
    python scripts/train_generator_simulator.py --steps 50 --out /tmp/sim.npz
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from dflib.runtime import seed_everything
from dflib.synthetic import get_config, render_real
from dflib.synthetic.generator_sim import FAMILIES, WEIGHTS_PATH, GeneratorSimulator, save_weights


def real_crops(n: int, size: int, seed: int) -> torch.Tensor:
    """``n`` real crops (NCHW float in [0, 1]) drawn like the benchmark's real images.

    A seed of its own keeps the training crops apart from any benchmark image.
    """
    config = get_config("full", n_train=n, n_fake_train=0, image_size=size, seed=seed)
    crops = np.stack([render_real(i, "train", config)[0] for i in range(n)])
    return torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255.0


def train_family(
    family: str, data: torch.Tensor, steps: int, batch: int, lr: float, seed: int
) -> GeneratorSimulator:
    """Fit one auto-encoder; cosine learning rate, random flips."""
    seed_everything(seed)
    model = GeneratorSimulator(family)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(seed)
    start = time.time()
    for step in range(1, steps + 1):
        idx = torch.randint(len(data), (batch,), generator=gen)
        x = data[idx]
        if torch.rand((), generator=gen) < 0.5:
            x = x.flip(3)
        loss = (model(x) - x).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % max(1, steps // 10) == 0 or step == steps:
            psnr = -10 * torch.log10(((model(x) - x) ** 2).mean().detach())
            print(
                f"{family:8s} step {step:5d}/{steps} L1 {loss.item():.4f} "
                f"PSNR {psnr.item():.1f} dB  {time.time() - start:.0f}s",
                flush=True,
            )
    return model.eval()


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800, help="optimiser steps per family")
    parser.add_argument("--batch", type=int, default=16, help="crops per step")
    parser.add_argument("--crop", type=int, default=64, help="training crop size in pixels")
    parser.add_argument("--n-crops", type=int, default=3000, help="distinct real crops")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=42, help="seed (weights, data, order)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: reproducible)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="output .npz")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = real_crops(args.n_crops, args.crop, seed=args.seed + 1000)
    models = {}
    for i, family in enumerate(FAMILIES):
        models[family] = train_family(family, data, args.steps, args.batch, args.lr, args.seed + i)
    path = save_weights(models, args.out)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return path


if __name__ == "__main__":
    main()
