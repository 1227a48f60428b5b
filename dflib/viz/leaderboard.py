"""Figures of the leaderboard (:mod:`dflib.study.leaderboard`): score against cost."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from dflib.viz.plotting import CLASS_COLOURS

COST = {  # column -> axis label, log scale
    "params": ("parameters", True),
    "train_minutes": ("training time per run (minutes)", True),
    "gflops": ("GFLOPs per image", True),
}


def score_vs_cost(
    agg: pd.DataFrame, cost: str = "params", score: str = "test_f1", reported: bool = True
) -> plt.Figure:
    """One point per configuration (mean over seeds, bars: one sd), labelled by architecture;
    with ``reported`` a hollow diamond at the write-up's F1 of the same model.

    Args:
        agg: :func:`dflib.study.leaderboard.by_config`'s table.
        cost: ``params``, ``train_minutes`` or ``gflops``.
        score: a score column (``test_f1``, ``val_f1``, ...); falls back to ``val_f1`` when
            it is empty (no hidden labels).
        reported: draw the write-ups' numbers.
    """
    if score not in agg or agg[score].isna().all():
        score = "val_f1"
    label, log = COST[cost]
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    if agg.empty:
        ax.text(0.5, 0.5, "no finished runs", ha="center", va="center", transform=ax.transAxes)
        return fig
    x, y = agg[cost].to_numpy(dtype=float), agg[score].to_numpy(dtype=float)
    err = agg.get(f"{score}_std", pd.Series(np.nan, index=agg.index)).fillna(0).to_numpy()
    ax.errorbar(x, y, yerr=err, fmt="o", color=CLASS_COLOURS[0], ecolor="grey", capsize=3,
                label=f"measured ({score.replace('_', ' ')} @0.5, mean ± sd)")  # fmt: skip
    for xi, yi, row in zip(x, y, agg.itertuples(), strict=True):
        ax.annotate(_tag(row), (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=8)
    if reported and "reported_f1" in agg:
        ref = agg.drop_duplicates("arch")
        ax.scatter(ref[cost], ref["reported_f1"], marker="D", facecolors="none",
                   edgecolors=CLASS_COLOURS[1], label="write-up F1 (its own data)")  # fmt: skip
    if log and np.nanmin(x) > 0:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(_short))
        narrow = np.nanmax(x) / np.nanmin(x) < 10  # no decade tick inside: label the minor ones
        ax.xaxis.set_minor_formatter(FuncFormatter(_short if narrow else (lambda v, _: "")))
    ax.set(xlabel=label, ylabel="F1 of the fake class", ylim=(0, 1.02),
           title=f"F1 against {label.split(' (')[0]}")  # fmt: skip
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def _tag(row) -> str:
    """The architecture, plus what differs from its recipe (filter, loss weighting)."""
    extra = [] if row.filter in ("coherent_noise_filter", "none") else [row.filter]
    if not getattr(row, "class_weighting", True):
        extra.append("unweighted" + (", oversampled" if row.sampler != "-" else ""))
    return row.arch + (f" ({', '.join(extra)})" if extra else "")


def _short(value: float, _pos=None) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{unit}"
    return f"{value:g}"
