"""Generator fingerprints in the spectrum: which images belong to which generator family,
each family's mean log-spectrum against real images, its strongest peaks, and its excess
at the frequencies where up-sampling puts periodic peaks.

What each noise filter does to these measurements is in
:mod:`dflib.spectral.filter_effects`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dflib.spectral.profile_probe import REFERENCE


def freq_grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(fy, fx)`` in cycles per pixel of a centred ``H x W`` spectrum (broadcastable)."""
    h, w = shape
    return (np.arange(h) - h // 2)[:, None] / h, (np.arange(w) - w // 2)[None, :] / w


def family_groups(rows: pd.DataFrame) -> np.ndarray | None:
    """Group name per image: ``"real"`` for real images, the generator family for fakes.

    Returns:
        An array of strings, or ``None`` when the metadata has no usable ``family``
        column (user data): the family analysis is then skipped.
    """
    if "family" not in rows or "label" not in rows:
        return None
    family = rows["family"].fillna("").astype(str).str.strip().to_numpy()
    fake = rows["label"].to_numpy() == 1
    if not fake.any() or (family[fake] == "").all():
        return None
    return np.where(fake, np.where(family == "", "unknown", family), REFERENCE).astype(str)


def family_differences(
    means: dict[str, np.ndarray], reference: str = REFERENCE
) -> dict[str, np.ndarray]:
    """Each group's mean log-spectrum minus the reference group's (families only)."""
    if reference not in means:
        raise ValueError(f"no {reference!r} group among {sorted(means)}")
    return {k: v - means[reference] for k, v in means.items() if k != reference}


def spectral_peaks(diff: np.ndarray, k: int = 4, min_freq: float = 0.1) -> pd.DataFrame:
    """The ``k`` strongest local maxima of a centred difference map, away from the centre.

    The spectrum of a real image is point-symmetric, so only one of each ``+-f`` pair is
    listed (the one with ``fx > 0``, or ``fx == 0`` and ``fy > 0``; Nyquist bins of even
    sizes, their own conjugates, as ``-0.5``).

    Args:
        diff: ``S x S`` centred map (e.g. family minus real log-spectrum).
        k: peaks returned.
        min_freq: radius in cycles per pixel below which peaks are ignored (image
            content, not up-sampling, dominates there).

    Returns:
        Columns ``fy``, ``fx`` (cycles per pixel), ``radius`` and ``excess`` (the
        difference in log units), strongest first.
    """
    from scipy.ndimage import maximum_filter

    fy, fx = freq_grid(diff.shape)
    radius = np.sqrt(fy**2 + fx**2)
    h, w = diff.shape
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    # conjugate bin of each bin (even sizes: the -0.5 row/column is its own conjugate);
    # keep the one with the larger (column, row) key: fx > 0 first, self-conjugates kept
    key = cols * h + rows
    half = key >= ((2 * (w // 2) - cols) % w) * h + (2 * (h // 2) - rows) % h
    local = diff == maximum_filter(diff, size=3, mode="wrap")
    keep = local & half & (radius >= min_freq)
    ys, xs = np.nonzero(keep)
    order = np.argsort(-diff[ys, xs])[:k]
    ys, xs = ys[order], xs[order]
    return pd.DataFrame(
        {
            "fy": fy[ys, 0],
            "fx": fx[0, xs],
            "radius": radius[ys, xs],
            "excess": diff[ys, xs],
        }
    )


def grid_frequencies(shape: tuple[int, int], factor: int = 4) -> pd.DataFrame:
    """Frequencies where ``factor``-fold up-sampling puts its periodic peaks.

    An up-sampling stage of stride 2 repeats its kernel every 2 pixels, which puts
    spectral replicas at multiples of 1/2 cycle per pixel; two stages (a 4x decoder) put
    them at multiples of 1/4: ``(fy, fx) = (i, j) / factor`` folded into ``[-0.5, 0.5)``,
    DC excluded, and only one of each conjugate pair ``+-f`` (equal magnitudes for real
    images).

    Returns:
        Columns ``fy``, ``fx`` (cycles per pixel) and ``row``, ``col`` (array indices
        in a centred ``H x W`` spectrum, whose index 0 is ``-0.5`` for even sizes).
    """
    h, w = shape
    seen, rows = set(), []
    for i in range(factor):
        for j in range(factor):
            conj = ((-i) % factor, (-j) % factor)
            if (i, j) == (0, 0) or conj in seen:
                continue
            seen.add((i, j))
            fy = ((i + factor // 2) % factor - factor // 2) / factor
            fx = ((j + factor // 2) % factor - factor // 2) / factor
            r, c = h // 2 + int(np.rint(fy * h)), w // 2 + int(np.rint(fx * w))
            rows.append({"fy": fy, "fx": fx, "row": r % h, "col": c % w})
    return pd.DataFrame(rows)


def grid_contrast(diff: np.ndarray, factor: int = 4, min_freq: float = 0.1) -> float:
    """Excess of a centred difference map at the up-sampling grid over its surroundings.

    Mean of ``diff`` at :func:`grid_frequencies` minus its median over all frequencies
    with radius ``>= min_freq``. The positions are fixed in advance, so unlike the
    strongest peaks of a noisy map this is not biased upwards by picking maxima: near 0
    for a family without periodic traces, clearly positive for a checkerboard.
    """
    grid = grid_frequencies(diff.shape, factor)
    fy, fx = freq_grid(diff.shape)
    background = np.median(diff[np.sqrt(fy**2 + fx**2) >= min_freq])
    return float(diff[grid["row"], grid["col"]].mean() - background)


def family_fingerprints(
    diffs: dict[str, np.ndarray], factor: int = 4, min_freq: float = 0.1
) -> pd.DataFrame:
    """Per family: :func:`grid_contrast` and the excess at each up-sampling grid frequency
    (columns named ``fy,fx``), one row per family."""
    rows = []
    for name, diff in diffs.items():
        grid = grid_frequencies(diff.shape, factor)
        row = {"family": name, "grid_contrast": grid_contrast(diff, factor, min_freq)}
        values = diff[grid["row"], grid["col"]]
        labels = [f"{a:+.2f},{b:+.2f}" for a, b in grid[["fy", "fx"]].to_numpy()]
        row |= dict(zip(labels, values.astype(float).tolist(), strict=True))
        rows.append(row)
    return pd.DataFrame(rows).set_index("family") if rows else pd.DataFrame()


def peak_table(diffs: dict[str, np.ndarray], k: int = 4, min_freq: float = 0.1) -> pd.DataFrame:
    """:func:`spectral_peaks` of each group, stacked with a ``group`` column."""
    frames = [spectral_peaks(d, k, min_freq).assign(group=name) for name, d in diffs.items()]
    if not frames:
        return pd.DataFrame(columns=["group", "fy", "fx", "radius", "excess"])
    return pd.concat(frames, ignore_index=True)[["group", "fy", "fx", "radius", "excess"]]
