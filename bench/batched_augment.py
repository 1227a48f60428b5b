"""The recipes' augmentations as a few whole-batch tensor operations, per-sample parameters.

kornia.augmentation draws per-sample parameters but applies several ops through many small
kernels (and, for some, per-sample paths). Here each op is one formulation for the whole
batch, taking its per-sample parameters explicitly, so each can be checked against
torchvision's functional op at the same parameters (tests/test_batched_augment.py):

- resized crop + horizontal flip: one ``affine_grid`` + ``grid_sample`` (bilinear);
- brightness / contrast / saturation / hue: per-sample factors, blends as torchvision's;
- Gaussian blur: one grouped (separable) convolution with a kernel per sample;
- sharpness: one 3x3 smoothing convolution and one per-sample blend.

:func:`sample_params` draws the parameters on the device from a ``torch.Generator``
seeded by ``(seed, epoch)``, with the ranges of :mod:`dflib.train.inputs`. The draws are
not kornia's (other random streams, colour steps in a fixed order), so a pipeline built on
these trains on other augmented images than kornia's for the same seed. Not wired into
``DevicePipeline``, so it lives in the bench that measures it: on a 2-core CPU the batched
crop, blur and sharpness ran 1.5-5x kornia's, but both whole sets are bound by colour
jitter's hue (RGB -> HSV -> RGB), so the set ran about as fast either way (256 px, batch
16); the GPU bench (``bench/run.py``, section ``augment``, each op by itself) decides
where an op pays before it is wired into training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from dflib.train.inputs import BLUR, CROP_SCALE, JITTER, SHARPNESS

RATIO = (3 / 4, 4 / 3)  # RandomResizedCrop's aspect ratios (kornia's and torchvision's)
JITTER_P = 0.8  # the share of images colour-jittered (DevicePipeline's ColorJitter p)
_GRAY = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights


def _col(v: torch.Tensor) -> torch.Tensor:
    return v.view(-1, 1, 1, 1)


def crop_flip(
    x: torch.Tensor, boxes: torch.Tensor, flip: torch.Tensor, size: int | None = None
) -> torch.Tensor:
    """Crop each image to its box, resize to ``size`` (bilinear) and mirror where ``flip``.

    Args:
        x: float NCHW.
        boxes: (N, 4) ``top, left, height, width`` in pixels (torchvision's order).
        flip: (N,) bool, mirror left-right after the crop.
        size: output side (default: the input's height).
    """
    n, _, h, w = x.shape
    size = size or h
    top, left, ch, cw = boxes.to(x.dtype).unbind(1)
    sign = 1.0 - 2.0 * flip.to(x.dtype)
    theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = sign * cw / w
    theta[:, 0, 2] = (2 * left + cw) / w - 1
    theta[:, 1, 1] = ch / h
    theta[:, 1, 2] = (2 * top + ch) / h - 1
    grid = F.affine_grid(theta, [n, x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _gray(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x.unbind(1)
    return (_GRAY[0] * r + _GRAY[1] * g + _GRAY[2] * b).unsqueeze(1)


def _blend(a: torch.Tensor, b: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """torchvision's ``_blend``: ``factor * a + (1 - factor) * b`` clamped to [0, 1]."""
    f = _col(factor.to(a.dtype))
    return (f * a + (1 - f) * b).clamp_(0, 1)


def brightness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Per-sample ``adjust_brightness``."""
    return (x * _col(factor.to(x.dtype))).clamp_(0, 1)


def contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Per-sample ``adjust_contrast``: blend with each image's mean grey level."""
    return _blend(x, _gray(x).mean(dim=(1, 2, 3), keepdim=True), factor)


def saturation(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Per-sample ``adjust_saturation``: blend with each image's greyscale."""
    return _blend(x, _gray(x), factor)


def hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Per-sample ``adjust_hue`` (``shift`` in turns, [-0.5, 0.5]), through HSV as torchvision."""
    r, g, b = x.unbind(1)
    maxc, _ = x.max(dim=1)
    minc, _ = x.min(dim=1)
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    cr_div = torch.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_div, (maxc - g) / cr_div, (maxc - b) / cr_div
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    hh = torch.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    hh = torch.remainder(hh + shift.to(x.dtype).view(-1, 1, 1), 1.0)
    # HSV -> RGB in closed form (channel n in 5, 3, 1 for R, G, B): the six sectors of
    # torchvision's _hsv2rgb without building them, a third of the memory traffic
    vs, h6 = maxc * s, hh * 6.0
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = torch.remainder(n + h6, 6.0)
        channels.append(maxc - vs * torch.minimum(k, 4.0 - k).clamp(0.0, 1.0))
    return torch.stack(channels, dim=1)


def gaussian_kernels(sigma: torch.Tensor, size: int) -> torch.Tensor:
    """(N, size) normalised 1-D Gaussian kernels, one per sigma (torchvision's sampling)."""
    half = (size - 1) * 0.5
    pos = torch.linspace(-half, half, size, dtype=sigma.dtype, device=sigma.device)
    k = torch.exp(-0.5 * (pos.view(1, -1) / sigma.view(-1, 1)) ** 2)
    return k / k.sum(dim=1, keepdim=True)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, size: int = 5) -> torch.Tensor:
    """Per-sample Gaussian blur (reflect padding): two grouped 1-D convolutions."""
    n, c, h, w = x.shape
    k = gaussian_kernels(sigma.to(x.dtype), size).repeat_interleave(c, dim=0)  # N*C, size
    pad = size // 2
    y = F.pad(x.reshape(1, n * c, h, w), [pad, pad, pad, pad], mode="reflect")
    y = F.conv2d(y, k.view(n * c, 1, 1, size), groups=n * c)
    y = F.conv2d(y, k.view(n * c, 1, size, 1), groups=n * c)
    return y.view(n, c, h, w)


def sharpness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Per-sample ``adjust_sharpness``: blend with a 3x3-smoothed copy (borders kept)."""
    n, c, h, w = x.shape
    kernel = torch.ones(3, 3, dtype=x.dtype, device=x.device)
    kernel[1, 1] = 5.0
    kernel = (kernel / kernel.sum()).expand(c, 1, 3, 3)
    smooth = F.conv2d(x, kernel, groups=c)
    degenerate = x.clone()
    degenerate[..., 1:-1, 1:-1] = smooth
    return _blend(x, degenerate, factor)


def _uniform(n: int, low: float, high: float, g: torch.Generator, device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=g, device=device)


def sample_params(
    names: Sequence[str], n: int, size: int, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """Per-sample parameters for ``names`` on the generator's device; ops not applied to a
    sample get neutral values (factor 1, shift 0; ``blur`` False where no blur)."""
    device, g = generator.device, generator
    out: dict[str, torch.Tensor] = {}
    if "resized_crop" in names:
        area = _uniform(n, *CROP_SCALE, g, device)
        ratio = torch.exp(_uniform(n, math.log(RATIO[0]), math.log(RATIO[1]), g, device))
        cw = (size * torch.sqrt(area * ratio)).clamp(max=size)
        ch = (size * torch.sqrt(area / ratio)).clamp(max=size)
        top = (size - ch) * torch.rand(n, generator=g, device=device)
        left = (size - cw) * torch.rand(n, generator=g, device=device)
        out["boxes"] = torch.stack((top, left, ch, cw), dim=1)
    if "hflip" in names:
        out["flip"] = torch.rand(n, generator=g, device=device) < 0.5
    if "color_jitter" in names:
        on = torch.rand(n, generator=g, device=device) < JITTER_P
        for key in ("brightness", "contrast", "saturation"):
            f = _uniform(n, 1 - JITTER[key], 1 + JITTER[key], g, device)
            out[key] = torch.where(on, f, torch.ones_like(f))
        shift = _uniform(n, -JITTER["hue"], JITTER["hue"], g, device)
        out["hue"] = torch.where(on, shift, torch.zeros_like(shift))
    if "gaussian_blur" in names:
        out["blur"] = torch.rand(n, generator=g, device=device) < BLUR["p"]
        out["sigma"] = _uniform(n, *BLUR["sigma"], g, device)
    if "sharpness" in names:
        on = torch.rand(n, generator=g, device=device) < SHARPNESS["p"]
        f = _uniform(n, 0.0, SHARPNESS["sharpness"], g, device)  # kornia's range (0, s)
        out["sharpness"] = torch.where(on, f, torch.ones_like(f))
    return out


def apply(x: torch.Tensor, params: dict[str, torch.Tensor], size: int) -> torch.Tensor:
    """The ops ``params`` holds, in DevicePipeline's order (geometry first)."""
    n = x.shape[0]
    if "boxes" in params:
        flip = params.get("flip", torch.zeros(n, dtype=torch.bool, device=x.device))
        x = crop_flip(x, params["boxes"], flip, size)
    elif "flip" in params:  # no resampling needed: a mirrored copy where asked
        x = torch.where(_col(params["flip"]), x.flip(-1), x)
    if "brightness" in params:
        x = brightness(x, params["brightness"])
        x = contrast(x, params["contrast"])
        x = saturation(x, params["saturation"])
        x = hue(x, params["hue"])
    if "blur" in params:
        x = torch.where(
            _col(params["blur"]), gaussian_blur(x, params["sigma"], BLUR["kernel_size"][0]), x
        )
    if "sharpness" in params:
        x = sharpness(x, params["sharpness"])
    return x


class BatchedAugment(torch.nn.Module):
    """``names``' augmentations for a whole batch, parameters drawn from ``(seed, epoch)``."""

    def __init__(self, names: Sequence[str], img_size: int) -> None:
        super().__init__()
        self.names, self.img_size = tuple(names), img_size
        self.generator: torch.Generator | None = None

    def seed(self, seed: int, epoch: int, device: torch.device | str = "cpu") -> None:
        """Start the draws of epoch ``epoch`` (the key ``seed_epoch`` uses)."""
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed * 1_000_003 + epoch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.generator is None or self.generator.device != x.device:
            self.seed(0, 0, x.device)
        params = sample_params(self.names, x.shape[0], self.img_size, self.generator)
        return apply(x, params, self.img_size)
