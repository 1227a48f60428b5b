"""Figures of the decision layer: thresholds, calibration, ensembles and pseudo-labels.

Each function takes the tables :mod:`dflib.decide` computes (so the numbers in a
figure are the numbers in the notebook's tables) and returns one figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn import metrics as skm

from dflib.viz.plotting import CLASS_COLOURS, CLASS_NAMES

SCORE_COLOURS = {"f1": "black", "precision": "tab:blue", "recall": CLASS_COLOURS[1]}


def threshold_curves(
    curves: pd.DataFrame, threshold: float, min_recall: float | None = None
) -> plt.Figure:
    """F1, precision and recall of fakes against the threshold, with the tuned point
    and 0.5 marked (and the recall floor, if one was set)."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for name, colour in SCORE_COLOURS.items():
        ax.plot(curves["threshold"], curves[name], color=colour, label=name, drawstyle="steps-post")
    at = curves.iloc[(curves["threshold"] - threshold).abs().argmin()]
    ax.axvline(threshold, color="black", ls="--", lw=1)
    ax.plot(threshold, at["f1"], "ko", label=f"tuned {threshold:.3f}: F1 {at['f1']:.3f}")
    ax.axvline(0.5, color="grey", ls=":", lw=1, label="0.5")
    if min_recall:
        ax.axhline(
            min_recall, color=CLASS_COLOURS[1], ls=":", lw=1, label=f"recall >= {min_recall}"
        )
    ax.set(xlabel="threshold (fake when p >= threshold)", ylabel="score", ylim=(0, 1.02),
           xlim=(0, 1), title="Scores of the fake class against the threshold")  # fmt: skip
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def pr_curve(y_true, prob, threshold: float) -> plt.Figure:
    """Precision-recall curve with the tuned threshold's point and 0.5's."""
    y_true, prob = np.asarray(y_true), np.asarray(prob)
    precision, recall, _ = skm.precision_recall_curve(y_true, prob)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.plot(recall, precision, color=CLASS_COLOURS[1])
    for t, marker, colour, name in ((threshold, "o", "black", "tuned"), (0.5, "s", "grey", "0.5")):
        pred = prob >= t
        point = (skm.recall_score(y_true, pred, zero_division=0),
                 skm.precision_score(y_true, pred, zero_division=0))  # fmt: skip
        ax.plot(*point, marker=marker, color=colour, ls="",
                label=f"{name} ({t:.3f}): recall {point[0]:.3f}, precision {point[1]:.3f}")  # fmt: skip
    ax.axhline(y_true.mean(), color="grey", lw=0.8, ls="--", label=f"chance ({y_true.mean():.2f})")
    ax.set(xlabel="recall of fakes", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02),
           title=f"Precision-recall (AP {skm.average_precision_score(y_true, prob):.3f})")  # fmt: skip
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def bootstrap(frame: pd.DataFrame, threshold: float, f1: float) -> plt.Figure:
    """Histograms of the bootstrap thresholds and F1s beside the full-set choice."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
    sns.histplot(frame["threshold"], bins=30, ax=ax1, color="tab:grey")
    ax1.axvline(threshold, color="black", ls="--", label=f"tuned on all: {threshold:.3f}")
    ax1.set(title=f"Threshold over {len(frame)} resamples", xlabel="threshold")
    for column, colour, name in (("f1", "tab:blue", "on its resample (optimistic)"),
                                 ("f1_full", CLASS_COLOURS[1], "on the full set")):  # fmt: skip
        sns.histplot(frame[column], bins=np.linspace(0, 1, 41), ax=ax2, color=colour, alpha=0.5,
                     label=name)  # fmt: skip
    ax2.axvline(f1, color="black", ls="--", label=f"tuned on all: {f1:.3f}")
    ax2.set(title="F1 of each resample's threshold", xlabel="F1", xlim=(0, 1))
    for ax in (ax1, ax2):
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def reliability(
    tables: dict[str, pd.DataFrame], scores: dict[str, dict] | None = None
) -> plt.Figure:
    """Reliability diagram: observed share of fakes against mean predicted probability
    per bin, one line per table (e.g. before / after temperature scaling), with the
    images per bin underneath. ``scores`` (ECE, Brier per name) go into the legend."""
    fig, (ax, counts) = plt.subplots(2, 1, figsize=(6, 6.5), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfect calibration")
    palette = sns.color_palette("deep", len(tables))
    width = 1.0 / max(len(next(iter(tables.values()))), 1) / (len(tables) + 0.5)
    for i, ((name, table), colour) in enumerate(zip(tables.items(), palette, strict=True)):
        used = table[table["count"] > 0]
        extra = (scores or {}).get(name)
        label = f"{name}: ECE {extra['ece']:.3f}, Brier {extra['brier']:.3f}" if extra else name
        ax.plot(used["mean_prob"], used["frac_fake"], "o-", color=colour, label=label)
        counts.bar(table["lower"] + (i + 0.5) * width, table["count"], width=width, color=colour)
    ax.set(ylabel="observed share of fakes", xlim=(0, 1), ylim=(0, 1), title="Reliability")
    ax.legend(fontsize=8, loc="upper left")
    counts.set(xlabel="predicted probability of fake", ylabel="images", yscale="log")
    fig.tight_layout()
    return fig


def correlation_heatmap(
    corr: pd.DataFrame, title: str = "Correlation of the models' scores"
) -> plt.Figure:
    """The models' score correlations: near 1 means averaging them gains little."""
    side = 1.2 + 0.9 * len(corr)
    fig, ax = plt.subplots(figsize=(side + 1.5, side))
    sns.heatmap(corr, annot=True, fmt=".2f", vmin=-1, vmax=1, cmap="vlag", square=True, ax=ax,
                cbar_kws={"shrink": 0.8})  # fmt: skip
    ax.set_title(title)
    fig.tight_layout()
    return fig


def comparison_bars(
    table: pd.DataFrame, columns=None, title: str = "Single runs and ensembles"
) -> plt.Figure:
    """Grouped horizontal bars: one group per row of ``table`` (method), one bar per
    column (e.g. validation and hidden-test F1 at the tuned threshold), values written."""
    columns = [c for c in (columns or ["val_f1_tuned", "test_f1_tuned", "val_auc", "test_auc"])
               if c in table]  # fmt: skip
    long = (
        table[columns]
        .astype(float)
        .reset_index(names="method")
        .melt("method", var_name="score", value_name="value")
    )
    fig, ax = plt.subplots(figsize=(8, 0.2 * len(table) * max(len(columns), 1) + 1.5))
    sns.barplot(long, y="method", x="value", hue="score", ax=ax, orient="h")
    for container in ax.containers:
        ax.bar_label(container, fmt="%.3f", fontsize=7, padding=2)
    low = max(0.0, float(long["value"].min()) - 0.1)
    ax.set(xlim=(low, 1.05), xlabel="score", ylabel="", title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def pseudo_cutoffs(prob, cutoff_fake: float, cutoff_real: float, labels=None) -> plt.Figure:
    """Test probabilities with the two cut-offs: kept as real left of ``cutoff_real``,
    kept as fake right of ``cutoff_fake``; coloured by the hidden label when given."""
    frame = pd.DataFrame({"prob": np.asarray(prob, dtype=float)})
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if labels is not None and (np.asarray(labels) >= 0).all():
        frame["class"] = np.asarray(CLASS_NAMES)[np.asarray(labels)]
        sns.histplot(frame, x="prob", hue="class", hue_order=CLASS_NAMES, palette=CLASS_COLOURS,
                     bins=50, element="step", ax=ax)  # fmt: skip
    else:
        sns.histplot(frame, x="prob", bins=50, color="tab:grey", ax=ax)
    if np.isfinite(cutoff_real):
        ax.axvspan(
            0,
            cutoff_real,
            color=CLASS_COLOURS[0],
            alpha=0.12,
            label=f"kept real <= {cutoff_real:.3g}",
        )
    if np.isfinite(cutoff_fake):
        ax.axvspan(
            cutoff_fake,
            1,
            color=CLASS_COLOURS[1],
            alpha=0.12,
            label=f"kept fake >= {cutoff_fake:.3g}",
        )
    ax.set(yscale="log", xlim=(0, 1), xlabel="probability of fake", title="Pseudo-label cut-offs")
    if ax.get_legend_handles_labels()[0]:  # nothing kept and no labels: no legend to draw
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
