"""Figures of notebook 13: class-activation maps over the images with the fake region's
outline, the CAM-mass ratio, and the frequency-band occlusion."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dflib.viz.plotting import CLASS_COLOURS

OUTLINE = "#39FF14"  # the fake region's outline: visible over both the image and the map


def cam_gallery(images, cams, masks, titles, ncols: int = 6, cell: float = 1.9,
                suptitle: str | None = None) -> plt.Figure:  # fmt: skip
    """Each image twice, one above the other: as it is, and with its CAM (each map
    scaled to its own maximum) over it; the fake region's outline (mask level 0.5) on
    both. ``images`` N x H x W x 3 uint8, ``cams`` and ``masks`` N x H x W."""
    n = len(images)
    ncols = max(1, min(ncols, n))
    blocks = max(1, -(-n // ncols))
    fig, axes = plt.subplots(2 * blocks, ncols, figsize=(ncols * cell, 2 * blocks * cell),
                             squeeze=False)  # fmt: skip
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        top, bottom = axes[2 * (i // ncols), i % ncols], axes[2 * (i // ncols) + 1, i % ncols]
        top.imshow(images[i], interpolation="nearest")
        top.set_title(str(titles[i]), fontsize=8)
        cam = np.asarray(cams[i], dtype=float)
        peak = cam.max()
        bottom.imshow(images[i], interpolation="nearest")
        bottom.imshow(cam / peak if peak > 0 else cam, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        for ax in (top, bottom):
            if np.asarray(masks[i]).max() > 0.5:
                ax.contour(masks[i], levels=[0.5], colors=OUTLINE, linewidths=1.0)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def mass_ratio(shares: pd.DataFrame, labels) -> plt.Figure:
    """Histogram of the CAM-mass ratio (inside-region share / area share) over the fakes,
    with 1 (no preference) and the mean marked."""
    ratio = shares["ratio"][np.asarray(labels) == 1].dropna()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    if len(ratio):
        ax.hist(ratio, bins=min(30, max(5, len(ratio) // 3)), color=CLASS_COLOURS[1], alpha=0.8)
        ax.axvline(ratio.mean(), color="black", lw=1.2, label=f"mean {ratio.mean():.2f}")
    ax.axvline(1.0, color="grey", ls="--", lw=1, label="1: no preference for the region")
    ax.set(xlabel="CAM mass inside the fake region / its area share", ylabel="fakes",
           title="Does the model look where the fake is?")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def band_occlusion(table: pd.DataFrame) -> plt.Figure:
    """Per radial band: the drop in the fakes' mean probability and in AUC when the band
    is zeroed (left), and the band's share of the images' spectral energy (right)."""
    bands = table.drop(index="none", errors="ignore")
    x = np.arange(len(bands))
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    width = 0.4
    axes[0].bar(x - width / 2, bands["drop_fake"], width, color=CLASS_COLOURS[1],
                label="drop of p(fake) on fakes")  # fmt: skip
    axes[0].bar(x + width / 2, bands["drop_auc"], width, color="tab:grey", label="drop of AUC")
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].set(xticks=x, xlabel="zeroed band (|f| / Nyquist)", ylabel="drop",
                title="Which frequencies the decision needs")  # fmt: skip
    axes[0].set_xticklabels(bands.index, rotation=45, ha="right", fontsize=8)
    axes[0].legend(fontsize=8)
    axes[1].bar(x, bands["energy_share"], color="tab:blue")
    axes[1].set(xticks=x, yscale="log", xlabel="band (|f| / Nyquist)",
                ylabel="share of spectral energy", title="Where the images' energy is")  # fmt: skip
    axes[1].set_xticklabels(bands.index, rotation=45, ha="right", fontsize=8)
    fig.tight_layout()
    return fig
