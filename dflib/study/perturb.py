"""What happens to images after they are made: the perturbations of the robustness study.

Every detector benchmark asks how a detector survives post-processing (CNNDetection's
blur + JPEG study, SIDBench's JPEG 95 / 90 / 50 / 30 and blur sigma 2 / 4 grid). Each
function here takes one ``H x W x 3`` uint8 image and a strength and returns a new uint8
image of the same shape, through a well-kept library:

- ``jpeg``: PIL's JPEG encoder at ``quality`` (1-95), decoded back;
- ``resize``: down to ``scale`` x the side and back up, both with PIL's bicubic filter;
- ``blur``: torchvision's Gaussian blur at ``sigma`` (kernel ``2 * ceil(3 sigma) + 1``);
- ``salt_pepper`` / ``salt_pepper_far``: salt-and-pepper noise of ``density`` (share of
  pixel-channels hit) made exactly as the benchmark makes its own
  (:func:`dflib.synthetic.fake.add_noise`): values near 0 / 255 (1-10, 245-254) or
  farther from them than the filter's tolerance (e.g. 15-40, 215-240);
- ``brightness`` / ``contrast``: torchvision's ``adjust_brightness`` / ``adjust_contrast``
  by ``factor`` (1 is the identity).

Noise is drawn from ``numpy.random.default_rng([seed, index])``: an image's noise depends
on the seed and its position, not on which other images are perturbed with it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as tvf

from dflib.synthetic.config import SyntheticConfig
from dflib.synthetic.fake import add_noise

NEAR_PEPPER = (1, 10)  # the benchmark's own noise values (dflib.synthetic.config)
NEAR_SALT = (245, 254)


@dataclass(frozen=True)
class Condition:
    """One perturbation at one strength (``kind == "clean"``: the images as they are)."""

    kind: str
    strength: float = 0.0
    pepper: tuple[int, int] = NEAR_PEPPER  # noise values (salt-and-pepper kinds only)
    salt: tuple[int, int] = NEAR_SALT

    @property
    def name(self) -> str:
        """A folder-safe name, e.g. ``jpeg-75`` or ``salt_pepper_far-0.05``."""
        return "clean" if self.kind == "clean" else f"{self.kind}-{self.strength:g}"


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)


def _array(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.permute(1, 2, 0).numpy(), dtype=np.uint8)


def jpeg(image: np.ndarray, quality: float) -> np.ndarray:
    """Encode as JPEG at ``quality`` with PIL (4:2:0 chroma, its default) and decode."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8).copy()


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    """Down to ``scale`` x the side (at least 1 px) and back up, bicubic both ways."""
    if scale >= 1:
        return image.copy()
    h, w = image.shape[:2]
    small = Image.fromarray(image).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BICUBIC
    )
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC), dtype=np.uint8).copy()


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur at ``sigma`` px (torchvision); the kernel is capped below the side."""
    if sigma <= 0:
        return image.copy()
    side = min(image.shape[:2])
    kernel = min(2 * math.ceil(3 * sigma) + 1, side - 1 if side % 2 == 0 else side)
    return _array(tvf.gaussian_blur(_tensor(image), [kernel, kernel], [float(sigma)] * 2))


def salt_pepper(
    image: np.ndarray,
    density: float,
    rng: np.random.Generator,
    pepper: tuple[int, int] = NEAR_PEPPER,
    salt: tuple[int, int] = NEAR_SALT,
) -> np.ndarray:
    """Salt-and-pepper noise of ``density`` with values in ``pepper`` / ``salt``, made by
    the benchmark's own :func:`~dflib.synthetic.fake.add_noise` (each channel hit alone)."""
    if density <= 0:
        return image.copy()
    config = SyntheticConfig(noise_density=(density, density), pepper=pepper, salt=salt)
    return add_noise(image, rng, config)[0]


def brightness(image: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's ``adjust_brightness`` (multiply by ``factor``, clipped)."""
    return _array(tvf.adjust_brightness(_tensor(image), float(factor)))


def contrast(image: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's ``adjust_contrast`` (blend with the mean grey by ``factor``)."""
    return _array(tvf.adjust_contrast(_tensor(image), float(factor)))


def apply(image: np.ndarray, condition: Condition, seed: int = 42, index: int = 0) -> np.ndarray:
    """``image`` after ``condition``: a new uint8 array of the same shape.

    Args:
        image: ``H x W x 3`` uint8.
        condition: the perturbation and its strength.
        seed, index: the noise's random stream (``default_rng([seed, index])``).
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 uint8 image, got {image.dtype} {image.shape}")
    kind, s = condition.kind, condition.strength
    if kind == "clean":
        return image.copy()
    if kind == "jpeg":
        return jpeg(image, s)
    if kind == "resize":
        return resize(image, s)
    if kind == "blur":
        return blur(image, s)
    if kind in ("salt_pepper", "salt_pepper_far"):
        rng = np.random.default_rng([seed, index])
        return salt_pepper(image, s, rng, condition.pepper, condition.salt)
    if kind == "brightness":
        return brightness(image, s)
    if kind == "contrast":
        return contrast(image, s)
    raise ValueError(f"unknown perturbation {kind!r}; known: {', '.join(KINDS)}")


KINDS = ("jpeg", "resize", "blur", "salt_pepper", "salt_pepper_far", "brightness", "contrast")


def numbers(value: str | list | tuple) -> list[float]:
    """``"95,90,75"`` (a notebook parameter) or a list as floats; ``""`` is none."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [float(v) for v in items if str(v).strip()]


def value_range(value: str | tuple[int, int]) -> tuple[int, int]:
    """``"15,40"`` or ``(15, 40)`` as an ``(low, high)`` pair of ints."""
    low, high = (int(v) for v in numbers(value))
    return low, high


def grid(
    jpeg_qualities="95,90,75,50,30",
    resize_scales="0.75,0.5",
    blur_sigmas="0.5,1,2,4",
    noise_densities="0.01,0.05,0.1",
    far_pepper="15,40",
    far_salt="215,240",
    brightness_factors="0.7,1.3",
    contrast_factors="0.7,1.3",
) -> list[Condition]:
    """``clean`` and every perturbation at every strength, in the order given (a kind
    given no strengths is left out). Noise densities apply to both noise kinds."""
    far = {"pepper": value_range(far_pepper), "salt": value_range(far_salt)}
    kinds = [("jpeg", jpeg_qualities, {}), ("resize", resize_scales, {}),
             ("blur", blur_sigmas, {}), ("salt_pepper", noise_densities, {}),
             ("salt_pepper_far", noise_densities, far),
             ("brightness", brightness_factors, {}), ("contrast", contrast_factors, {})]  # fmt: skip
    conditions = [Condition("clean")]
    for kind, strengths, extra in kinds:
        conditions += [Condition(kind, s, **extra) for s in numbers(strengths)]
    return conditions
