"""The two image-level steps of the synthetic benchmark: the region swap and the noise.

Kept apart from :mod:`dflib.synthetic.rendering` so each stays small; both take their
own random stream, so the real crop behind a fake can be re-rendered alone (tests rely
on that).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from scipy import ndimage

from dflib.synthetic.generator_sim import resynthesise

if TYPE_CHECKING:
    from dflib.synthetic.config import SyntheticConfig

_CONTEXT = 4  # pixels of untouched context around the region fed to the simulator
_SMOOTH_SIGMA = 2.0  # pixels: below this scale a change counts as fine detail


def region_mask(
    shape: tuple[int, int],
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    angle: float,
    feather: float,
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """Soft elliptical mask: 1 in the core, a smoothstep edge, exactly 0 outside the ellipse.

    ``feather`` is the width of the soft edge as a share of the radius; ``origin`` is the
    ``(x0, y0)`` of the window the mask covers, so a patch needs no full-size grid.
    """
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xs + origin[0] - cx, ys + origin[1] - cy
    th = math.radians(angle)
    u = dx * math.cos(th) + dy * math.sin(th)
    v = -dx * math.sin(th) + dy * math.cos(th)
    d = np.sqrt((u / rx) ** 2 + (v / ry) ** 2)
    t = np.clip((1.0 - d) / max(feather, 1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def make_fake(
    real: np.ndarray, rng: np.random.Generator, config: SyntheticConfig
) -> tuple[np.ndarray, dict[str, Any]]:
    """Re-synthesise a face-like ellipse of ``real`` with a generator simulator.

    What a detector can find, all local: the decoder's up-sampling traces (scaled by the
    strength), a slightly mis-scaled and mis-coloured region (a face swap never aligns
    perfectly) and the feathered seam between the two. Pixels outside the ellipse are
    bit-for-bit those of ``real``.
    """
    size = real.shape[0]
    family = config.families[int(rng.integers(len(config.families)))]
    rx = float(rng.uniform(*config.region_radius)) * size
    ry = rx * float(rng.uniform(*config.region_aspect))
    angle = float(rng.uniform(*config.region_angle))
    cx, cy = (float(v) for v in rng.uniform(0.3, 0.7, 2) * size)
    strength = float(rng.uniform(*config.strength))
    feather = float(rng.uniform(*config.feather))
    colour = [float(v) for v in 1.0 + rng.uniform(-1, 1, 3) * config.colour_mismatch]
    zoom = float(rng.uniform(*config.scale_mismatch))

    th = math.radians(angle)
    ex = math.hypot(rx * math.cos(th), ry * math.sin(th))
    ey = math.hypot(rx * math.sin(th), ry * math.cos(th))
    x0, x1 = max(0, int(cx - ex) - _CONTEXT), min(size, math.ceil(cx + ex) + _CONTEXT + 1)
    y0, y1 = max(0, int(cy - ey) - _CONTEXT), min(size, math.ceil(cy + ey) + _CONTEXT + 1)
    patch_u8 = real[y0:y1, x0:x1]
    h, w = patch_u8.shape[:2]

    # Scale mismatch: zoom about the region centre (it stays put, the content grows).
    pcx, pcy = cx - x0, cy - y0
    box = (pcx - pcx / zoom, pcy - pcy / zoom, pcx + (w - pcx) / zoom, pcy + (h - pcy) / zoom)
    zoomed = Image.fromarray(np.ascontiguousarray(patch_u8)).resize(
        (w, h), Image.Resampling.BILINEAR, box=box
    )
    zoomed = np.asarray(zoomed, dtype=np.float64) / 255.0
    synth = resynthesise(zoomed, family)
    # The gain applies to the fine detail of the simulator's change only: its smooth part
    # (the auto-encoder's slight colour and brightness bias) stays at gain 1, so a strong
    # fake shows amplified up-sampling traces, not a colour cast.
    residual = synth - zoomed
    smooth = ndimage.gaussian_filter(residual, sigma=(_SMOOTH_SIGMA, _SMOOTH_SIGMA, 0))
    target = (zoomed + smooth + strength * (residual - smooth)) * np.asarray(colour)

    patch = patch_u8.astype(np.float64) / 255.0
    m = region_mask((h, w), cx, cy, rx, ry, angle, feather, origin=(x0, y0))[..., None]
    blended = patch + m * (target - patch)  # m == 0 keeps the real pixel exactly
    fake = real.copy()
    fake[y0:y1, x0:x1] = np.clip(np.rint(blended * 255.0), 0, 255).astype(np.uint8)
    meta = {
        "family": family, "region_cx": round(cx, 2), "region_cy": round(cy, 2),
        "region_rx": round(rx, 2), "region_ry": round(ry, 2), "region_angle": round(angle, 2),
        "strength": round(strength, 4), "feather": round(feather, 4),
        "colour_r": round(colour[0], 4), "colour_g": round(colour[1], 4),
        "colour_b": round(colour[2], 4), "zoom": round(zoom, 4),
    }  # fmt: skip
    return fake, meta


def add_noise(
    clean: np.ndarray, rng: np.random.Generator, config: SyntheticConfig
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Salt-and-pepper noise with tolerance, each channel hit independently.

    Per image: a density from ``config.noise_density`` and a salt / pepper level from
    ``config.salt`` / ``config.pepper``; per hit a jitter of +-2 levels, clipped to those
    ranges, so values cluster near 250 and 5 but never reach 255 or 0 (`docs/writeups.md#task-and-data`).
    """
    density = float(rng.uniform(*config.noise_density))
    u = rng.random(clean.shape, dtype=np.float32)
    hit = u < density
    is_salt = u[hit] < density / 2
    salt_value = int(rng.integers(config.salt[0], config.salt[1] + 1))
    pepper_value = int(rng.integers(config.pepper[0], config.pepper[1] + 1))
    jitter = rng.integers(-2, 3, size=is_salt.shape)
    values = np.where(
        is_salt,
        np.clip(salt_value + jitter, *config.salt),
        np.clip(pepper_value + jitter, *config.pepper),
    )
    noisy = clean.copy()
    noisy[hit] = values.astype(np.uint8)
    meta = {
        "noise_density": round(density, 5),
        "salt_value": salt_value,
        "pepper_value": pepper_value,
    }
    return noisy, hit, meta
