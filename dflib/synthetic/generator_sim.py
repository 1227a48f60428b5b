"""Generator simulator: small encoder-decoders whose up-sampling leaves GAN-like traces.

Why a network and not a hand-made filter: detectors are meant to find the fingerprints a
generator's *decoder* leaves (Zhang et al. 2019, "Detecting and Simulating Artifacts in
GAN Fake Images", the AutoGAN idea): periodic up-sampling patterns and their spectral
peaks. Re-synthesising a region through a trained encoder-decoder reproduces those
fingerprints with the statistics a real decoder has, one family per up-sampling kind:

- ``"tconv"``: transposed convolutions (kernel 3, stride 2), the classic checkerboard;
- ``"nearest"``: nearest-neighbour up-sampling followed by a 3x3 convolution;
- ``"bilinear"``: bilinear up-sampling followed by a 3x3 convolution.

The weights are trained once on real crops by ``scripts/train_generator_simulator.py``
(seeded) and shipped as ``dflib/assets/generator_simulator.npz`` (plain arrays, loaded
with ``allow_pickle=False``). There is no skip connection, so the decoder has to rebuild
every pixel from a 4x down-sampled code: that is where the traces come from.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dflib.runtime import single_thread

FAMILIES: tuple[str, ...] = ("tconv", "nearest", "bilinear")
# The weights stay in dflib/assets/ (package data), one level above this sub-package.
WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "assets" / "generator_simulator.npz"
DOWNSAMPLE = 4  # the encoder halves the resolution twice; inputs are padded to a multiple


def _up(family: str, c_in: int, c_out: int) -> nn.Module:
    if family == "tconv":
        return nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)
    if family == "nearest":
        up = nn.Upsample(scale_factor=2, mode="nearest")
        return nn.Sequential(up, nn.Conv2d(c_in, c_out, 3, padding=1))
    if family == "bilinear":
        up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        return nn.Sequential(up, nn.Conv2d(c_in, c_out, 3, padding=1))
    raise ValueError(f"unknown generator family {family!r}; expected one of {FAMILIES}")


class GeneratorSimulator(nn.Module):
    """Encoder (two stride-2 convs) and a decoder of the given up-sampling family.

    Input and output are RGB in ``[0, 1]``, NCHW, height and width multiples of 4.
    """

    def __init__(self, family: str, width: int = 32) -> None:
        super().__init__()
        self.family = family
        half = width // 2
        self.encoder = nn.Sequential(
            nn.Conv2d(3, half, 3, padding=1), nn.ReLU(),
            nn.Conv2d(half, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            _up(family, width, width), nn.ReLU(),
            _up(family, width, half), nn.ReLU(),
            nn.Conv2d(half, 3, 3, padding=1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x * 2.0 - 1.0)) * 0.5 + 0.5


def save_weights(models: dict[str, GeneratorSimulator], path: Path = WEIGHTS_PATH) -> Path:
    """Write every family's state dict as float32 arrays named ``<family>/<param>``."""
    arrays = {
        f"{family}/{name}": t.detach().cpu().float().numpy()
        for family, model in models.items()
        for name, t in model.state_dict().items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


@lru_cache(maxsize=1)
def weights_digest(path: Path = WEIGHTS_PATH) -> str:
    """Short SHA-256 of the shipped weights, so dataset keys change when the weights do."""
    if not path.is_file():
        raise FileNotFoundError(_missing(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _missing(path: Path) -> str:
    return (
        f"generator simulator weights not found at {path}; they ship with dflib "
        "(reinstall it) or can be rebuilt with `python scripts/train_generator_simulator.py`."
    )


@lru_cache(maxsize=len(FAMILIES))
def load_simulator(family: str, path: Path = WEIGHTS_PATH) -> GeneratorSimulator:
    """Load one family from the shipped ``.npz`` (no pickles, no network), in eval mode."""
    if family not in FAMILIES:
        raise ValueError(f"unknown generator family {family!r}; expected one of {FAMILIES}")
    if not path.is_file():
        raise FileNotFoundError(_missing(path))
    model = GeneratorSimulator(family)
    with np.load(path, allow_pickle=False) as z:
        prefix = f"{family}/"
        state = {k[len(prefix) :]: torch.from_numpy(z[k]) for k in z.files if k.startswith(prefix)}
    model.load_state_dict(state)
    return model.eval()


def resynthesise(patch: np.ndarray, family: str) -> np.ndarray:
    """Pass an HxWx3 float patch in ``[0, 1]`` through a simulator; returns the same shape.

    The patch is reflect-padded to a multiple of 4 and the output cropped back, so any
    size works. Runs on one CPU thread: the summation order of a convolution depends on
    the thread count, and a fixed order makes every image bit-identical whether it was
    rendered in a notebook process or in a pool worker.
    """
    h, w = patch.shape[:2]
    ph, pw = -h % DOWNSAMPLE, -w % DOWNSAMPLE
    x = np.pad(patch, ((0, ph), (0, pw), (0, 0)), mode="reflect") if ph or pw else patch
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32))[None]
    with single_thread(), torch.no_grad():
        out = load_simulator(family)(t)[0].numpy().transpose(1, 2, 0)
    return np.clip(out[:h, :w].astype(np.float64), 0.0, 1.0)
