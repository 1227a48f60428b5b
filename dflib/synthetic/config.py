"""Embedded synthetic benchmark: a deterministic stand-in for the competition data.

The competition images are not public, so dflib renders a data set with the same
statistics (SPEC.md section 1): 50,000 training images at a 41,500 / 8,500 real / fake
ratio, a 10,000-image test set with the same share, 256x256 RGB, salt-and-pepper noise
near (not at) 0 and 255 that hits channels independently. Everything is offline:

- **real** images are varied crops (scale, position, flip, mild colour and brightness
  changes) of the photographs bundled with scikit-image;
- **fakes** are real crops in which a soft, face-like ellipse has been re-synthesised by
  a generator simulator (:mod:`dflib.generator_sim`), so the evidence lives in fine
  detail: up-sampling traces of the decoder and blending seams (feathered mask, slight
  colour and scale mismatch) where the region meets the untouched image;
- **noise** is added to every image afterwards; the clean copy is kept for scoring filters.

Every image is a pure function of ``(seed, split, index)``, so generation is parallel,
resumable and identical with any number of workers. Writing to disk lives in
:mod:`dflib.synthetic_io` (:func:`ensure_dataset`, re-exported here).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

FORMAT_VERSION = 2
SPLITS: dict[str, int] = {"train": 0, "test": 1}  # split codes that enter the seed
Split = Literal["train", "test"]

# Photographs that ship inside scikit-image (no download); grayscale ones get a tint.
_COLOUR_PHOTOS = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
    "immunohistochemistry", "retina", "stereo_motorcycle",
)  # fmt: skip
_GRAY_PHOTOS = ("camera", "moon", "coins", "brick", "grass", "gravel")


@dataclass(frozen=True)
class SyntheticConfig:
    """Every setting that shapes the benchmark; its :attr:`key` names the cache folder.

    Ranges are ``(low, high)`` and drawn uniformly per image. The test split keeps the
    training fake share (8,500 / 50,000 = 17% gives 1,700 of 10,000).
    """

    n_train: int = 50_000
    n_fake_train: int = 8_500
    n_test: int = 10_000
    image_size: int = 256
    seed: int = 42
    noise_density: tuple[float, float] = (0.01, 0.05)  # share of pixel-channels hit
    salt: tuple[int, int] = (245, 254)  # "near 255": never 255 itself
    pepper: tuple[int, int] = (1, 10)  # "near 0": never 0 itself
    crop_scale: tuple[float, float] = (0.3, 1.0)  # crop side / shorter photo side
    families: tuple[str, ...] = ("tconv", "nearest", "bilinear")
    # A face fills much of a face crop: semi-axis rx / image size (ry = rx * aspect).
    region_radius: tuple[float, float] = (0.2, 0.35)
    region_aspect: tuple[float, float] = (1.1, 1.35)  # ry / rx, taller like a face
    region_angle: tuple[float, float] = (-30.0, 30.0)  # degrees
    # Artefact gain: the fine detail (above a 2 px Gaussian) of the simulator's change to
    # the region is multiplied by it, so 1 is the plain re-synthesis and more amplifies
    # its up-sampling traces. Calibrated (reports/benchmark_calibration.md) so that small
    # CPU probes find most fakes, but not all.
    strength: tuple[float, float] = (2.5, 6.0)
    feather: tuple[float, float] = (0.15, 0.35)  # soft edge width, share of the radius
    colour_mismatch: float = 0.04  # max per-channel gain error of the swapped region
    scale_mismatch: tuple[float, float] = (1.0, 1.06)  # zoom of the swapped region

    def __post_init__(self) -> None:
        if not 0 <= self.n_fake_train <= self.n_train:
            raise ValueError(
                f"n_fake_train={self.n_fake_train} must be in [0, n_train={self.n_train}]"
            )
        if self.image_size < 16:
            raise ValueError(f"image_size={self.image_size} is too small; use at least 16")
        unknown = set(self.families) - {"tconv", "nearest", "bilinear"}
        if unknown or not self.families:
            raise ValueError(f"families={self.families}: use tconv, nearest and/or bilinear")
        if not (0 < self.pepper[0] <= self.pepper[1] < self.salt[0] <= self.salt[1] < 255):
            raise ValueError(
                f"pepper={self.pepper}, salt={self.salt}: need 0 < pepper < salt < 255"
            )

    @property
    def n_fake_test(self) -> int:
        """Fakes in the test split: the training share, rounded."""
        return round(self.n_test * self.n_fake_train / self.n_train) if self.n_train else 0

    def n_images(self, split: Split) -> int:
        """Images in a split."""
        return {"train": self.n_train, "test": self.n_test}[_check_split(split)]

    def n_fakes(self, split: Split) -> int:
        """Fakes in a split."""
        return {"train": self.n_fake_train, "test": self.n_fake_test}[_check_split(split)]

    def to_dict(self) -> dict[str, Any]:
        """Settings as JSON-ready values (tuples become lists)."""
        return dataclasses.asdict(self)

    @property
    def key(self) -> str:
        """Short stable name of these settings, the format and the simulator weights."""
        from dflib.generator_sim import weights_digest

        blob = json.dumps(
            {"format": FORMAT_VERSION, "config": self.to_dict(), "weights": weights_digest()},
            sort_keys=True,
        )
        digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
        return f"{self.image_size}px-{self.n_train}-{digest}"


PRESETS: dict[str, SyntheticConfig] = {
    "full": SyntheticConfig(),
    "smoke": SyntheticConfig(n_train=2_000, n_fake_train=340, n_test=400, image_size=64),
    "tiny": SyntheticConfig(n_train=200, n_fake_train=34, n_test=40, image_size=64),
}


def get_config(size: str | SyntheticConfig = "full", **overrides: Any) -> SyntheticConfig:
    """A preset (``"full"``, ``"smoke"``, ``"tiny"``) or a config, with overrides applied.

    Overriding ``n_train`` alone keeps the preset's fake share (``n_fake_train`` scales),
    because the 17% ratio is part of what the benchmark reproduces.
    """
    if isinstance(size, SyntheticConfig):
        base = size
    elif size in PRESETS:
        base = PRESETS[size]
    else:
        raise ValueError(f"unknown synthetic size {size!r}; expected one of {sorted(PRESETS)}")
    if "n_train" in overrides and "n_fake_train" not in overrides and base.n_train:
        overrides["n_fake_train"] = round(overrides["n_train"] * base.n_fake_train / base.n_train)
    for name in (
        "noise_density",
        "salt",
        "pepper",
        "families",
        "strength",
        "crop_scale",
        "region_radius",
        "region_aspect",
        "region_angle",
        "feather",
        "scale_mismatch",
    ):
        if name in overrides:
            overrides[name] = tuple(overrides[name])  # lists from JSON/papermill
    return dataclasses.replace(base, **overrides) if overrides else base


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


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


def _rngs(index: int, split: Split, config: SyntheticConfig) -> list[np.random.Generator]:
    """Independent streams for crop, fake and noise: each stage draws without shifting the others."""
    seq = np.random.SeedSequence([config.seed, SPLITS[_check_split(split)], int(index)])
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
    from dflib.synthetic_fake import add_noise, make_fake

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


def ensure_dataset(
    size: str | SyntheticConfig = "full",
    root: Path | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Folder of the benchmark for ``size``, generated once and reused (see :mod:`dflib.synthetic_io`)."""
    from dflib.synthetic_io import ensure_dataset as _ensure

    return _ensure(size, root=root, workers=workers, progress=progress)
