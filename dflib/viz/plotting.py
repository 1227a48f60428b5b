"""Every figure the notebooks show, in one place, so they share a look and are tested.

Each function draws one figure and returns it; notebooks display it and may pass it to
:func:`save` to keep a PNG beside a run's results.
"""

from __future__ import annotations

import os

import matplotlib

if not os.environ.get("DISPLAY") and "inline" not in matplotlib.get_backend().lower():
    matplotlib.use("Agg")  # headless runs (papermill, CI) need no display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from dflib.imageio import save_figure

CLASS_NAMES = ("real", "fake")
CLASS_COLOURS = ("#4C72B0", "#DD8452")
sns.set_theme(style="whitegrid", context="notebook")


# the notebooks' name for :func:`dflib.imageio.save_figure` (one writer of figure files)
save = save_figure


def class_balance(counts, title: str = "Training images per class") -> plt.Figure:
    """Bar chart of ``[n_real, n_fake]`` with counts and shares written on the bars."""
    counts = np.asarray(counts)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    bars = ax.bar(CLASS_NAMES, counts, color=CLASS_COLOURS)
    for bar, count in zip(bars, counts, strict=True):
        ax.annotate(f"{count:,}\n{count / counts.sum():.1%}", (bar.get_x() + bar.get_width() / 2, count),
                    ha="center", va="bottom", fontsize=10)  # fmt: skip
    ax.set(ylabel="images", title=f"{title} (ratio {counts[0] / max(counts[1], 1):.2f} : 1)")
    ax.set_ylim(0, counts.max() * 1.25)
    return fig


def image_grid(
    images, titles=None, ncols: int = 6, cell: float = 1.9, suptitle: str | None = None
) -> plt.Figure:
    """Images (``N x H x W x 3`` uint8) in a grid, one optional title each."""
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * cell, nrows * cell), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def zoom_compare(images, titles, box: tuple[int, int, int], cell: float = 2.6) -> plt.Figure:
    """Each image whole (with the zoom box drawn) above a pixel-exact zoom of the box.

    Args:
        images: sequence of HxWx3 uint8 images of the same size.
        titles: one title per image.
        box: ``(top, left, side)`` of the square to zoom into.
    """
    top, left, side = box
    fig, axes = plt.subplots(2, len(images), figsize=(len(images) * cell, 2 * cell), squeeze=False)
    for column, (image, title) in enumerate(zip(images, titles, strict=True)):
        axes[0, column].imshow(image)
        axes[0, column].add_patch(
            plt.Rectangle((left - 0.5, top - 0.5), side, side, fill=False, color="yellow", lw=1.5)
        )
        axes[0, column].set_title(title, fontsize=9)
        axes[1, column].imshow(image[top : top + side, left : left + side], interpolation="nearest")
        axes[1, column].set_title(f"zoom {side}x{side} px", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def channel_histograms(
    hist: np.ndarray, markers=(5, 250), title: str = "Pixel values per channel"
) -> plt.Figure:
    """The ``256 x 3`` value counts on a log scale, whole range and both ends zoomed, with
    the expected spike positions marked: spikes *near* 0 and 255, not at them."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6), gridspec_kw={"width_ratios": [2, 1, 1]})
    ranges = [(0, 255, "all values"), (0, 25, "dark end"), (230, 255, "bright end")]
    for ax, (low, high, name) in zip(axes, ranges, strict=True):
        values = np.arange(low, high + 1)
        for c, colour in enumerate(("tab:red", "tab:green", "tab:blue")):
            ax.plot(values, hist[low : high + 1, c] + 1, color=colour, lw=1.2, label="RGB"[c],
                    drawstyle="steps-mid")  # fmt: skip
        for marker in markers:
            if low <= marker <= high:
                ax.axvline(marker, color="k", ls=":", lw=1)
        ax.set(yscale="log", xlim=(low, high), xlabel="value", title=name)
    axes[0].set_ylabel("count + 1 (log)")
    axes[0].legend(title="channel", fontsize=8)
    fig.suptitle(f"{title}; dotted lines at {', '.join(map(str, markers))}")
    fig.tight_layout()
    return fig


def density_by_class(
    density: np.ndarray, labels: np.ndarray, xlabel: str = "flagged share of channel values"
) -> plt.Figure:
    """Distribution of a per-image quantity, real vs fake."""
    frame = pd.DataFrame({"value": density, "class": np.asarray(CLASS_NAMES)[np.asarray(labels)]})
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.histplot(frame, x="value", hue="class", hue_order=CLASS_NAMES, palette=CLASS_COLOURS,
                 stat="density", common_norm=False, element="step", bins=40, ax=ax)  # fmt: skip
    ax.set(xlabel=xlabel, title="Estimated noise density per image, by class")
    return fig


def tolerance_curve(sweep: pd.DataFrame, recommended: int | None = None) -> plt.Figure:
    """Share of true noise caught vs share of genuine values flagged, for each tolerance."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
    for column, style, name in (
        ("noise_caught", "-", "per channel"),
        ("pixel_noise_caught", "--", "coherent (OR)"),
    ):
        ax1.plot(sweep["tol"], sweep[column], style, marker=".", label=f"noise caught, {name}")
    for column, style, name in (
        ("genuine_flagged", "-", "per channel"),
        ("pixel_genuine_flagged", "--", "coherent (OR)"),
    ):
        ax2.plot(
            sweep["tol"],
            sweep[column],
            style,
            marker=".",
            color="tab:red",
            label=f"genuine flagged, {name}",
        )
    ax1.set(
        xlabel="tolerance tol",
        ylabel="share of true noise flagged",
        title="Noise caught (higher is better)",
    )
    ax2.set(xlabel="tolerance tol", ylabel="share of genuine values flagged", yscale="log",
            title="Collateral: genuine values flagged (lower is better)")  # fmt: skip
    for ax in (ax1, ax2):
        if recommended is not None:
            ax.axvline(recommended, color="k", ls=":", label=f"recommended tol = {recommended}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def metric_bars(table: pd.DataFrame, columns, title: str, ncols: int = 3) -> plt.Figure:
    """One horizontal bar panel per column of ``table`` (rows: filters, models, ...), so
    rows can be compared metric by metric; values written at the bar ends."""
    columns = [c for c in columns if c in table]
    nrows = -(-len(columns) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.6 * ncols, 0.45 * len(table) * nrows + 1.4 * nrows), squeeze=False
    )
    palette = sns.color_palette("deep", len(table))
    for ax, column in zip(axes.flat, columns, strict=False):
        values = table[column].astype(float)
        ax.barh(table.index.astype(str), values, color=palette)
        ax.invert_yaxis()
        ax.set_title(column, fontsize=10)
        for y, value in enumerate(values):
            ax.annotate(
                f"{value:.3g}",
                (value, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_xlim(0, max(values.max() * 1.25, 1e-9))
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
