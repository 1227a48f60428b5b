"""Figures of the robustness study (:mod:`dflib.study.robustness`): scores against the
strength of each perturbation, and examples of the perturbed images."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

PANELS = (
    ("auc", "AUC"),
    ("f1", "F1 at the run's threshold"),
    ("f1_retuned", "F1, threshold re-tuned"),
)


def strength_curves(scores: pd.DataFrame, kind: str, panels=PANELS) -> plt.Figure:
    """One perturbation: each score against its strength (``clean`` first), one colour per
    architecture, one line style per test-time filter setting.

    Args:
        scores: :func:`dflib.study.robustness.score_runs`'s table.
        kind: the perturbation (``jpeg``, ``blur``, ...).
        panels: ``(column, title)`` of each panel.
    """
    rows = scores[scores["kind"].isin(["clean", kind])]
    order = ["clean"] + list(dict.fromkeys(rows.loc[rows["kind"] == kind, "condition"]))
    labels = ["clean"] + [f"{s:g}" for s in rows.loc[rows["kind"] == kind, "strength"].unique()]
    archs = list(dict.fromkeys(rows["arch"]))
    filters = list(dict.fromkeys(rows["filter"]))
    colours = plt.get_cmap("tab10")
    styles = ["-", "--", ":", "-."]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.4), squeeze=False)
    x = np.arange(len(order))
    for ax, (column, title) in zip(axes[0], panels, strict=True):
        for a, arch in enumerate(archs):
            for f, name in enumerate(filters):
                line = rows[(rows["arch"] == arch) & (rows["filter"] == name)]
                values = line.set_index("condition")[column].reindex(order)
                own = bool(line["own"].any())
                ax.plot(x, values.to_numpy(), styles[f % len(styles)], color=colours(a),
                        marker="o" if own else None, ms=4,
                        label=f"{arch}, {name}" + (" (own)" if own else ""))  # fmt: skip
        ax.set_xticks(x, labels)
        ax.set_title(title)
        ax.set_xlabel(kind.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("score on the held-out images")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(len(names), 3), fontsize=8,
               bbox_to_anchor=(0.5, -0.02 - 0.05 * (len(names) // 3)))  # fmt: skip
    fig.suptitle(f"{kind.replace('_', ' ')}: scores against strength")
    fig.tight_layout()
    return fig


def examples(images: list[np.ndarray], titles: list[str], ncols: int = 8) -> plt.Figure:
    """Perturbed versions of one image side by side (crop-free, nearest-neighbour)."""
    n = len(images)
    rows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(rows, ncols, figsize=(1.7 * ncols, 1.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig
