"""Figures of the spectral notebook: spectra, difference maps, profiles, filter effects
(the residual crops and the profile probe are in :mod:`dflib.viz.residuals`).

Kept apart from :mod:`dflib.viz.plotting` (which stays the home of the common style and
of :func:`~dflib.viz.plotting.save`) so that each file stays small. Conventions every
figure here follows, so that panels can be compared at a glance:

- spectra are centred (DC in the middle) and drawn with axes in cycles per pixel
  (0.5 is the Nyquist frequency along an axis), ``fy`` up;
- log-spectra use one shared colour scale per figure, differences a symmetric diverging
  scale (red: more energy than the reference, blue: less) shared by every panel it
  compares, clipped at a high percentile so that one outlier bin does not wash the rest out;
- 1-D profiles are plotted against frequency in cycles per pixel, with the high band shaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dflib.spectral.spectra import azimuthal_profile
from dflib.viz.plotting import CLASS_COLOURS, CLASS_NAMES  # importing it applies the style

SPECTRUM_CMAP = "magma"
DIFF_CMAP = "RdBu_r"
CLIP_PERCENTILE = 99.5


def _extent(shape: tuple[int, int]) -> tuple[float, float, float, float]:
    """imshow extent of a centred spectrum in cycles per pixel (pixel edges)."""
    h, w = shape
    return (
        (-(w // 2) - 0.5) / w,
        (w - 1 - w // 2 + 0.5) / w,
        (-(h // 2) - 0.5) / h,
        (h - 1 - h // 2 + 0.5) / h,
    )


def _symmetric_limit(maps: Sequence[np.ndarray]) -> float:
    """Shared symmetric colour limit, ignoring the DC bin (content, not fingerprints)."""
    values = []
    for m in maps:
        a = np.abs(np.asarray(m, dtype=np.float64)).copy()
        a[a.shape[0] // 2, a.shape[1] // 2] = 0.0
        values.append(a.ravel())
    limit = float(np.percentile(np.concatenate(values), CLIP_PERCENTILE)) if values else 1.0
    return limit if limit > 0 else 1.0


def _spectrum_axes(ax: plt.Axes, title: str) -> None:
    ax.set(title=title, xlabel="fx (cycles/pixel)", ylabel="fy (cycles/pixel)")
    ax.grid(False)


def shade_band(ax: plt.Axes, high_band: float | None) -> None:
    """Shade the high band (``high_band`` to Nyquist) of a frequency axis."""
    if high_band is not None:
        ax.axvspan(high_band, 0.5, color="0.85", alpha=0.5, lw=0, label="high band")


def class_spectra(
    mean_real: np.ndarray, mean_fake: np.ndarray, names: Sequence[str] = CLASS_NAMES
) -> plt.Figure:
    """Mean grey log-spectrum of each class on one scale, and fake minus real.

    Returns:
        A figure with 3 image panels and 2 colour bars (shared by the two means; the
        difference has its own symmetric one).
    """
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    lo = float(min(np.percentile(mean_real, 0.5), np.percentile(mean_fake, 0.5)))
    hi = float(max(mean_real.max(), mean_fake.max()))
    extent = _extent(mean_real.shape)
    for ax, spec, name in zip(axes[:2], (mean_real, mean_fake), names, strict=True):
        im = ax.imshow(spec, cmap=SPECTRUM_CMAP, vmin=lo, vmax=hi, extent=extent, origin="lower")
        _spectrum_axes(ax, f"mean log|FFT|, {name}")
    fig.colorbar(im, ax=axes[:2], label="log magnitude", shrink=0.9)
    diff = mean_fake - mean_real
    limit = _symmetric_limit([diff])
    im = axes[2].imshow(
        diff, cmap=DIFF_CMAP, vmin=-limit, vmax=limit, extent=extent, origin="lower"
    )
    _spectrum_axes(axes[2], f"{names[1]} minus {names[0]}")
    fig.colorbar(im, ax=axes[2], label="difference of log magnitude", shrink=0.9)
    fig.suptitle("Class-mean spectra (grey image, DC at the centre)")
    return fig


def profile_bands(
    profiles: np.ndarray,
    labels: np.ndarray,
    freq: np.ndarray,
    high_band: float | None = 0.25,
    names: Sequence[str] = CLASS_NAMES,
) -> plt.Figure:
    """Azimuthal profiles per class, mean with a +-1 std band, and the fake-minus-real
    difference of the means with its standard error.

    Returns:
        A figure with 2 panels.
    """
    labels = np.asarray(labels)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
    for cls, (name, colour) in enumerate(zip(names, CLASS_COLOURS, strict=True)):
        part = profiles[labels == cls]
        if len(part) == 0:
            continue
        mean, std = part.mean(0), part.std(0)
        ax1.plot(freq, mean, color=colour, lw=1.6, label=f"{name} (n {len(part)})")
        ax1.fill_between(freq, mean - std, mean + std, color=colour, alpha=0.25, lw=0)
    shade_band(ax1, high_band)
    ax1.set(xlabel="frequency (cycles/pixel)", ylabel="mean log|FFT| on the ring",
            title="Azimuthal profiles: mean and +-1 std per class")  # fmt: skip
    ax1.legend(fontsize=8)
    real, fake = profiles[labels == 0], profiles[labels == 1]
    if len(real) and len(fake):
        diff = fake.mean(0) - real.mean(0)
        se = np.sqrt(fake.var(0) / len(fake) + real.var(0) / len(real))
        ax2.plot(freq, diff, color="k", lw=1.4, label=f"{names[1]} minus {names[0]}")
        ax2.fill_between(freq, diff - 2 * se, diff + 2 * se, color="0.5", alpha=0.35, lw=0,
                         label="+-2 standard errors")  # fmt: skip
    ax2.axhline(0, color="tab:red", lw=0.8, ls=":")
    shade_band(ax2, high_band)
    ax2.set(xlabel="frequency (cycles/pixel)", ylabel="difference of log magnitude",
            title="Difference of the class means")  # fmt: skip
    ax2.legend(fontsize=8)
    return fig


def difference_maps(
    maps: Mapping[str, np.ndarray],
    title: str,
    markers: pd.DataFrame | None = None,
    peaks: pd.DataFrame | None = None,
    ncols: int | None = None,
) -> plt.Figure:
    """Difference maps side by side on one symmetric colour scale, one colour bar.

    Args:
        maps: ``{panel title: centred S x S difference}``.
        title: figure title.
        markers: optional frequencies to ring on every panel (columns ``fy``, ``fx``,
            e.g. the up-sampling grid), drawn with their conjugates.
        peaks: optional strongest peaks per panel (columns ``group``, ``fy``, ``fx``;
            ``group`` matches the panel title), marked with crosses.
        ncols: panels per row (default: all in one row).

    Returns:
        A figure with ``len(maps)`` image panels (plus blank ones filling the last row)
        and 1 colour bar.
    """
    n = len(maps)
    ncols = ncols or max(n, 1)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.3 * ncols + 1, 4.0 * nrows),
                             squeeze=False, layout="constrained")  # fmt: skip
    limit = _symmetric_limit(list(maps.values()))
    im = None
    for ax, (name, diff) in zip(axes.flat, maps.items(), strict=False):
        im = ax.imshow(diff, cmap=DIFF_CMAP, vmin=-limit, vmax=limit, extent=_extent(diff.shape),
                       origin="lower")  # fmt: skip
        _spectrum_axes(ax, str(name))
        if markers is not None and len(markers):
            fy, fx = markers["fy"].to_numpy(), markers["fx"].to_numpy()
            ax.scatter(np.r_[fx, -fx], np.r_[fy, -fy], s=90, facecolors="none",
                       edgecolors="k", lw=0.9, label="up-sampling grid")  # fmt: skip
        if peaks is not None and len(peaks):
            own = peaks[peaks["group"] == name]
            fy, fx = own["fy"].to_numpy(), own["fx"].to_numpy()
            ax.scatter(np.r_[fx, -fx], np.r_[fy, -fy], marker="x", s=40, color="lime", lw=1.5,
                       label="strongest peaks")  # fmt: skip
        ax.set(xlim=(-0.5, 0.5), ylim=(-0.5, 0.5))
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if (markers is not None and len(markers)) or (peaks is not None and len(peaks)):
        axes.flat[0].legend(fontsize=7, loc="lower left")
    if im is not None:
        fig.colorbar(im, ax=axes, label="difference of log magnitude", shrink=0.9)
    fig.suptitle(title)
    return fig


def family_profiles(diffs: Mapping[str, np.ndarray], high_band: float | None = 0.25) -> plt.Figure:
    """Azimuthal average of each family-minus-real map: where in frequency each
    generator family adds (above 0) or removes (below 0) energy.

    Returns:
        A figure with 1 panel.
    """
    fig, ax = plt.subplots(figsize=(9, 3.8), layout="constrained")
    for name, diff in diffs.items():
        prof = azimuthal_profile(np.asarray(diff))
        ax.plot(np.arange(len(prof)) / diff.shape[-1], prof, lw=1.5, label=str(name))
    ax.axhline(0, color="k", lw=0.8, ls=":")
    shade_band(ax, high_band)
    ax.set(xlabel="frequency (cycles/pixel)", ylabel="difference of log magnitude",
           title="Family minus real, azimuthally averaged")  # fmt: skip
    ax.legend(fontsize=8)
    return fig


def filter_effect(
    removed: pd.DataFrame,
    difference: pd.DataFrame,
    summary: pd.DataFrame,
    high_band: float | None = 0.25,
) -> plt.Figure:
    """What each filter does to the spectrum, and what is left of the fake signal.

    Args:
        removed: radius x filter frame, pooled profile after minus before.
        difference: radius x filter frame, fake-minus-real profile after the filter.
        summary: :func:`dflib.spectral.filter_summary` table (``probe_auc`` used).

    Returns:
        A figure with 3 panels: profile change, class difference, probe AUC per filter.
    """
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.3), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1, 0.7]})  # fmt: skip
    colours = dict(zip(removed.columns, plt.cm.tab10.colors, strict=False))
    for name in removed.columns:
        axes[0].plot(removed.index, removed[name], lw=1.4, color=colours[name], label=name)
        axes[1].plot(difference.index, difference[name], lw=1.4, color=colours[name], label=name)
    for ax in axes[:2]:
        ax.axhline(0, color="k", lw=0.8, ls=":")
        shade_band(ax, high_band)
        ax.set_xlabel("frequency (cycles/pixel)")
    axes[0].set(ylabel="change of log magnitude",
                title="What each filter removes (after minus before)")  # fmt: skip
    axes[1].set(ylabel="difference of log magnitude",
                title="Fake minus real after each filter")  # fmt: skip
    axes[0].legend(fontsize=8)
    auc = summary["probe_auc"].reindex(removed.columns)
    axes[2].barh(auc.index, auc.to_numpy(), color=[colours[n] for n in auc.index])
    axes[2].axvline(0.5, color="k", ls=":", lw=1, label="chance")
    axes[2].invert_yaxis()
    axes[2].set(xlabel="probe AUC (cross-validated)", xlim=(0.4, 1.0),
                title="Linear profile probe per filter")  # fmt: skip
    axes[2].legend(fontsize=8, loc="lower right")
    return fig
