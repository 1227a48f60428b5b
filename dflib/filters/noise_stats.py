"""Salt-and-pepper statistics for the EDA: spikes near 0/255, density, single-channel
hits, and the tolerance trade-off.

The competition's impulse noise is not exactly 0/255 but near it (about 5 and 250) and
often hits one channel only, so the filter's tolerance ``tol`` (a value is flagged when
``v <= tol or v >= 255 - tol``) decides what is repaired. Too small misses noise; too
large also flags genuinely dark or bright pixels. With the benchmark's clean copies the
two error kinds can be counted exactly, which is what :func:`tolerance_sweep` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def flag_values(images: np.ndarray, tol: int) -> np.ndarray:
    """Per-channel flags ``v <= tol or v >= 255 - tol`` (``docs/writeups.md#noise-filters``), same shape as ``images``."""
    images = np.asarray(images)
    return (images <= tol) | (images >= 255 - tol)


def channel_histograms(images) -> np.ndarray:
    """Value counts per channel, a ``256 x 3`` array, over HxWx3 uint8 images of any sizes."""
    hist = np.zeros((256, 3), dtype=np.int64)
    for image in images:
        flat = np.asarray(image, dtype=np.uint8).reshape(-1, 3)
        hist += np.stack([np.bincount(flat[:, c], minlength=256) for c in range(3)], axis=1)
    return hist


def noise_density(images, tol: int = 12) -> np.ndarray:
    """Share of flagged channel values per image: an estimate of the noise density that
    counts genuine near-black/near-white values too (so it is an upper bound)."""
    return np.array([flag_values(image, tol).mean() for image in images])


def single_channel_share(masks) -> float:
    """Among noisy pixels (any channel True in the HxWx3 ``masks``), the share hit in
    exactly one channel: the colour speckle a per-channel filter leaves behind."""
    per_pixel = np.concatenate([np.asarray(m, dtype=bool).sum(axis=-1).ravel() for m in masks])
    noisy = per_pixel > 0
    return float((per_pixel[noisy] == 1).mean()) if noisy.any() else 0.0


def estimate_noise_truth(images, tol: int = 12, jump: int = 60) -> list[np.ndarray]:
    """Noise positions guessed without a clean copy (real data): a value in the spike band
    (``<= tol`` or ``>= 255 - tol``) that also differs by more than ``jump`` from the 3x3
    median of its channel, i.e. an isolated impulse rather than a dark or bright area."""
    from dflib.filters.named import global_median

    out = []
    for image in images:
        image = np.asarray(image, dtype=np.uint8)
        deviation = np.abs(image.astype(np.int16) - global_median(image).astype(np.int16))
        out.append(flag_values(image, tol) & (deviation > jump))
    return out


def noise_values(images, truth) -> pd.DataFrame:
    """Summary of the values noise put in, split into pepper (< 128) and salt (>= 128):
    count, min, mean, max, and how many sit at exactly 0 or 255."""
    values = np.concatenate(
        [np.asarray(x)[np.asarray(t, dtype=bool)] for x, t in zip(images, truth, strict=True)]
    )
    frame = pd.DataFrame(
        {"value": values.astype(int), "kind": np.where(values < 128, "pepper", "salt")}
    )
    out = frame.groupby("kind")["value"].agg(["count", "min", "mean", "max"])
    out["at_0_or_255"] = frame.groupby("kind")["value"].apply(
        lambda v: int(((v == 0) | (v == 255)).sum())
    )
    return out


def tolerance_sweep(noisy: np.ndarray, truth: np.ndarray, tols) -> pd.DataFrame:
    """Score each tolerance against the true noise positions.

    Args:
        noisy: HxWx3 uint8 images as stored (a stacked array or a list).
        truth: matching boolean arrays, True where a channel value was replaced by noise.
        tols: tolerances to try.

    Returns:
        One row per ``tol``: ``noise_caught`` (share of true noise values flagged) and
        ``genuine_flagged`` (share of genuine values flagged, which a median would then
        alter), per channel value; ``pixel_noise_caught`` / ``pixel_genuine_flagged``
        for the coherent (OR over channels) mask, which repairs whole pixels.
    """
    noisy = np.concatenate([np.asarray(x).reshape(-1, 3) for x in noisy])
    truth = np.concatenate([np.asarray(x, dtype=bool).reshape(-1, 3) for x in truth])
    truth_pixel = truth.any(axis=-1)
    rows = []
    for tol in tols:
        flags = flag_values(noisy, int(tol))
        flags_pixel = flags.any(axis=-1)
        rows.append(
            {
                "tol": int(tol),
                "noise_caught": flags[truth].mean(),
                "genuine_flagged": flags[~truth].mean(),
                "pixel_noise_caught": flags_pixel[truth_pixel].mean(),
                "pixel_genuine_flagged": flags_pixel[~truth_pixel].mean(),
            }
        )
    return pd.DataFrame(rows)


def recommend_tolerance(sweep: pd.DataFrame, min_caught: float = 0.995) -> int:
    """The smallest tolerance whose coherent mask catches ``min_caught`` of the noisy
    pixels: every step beyond it only flags more genuine pixels."""
    enough = sweep[sweep["pixel_noise_caught"] >= min_caught]
    if enough.empty:
        return int(sweep.loc[sweep["pixel_noise_caught"].idxmax(), "tol"])
    return int(enough["tol"].min())


def synthetic_ground_truth(root: str | Path, ids) -> tuple[np.ndarray, np.ndarray]:
    """Clean copies and true noise masks of benchmark images, re-rendered from their ids.

    Every benchmark image is a pure function of (settings, split, index), so the clean
    copy need not be stored. Raises ``ValueError`` for a folder that is not a benchmark.
    """
    from dflib import synthetic

    meta_file = Path(root) / "dataset.json"
    if not meta_file.is_file():
        raise ValueError(
            f"{root} is not a synthetic benchmark folder (no dataset.json): no clean copies exist"
        )
    config = synthetic.get_config("full", **json.loads(meta_file.read_text())["config"])
    cleans, masks = [], []
    for image_id in ids:
        split, index = str(image_id).rsplit("_", 1)
        sample = synthetic.render(int(index), split, config)
        cleans.append(sample.clean)
        masks.append(sample.noise_mask)
    return np.stack(cleans), np.stack(masks)
