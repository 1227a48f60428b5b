"""Each batched augmentation equals torchvision's functional op, image by image, at the
same parameters; the sampler draws the recipes' ranges, reproducibly from (seed, epoch)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import torchvision.transforms.v2.functional as TF

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _bench_module(name: str):
    """A module of bench/ (a folder of scripts, not a package), loaded from its file."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


B = _bench_module("batched_augment")

ATOL = 1e-5  # float32 arithmetic in another order; a wrong formula is off by > 1e-2


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 24, 24, generator=g)
    x[1, :, :4] = 0.5  # grey rows: the HSV formulas' equal-channel branch
    return x


def per_image(op, x: torch.Tensor, values) -> torch.Tensor:
    return torch.stack([op(img, v) for img, v in zip(x, values, strict=True)])


@pytest.mark.parametrize(
    ("batched", "library", "values"),
    [
        (B.brightness, TF.adjust_brightness, [0.8, 1.0, 1.2, 1.5]),
        (B.contrast, TF.adjust_contrast, [0.8, 1.0, 1.2, 0.0]),
        (B.saturation, TF.adjust_saturation, [0.8, 1.0, 1.2, 0.0]),
        (B.hue, TF.adjust_hue, [-0.02, 0.0, 0.02, 0.4]),
        (B.sharpness, TF.adjust_sharpness, [0.0, 0.3, 1.0, 2.0]),
    ],
)
def test_colour_and_sharpness_match_torchvision(images, batched, library, values):
    got = batched(images, torch.tensor(values))
    want = per_image(lambda img, v: library(img, v), images, values)
    torch.testing.assert_close(got, want, atol=ATOL, rtol=0)


def test_gaussian_blur_matches_torchvision(images):
    sigmas = [0.1, 0.7, 1.3, 2.0]
    got = B.gaussian_blur(images, torch.tensor(sigmas), 5)
    want = per_image(lambda img, s: TF.gaussian_blur(img, [5, 5], [s, s]), images, sigmas)
    torch.testing.assert_close(got, want, atol=ATOL, rtol=0)


def test_crop_flip_matches_resized_crop_and_hflip(images):
    """Integer boxes upscaled back to 24 px: torchvision crops then resizes, so pixels on
    the crop's edge read the clamped crop where grid_sample reads the image's next pixel;
    the comparison leaves the output's one-pixel border out and is exact elsewhere."""
    boxes = [(0, 0, 24, 24), (2, 3, 20, 21), (4, 0, 18, 24), (1, 5, 22, 19)]
    flips = [False, True, False, True]
    got = B.crop_flip(images, torch.tensor(boxes), torch.tensor(flips), 24)
    want = []
    for img, (top, left, h, w), flip in zip(images, boxes, flips, strict=True):
        out = TF.resized_crop(img, top, left, h, w, [24, 24], antialias=False)
        want.append(TF.horizontal_flip(out) if flip else out)
    want = torch.stack(want)
    torch.testing.assert_close(got[0], want[0], atol=ATOL, rtol=0)  # the whole image: all of it
    torch.testing.assert_close(got[..., 1:-1, 1:-1], want[..., 1:-1, 1:-1], atol=1e-4, rtol=0)
    flipped = B.apply(images, {"flip": torch.tensor(flips)}, 24)  # flip alone: a mirror
    want = torch.stack(
        [TF.horizontal_flip(i) if f else i for i, f in zip(images, flips, strict=True)]
    )
    assert torch.equal(flipped, want)


def test_sampler_draws_the_recipe_ranges_reproducibly():
    names = ("resized_crop", "hflip", "color_jitter", "gaussian_blur", "sharpness")
    aug = B.BatchedAugment(names, 32)
    aug.seed(42, 3)
    p = B.sample_params(names, 512, 32, aug.generator)
    aug.seed(42, 3)
    again = B.sample_params(names, 512, 32, aug.generator)
    assert all(torch.equal(p[k], again[k]) for k in p)
    top, left, h, w = p["boxes"].unbind(1)
    area = h * w / 32**2
    assert area.min() >= 0.8 * 3 / 4 - 1e-6 and area.max() <= 1 + 1e-6  # clamped at the edge
    assert (top >= 0).all() and (top + h <= 32 + 1e-4).all() and (left + w <= 32 + 1e-4).all()
    assert 0.4 < p["flip"].float().mean() < 0.6 and 0.2 < p["blur"].float().mean() < 0.4
    assert ((p["brightness"] - 1).abs() <= 0.2 + 1e-6).all() and (p["hue"].abs() <= 0.02).all()
    assert 0.1 < (p["brightness"] == 1).float().mean() < 0.3  # 1 - ColorJitter's p=0.8
    out = aug(torch.rand(8, 3, 32, 32))
    assert out.shape == (8, 3, 32, 32) and out.min() >= 0 and out.max() <= 1
