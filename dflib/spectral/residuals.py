"""Residual crops for figures: which images to show (one per class or generator family)
and where to crop them (on the fake's re-synthesised region), with their FFT high-pass
and NPR residuals (:mod:`dflib.spectral.spectra`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dflib.filters import filter_set
from dflib.spectral import spectra

# --------------------------------------------------------------------------- filters


def region_centres(rows: pd.DataFrame, side: int, offsets: np.ndarray | None = None) -> np.ndarray:
    """``(cy, cx)`` per image inside its ``side x side`` crop: the re-synthesised region
    of a fake where the metadata records it (and it lies in the crop), the crop's centre
    otherwise (real images, user data).

    Args:
        rows: metadata rows of the images (``region_cy``, ``region_cx`` if known).
        side: crop side (:func:`stack_images`).
        offsets: ``(top, left)`` of each crop in its image (zeros when ``None``).
    """
    centres = np.full((len(rows), 2), side / 2.0)
    if {"region_cy", "region_cx"} <= set(rows.columns):
        shift = np.zeros((len(rows), 2)) if offsets is None else np.asarray(offsets, float)
        recorded = rows[["region_cy", "region_cx"]].to_numpy(dtype=float) - shift
        ok = ~np.isnan(recorded).any(1) & ((recorded >= 0) & (recorded < side)).all(1)
        centres[ok] = recorded[ok]
    return centres


def example_indices(
    labels: np.ndarray, groups: np.ndarray | None, n: int
) -> tuple[np.ndarray, list[str]]:
    """``n`` real and ``n`` fake images to show, the fakes taken from each family in turn,
    with a title for each ("real", "fake (tconv)")."""
    labels = np.asarray(labels)
    real = np.flatnonzero(labels == 0)[:n]
    fakes = np.flatnonzero(labels == 1)
    if groups is not None and len(fakes):
        fam = np.asarray(groups)[fakes]
        queues = [fakes[fam == f].tolist() for f in sorted(set(fam.tolist()))]
        order = [q[i] for i in range(max(map(len, queues))) for q in queues if i < len(q)]
        fakes = np.asarray(order, dtype=np.int64)
    picks = np.r_[real, fakes[:n]].astype(np.int64)
    titles = [
        "real" if labels[i] == 0 else (f"fake ({groups[i]})" if groups is not None else "fake")
        for i in picks
    ]
    return picks, titles


def residual_examples(
    batch: np.ndarray,
    centres: np.ndarray,
    side: int = 48,
    cutoff: float = 0.5,
    noise_filter: str = "none",
    tol: int = 30,
) -> dict[str, np.ndarray]:
    """Crops of the images and of their high-pass and NPR residuals around ``centres``.

    The residuals are computed on the whole image and cropped afterwards, so the crop's
    own borders add no spectral leakage. Impulse noise dominates any residual of a noisy
    image, so a filter can run first (``noise_filter``, e.g. ``"coherent_noise_filter"``)
    to let the texture underneath show.

    Returns:
        ``{"image": N x s x s x 3 uint8, "highpass": ..., "npr": ...}`` (residuals float32
        in ``[0, 1]`` units), ``s = min(side, S)``; ``image`` is the filtered image.
    """
    size = batch.shape[1]
    side = min(side, size)
    batch = filter_set([noise_filter], tol)[noise_filter](batch)
    residuals = {
        "image": batch,
        "highpass": spectra.fft_highpass(batch, cutoff),
        "npr": spectra.npr_residual(batch),
    }
    tops = np.clip(np.round(centres - side / 2).astype(int), 0, size - side)
    out = {}
    for key, full in residuals.items():
        out[key] = np.stack([full[i, y : y + side, x : x + side] for i, (y, x) in enumerate(tops)])
    return out
