"""Figures of the spectral notebook, continued: residual crops next to their images, and
the linear profile probe's result. Same conventions as :mod:`dflib.viz.spectra`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from dflib.spectral.spectra import LUMA
from dflib.viz.plotting import CLASS_COLOURS, CLASS_NAMES  # importing it applies the style
from dflib.viz.spectra import CLIP_PERCENTILE, shade_band


def _grey(x: np.ndarray) -> np.ndarray:
    """BT.601 grey of channel-last RGB residuals (any leading axes)."""
    return x @ np.asarray(LUMA, dtype=x.dtype) if x.shape[-1] == 3 else x


def residual_grid(
    examples: Mapping[str, np.ndarray],
    row_titles: Sequence[str],
    cutoff: float | None = None,
    suptitle: str | None = None,
) -> plt.Figure:
    """Crops next to their FFT high-pass and NPR residuals (grey), one row per crop.

    Args:
        examples: :func:`dflib.spectral.residual_examples` output (keys ``image``,
            ``highpass``, ``npr``).
        row_titles: one label per crop (e.g. "real" / "fake (tconv)").
        cutoff: the high-pass cutoff, for the column title.
        suptitle: figure title (e.g. which filter ran before the residuals).

    Returns:
        A figure with ``3 x rows`` panels and 2 colour bars under the residual columns
        (one scale per column, shared by every row so real and fake compare directly).
    """
    n = len(row_titles)
    fig, axes = plt.subplots(n, 3, figsize=(9, 2.6 * n + 1), squeeze=False, layout="constrained")
    cut = f"\n(cutoff {cutoff:g} x Nyquist)" if cutoff is not None else ""
    columns = [
        ("highpass", f"FFT high-pass residual{cut}"),
        ("npr", "NPR residual\nx - up(down(x))"),
    ]
    for r, title in enumerate(row_titles):
        axes[r, 0].imshow(examples["image"][r], interpolation="nearest")
        axes[r, 0].set_ylabel(title, fontsize=10)
    axes[0, 0].set_title("crop", fontsize=10)
    for c, (key, name) in enumerate(columns, start=1):
        grey = _grey(np.asarray(examples[key][:n], dtype=np.float32))
        limit = float(np.percentile(np.abs(grey), CLIP_PERCENTILE)) or 1.0
        for r in range(n):
            im = axes[r, c].imshow(grey[r], cmap="gray", vmin=-limit, vmax=limit,
                                   interpolation="nearest")  # fmt: skip
        axes[0, c].set_title(name, fontsize=10)
        fig.colorbar(im, ax=axes[:, c], location="bottom", shrink=0.9,
                     label="residual (grey, [0, 1] units)")  # fmt: skip
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def probe_result(
    y_true: np.ndarray,
    prob: np.ndarray,
    metrics: Mapping[str, float],
    coef: np.ndarray,
    freq: np.ndarray,
    high_band: float | None = 0.25,
) -> plt.Figure:
    """The linear profile probe: ROC curve, out-of-fold probabilities per class, and the
    standardised coefficient of each frequency.

    Returns:
        A figure with 3 panels.
    """
    from sklearn.metrics import roc_curve

    y_true, prob = np.asarray(y_true), np.asarray(prob)
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.2), layout="constrained")
    ok = ~np.isnan(prob)
    if ok.any() and len(np.unique(y_true[ok])) == 2:
        fpr, tpr, _ = roc_curve(y_true[ok], prob[ok])
        axes[0].plot(fpr, tpr, lw=1.8, label=f"AUC {metrics.get('auc', np.nan):.3f}")
        bins = np.linspace(0, 1, 31)
        for cls, (name, colour) in enumerate(zip(CLASS_NAMES, CLASS_COLOURS, strict=True)):
            axes[1].hist(prob[ok & (y_true == cls)], bins=bins, color=colour, alpha=0.6,
                         label=name, density=True)  # fmt: skip
    axes[0].plot([0, 1], [0, 1], color="k", ls=":", lw=1, label="chance")
    axes[0].set(xlabel="false positive rate (real called fake)",
                ylabel="true positive rate (fakes found)", title="ROC, out-of-fold")  # fmt: skip
    axes[0].legend(fontsize=8, loc="lower right")
    axes[1].axvline(0.5, color="k", ls=":", lw=1)
    axes[1].set(xlabel="predicted probability of fake", ylabel="density",
                title=f"Out-of-fold probabilities (acc {metrics.get('accuracy', np.nan):.3f}, "
                f"F1 {metrics.get('f1', np.nan):.3f})")  # fmt: skip
    axes[1].legend(fontsize=8)
    axes[2].bar(freq, coef, width=(freq[1] - freq[0]) if len(freq) > 1 else 0.01, color="0.3")
    axes[2].axhline(0, color="k", lw=0.8)
    shade_band(axes[2], high_band)
    axes[2].set(xlabel="frequency (cycles/pixel)", ylabel="standardised coefficient",
                title="What the probe uses (positive: pushes to fake)")  # fmt: skip
    return fig
