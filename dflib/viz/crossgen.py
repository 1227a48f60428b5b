"""Figures of the leave-one-generator-family-out study (:mod:`dflib.study.crossgen`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dflib.viz.plotting import CLASS_COLOURS

POINTS = (  # column prefix, label, colour, marker, filled
    ("in", "in-family (trained families, mean)", CLASS_COLOURS[0], "o", True),
    ("out", "out-of-family (held-out family)", CLASS_COLOURS[1], "o", True),
    ("base", "held-out family, run trained on all", "black", "D", False),
)


def in_out_dumbbell(summary: pd.DataFrame, metrics=("f1", "auc")) -> plt.Figure:
    """In-family against out-of-family score per (architecture, held-out family).

    One panel per metric; each row is one run, a line joins its in-family and
    out-of-family scores, and a hollow diamond marks what the all-families baseline of the
    same architecture scores on the held-out family.

    Args:
        summary: :func:`dflib.study.crossgen.summarise`'s table.
        metrics: which scores to draw (``f1``, ``auc``, ``recall``).
    """
    labels = [f"{a}  -{h}" for a, h in zip(summary["arch"], summary["held_out"], strict=True)]
    y = np.arange(len(summary))[::-1]
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.6 * len(metrics), 0.45 * len(summary) + 1.8), sharey=True,
        squeeze=False,
    )  # fmt: skip
    for ax, metric in zip(axes[0], metrics, strict=True):
        ax.hlines(y, summary[f"in_{metric}"], summary[f"out_{metric}"], color="grey", lw=2)
        for prefix, label, colour, marker, filled in POINTS:
            values = summary[f"{prefix}_{metric}"]
            ax.scatter(values, y, s=55, marker=marker, label=label, zorder=3,
                       facecolors=colour if filled else "none", edgecolors=colour)  # fmt: skip
        if metric == "auc":
            ax.axvline(0.5, color="grey", ls=":", lw=1)
        low = np.nanmin(summary[[f"{p}_{metric}" for p, *_ in POINTS]].to_numpy(dtype=float))
        low = np.floor(max(0.0, low - 0.05) * 10) / 10 if np.isfinite(low) else 0.0
        ax.set(xlabel=metric.upper() if metric != "recall" else "recall of fakes",
               xlim=(low, 1.02), title=f"{metric.upper()}: seen vs unseen generator")  # fmt: skip
    axes[0][0].set_yticks(y, labels)
    axes[0][0].set_ylabel("architecture, held-out family")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
