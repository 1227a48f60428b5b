"""Settings of the embedded benchmark: :class:`SyntheticConfig`, its presets and the
format version that enters every cache key.

Kept in its own module (no rendering, no writing) so that the rendering, the fake and
the writing modules all import it and none of them imports another in a circle.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

FORMAT_VERSION = 2
SPLITS: dict[str, int] = {"train": 0, "test": 1}  # split codes that enter the seed
Split = Literal["train", "test"]


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
        return {"train": self.n_train, "test": self.n_test}[check_split(split)]

    def n_fakes(self, split: Split) -> int:
        """Fakes in a split."""
        return {"train": self.n_fake_train, "test": self.n_fake_test}[check_split(split)]

    def to_dict(self) -> dict[str, Any]:
        """Settings as JSON-ready values (tuples become lists)."""
        return dataclasses.asdict(self)

    @property
    def key(self) -> str:
        """Short stable name of these settings, the format and the simulator weights."""
        from dflib.synthetic.generator_sim import weights_digest

        blob = json.dumps(
            {"format": FORMAT_VERSION, "config": self.to_dict(), "weights": weights_digest()},
            sort_keys=True,
        )
        digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
        return f"{self.image_size}px-{self.n_train}-{digest}"


PRESETS: dict[str, SyntheticConfig] = {
    "full": SyntheticConfig(),
    # `make demo` and the CPU training table: 1/8 of the full set, generated at 64 px so that a
    # CPU trains at the native resolution (resizing would blur the generator's fine traces)
    "demo": SyntheticConfig(n_train=6_000, n_fake_train=1_020, n_test=1_200, image_size=64),
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


def check_split(split: str) -> str:
    """``split`` itself if it is ``"train"`` or ``"test"``; a ``ValueError`` otherwise."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split
