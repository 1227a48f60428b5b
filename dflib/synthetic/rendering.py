"""Rendering one benchmark image: a varied crop of a bundled photograph, the region swap
for fakes (:mod:`dflib.synthetic.fake`) and the salt-and-pepper noise.

Every image is a pure function of ``(config, split, index)``: three independent random
streams (crop, fake, noise) are spawned from that triple, so images can be rendered in
any order, by any number of workers, and re-rendered alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
from PIL import Image

from dflib.synthetic.config import SPLITS, Split, SyntheticConfig, check_split

# Photographs that ship inside scikit-image (no download); grayscale ones get a tint.
_COLOUR_PHOTOS = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
    "immunohistochemistry", "retina", "stereo_motorcycle",
)  # fmt: skip
_GRAY_PHOTOS = ("camera", "moon", "coins", "brick", "grass", "gravel")


@dataclass
class SyntheticSample:
    """One rendered image: the noisy image on disk, its clean copy and the ground truth."""

    noisy: np.ndarray  # HxWx3 uint8, what a detector sees
    clean: np.ndarray  # HxWx3 uint8, before the salt-and-pepper noise
    noise_mask: np.ndarray  # HxWx3 bool, True where a channel was hit by noise
    label: int  # 0 real, 1 fake
    meta: dict[str, Any]


def photo_names() -> tuple[str, ...]:
    """Source photographs (all bundled with scikit-image, none needs a download)."""
    return _COLOUR_PHOTOS + _GRAY_PHOTOS


@cache
def load_photo(name: str) -> np.ndarray:
    """A source photo as uint8, HxWx3 for colour ones and HxW for grayscale ones."""
    if name not in photo_names():
        raise ValueError(f"unknown photo {name!r}; expected one of {photo_names()}")
    from skimage import data

    img = getattr(data, name)()
    if isinstance(img, tuple):  # stereo_motorcycle: (left, right, disparity)
        img = img[0]
    img = np.ascontiguousarray(img, dtype=np.uint8)
    img.setflags(write=False)
    return img


@cache
def _pil_photo(name: str) -> Image.Image:
    return Image.fromarray(load_photo(name))  # converting a 1411 px photo per crop is slow


@lru_cache(maxsize=8)
def labels(split: Split, config: SyntheticConfig) -> np.ndarray:
    """Labels of a split: exactly ``config.n_fakes(split)`` ones, placed by a seeded permutation."""
    n = config.n_images(split)
    rng = np.random.default_rng([config.seed, SPLITS[split], 0x1AB])
    out = np.zeros(n, dtype=np.int64)
    out[rng.permutation(n)[: config.n_fakes(split)]] = 1
    out.setflags(write=False)
    return out


def _rngs(index: int, split: Split, config: SyntheticConfig) -> list[np.random.Generator]:
    """Independent streams for crop, fake and noise: each stage draws without shifting the others."""
    seq = np.random.SeedSequence([config.seed, SPLITS[check_split(split)], int(index)])
    return [np.random.default_rng(s) for s in seq.spawn(3)]


def _real_crop(rng: np.random.Generator, config: SyntheticConfig) -> tuple[np.ndarray, dict]:
    names = photo_names()
    source = names[int(rng.integers(len(names)))]
    photo = load_photo(source)
    h, w = photo.shape[:2]
    side = rng.uniform(*config.crop_scale) * min(h, w)
    x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
    flip = bool(rng.random() < 0.5)
    brightness, contrast = rng.uniform(0.85, 1.15), rng.uniform(0.85, 1.15)
    gains = rng.uniform(0.93, 1.07, 3)
    if photo.ndim == 2:  # grayscale photos get a mild random tint
        gains = gains * rng.uniform(0.8, 1.0, 3)
        gains /= gains.max()
    size = config.image_size
    pil = _pil_photo(source).resize(
        (size, size), Image.Resampling.BILINEAR, box=(x0, y0, x0 + side, y0 + side)
    )
    img = np.asarray(pil)
    if flip:
        img = img[:, ::-1]
    # Contrast about the mean, brightness and per-channel gain are affine per channel, so a
    # 256-entry lookup table per channel applies them (much faster than float arithmetic).
    levels = np.arange(256, dtype=np.float64)
    luts = ((levels - img.mean()) * contrast + img.mean()) * brightness * gains[:, None]
    luts = np.clip(np.rint(luts), 0, 255).astype(np.uint8)
    channels = [img[..., c] if img.ndim == 3 else img for c in range(3)]
    img = np.stack([luts[c][ch] for c, ch in enumerate(channels)], axis=2)
    meta = {
        "source": source, "crop_x": round(float(x0), 2), "crop_y": round(float(y0), 2),
        "crop_size": round(float(side), 2), "flip": int(flip),
        "brightness": round(float(brightness), 4), "contrast": round(float(contrast), 4),
        "gain_r": round(float(gains[0]), 4), "gain_g": round(float(gains[1]), 4),
        "gain_b": round(float(gains[2]), 4),
    }  # fmt: skip
    return img, meta


def render_real(index: int, split: Split, config: SyntheticConfig) -> tuple[np.ndarray, dict]:
    """The untouched real crop behind image ``index`` (for fakes: before the region swap)."""
    return _real_crop(_rngs(index, split, config)[0], config)


def render(index: int, split: Split, config: SyntheticConfig) -> SyntheticSample:
    """Render one image; a pure function of ``(config, split, index)``."""
    from dflib.synthetic.fake import add_noise, make_fake

    n = config.n_images(split)
    if not 0 <= index < n:
        raise IndexError(f"index {index} out of range for the {split} split of {n} images")
    rng_crop, rng_fake, rng_noise = _rngs(index, split, config)
    clean, meta = _real_crop(rng_crop, config)
    label = int(labels(split, config)[index])
    if label:
        clean, fake_meta = make_fake(clean, rng_fake, config)
    else:
        fake_meta = {"family": "", **dict.fromkeys(REGION_FIELDS, math.nan)}
    noisy, mask, noise_meta = add_noise(clean, rng_noise, config)
    meta = {**fake_meta, **noise_meta, **meta}
    return SyntheticSample(noisy=noisy, clean=clean, noise_mask=mask, label=label, meta=meta)


REGION_FIELDS = (
    "region_cx", "region_cy", "region_rx", "region_ry", "region_angle",
    "strength", "feather", "colour_r", "colour_g", "colour_b", "zoom",
)  # fmt: skip
