"""Figures of a training run, drawn from its run folder's files alone.

Learning curves, the confusion matrix, ROC and precision-recall curves, F1 against the
threshold with the tuned point, and the worst errors. Drawing writes and logs nothing:
:func:`run_figures` draws every figure a run's files allow, and the command line and the
training notebooks hand them to the run's sink (:func:`dflib.train.loggers.write_figures`:
``<run>/figures/*.png``, then the loggers the run asked for).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn import metrics as skm

from dflib.metrics import best_threshold
from dflib.train.runs import RunFolder
from dflib.viz.plotting import CLASS_COLOURS, CLASS_NAMES, image_grid


def learning_curves(history: pd.DataFrame, reported_f1: float | None = None) -> plt.Figure:
    """Loss, validation F1 / recall / AUC and the learning rate per epoch; fine-tuning
    epochs are shaded (their validation images are trained on)."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    x = history["epoch"]
    axes[0].plot(x, history["train_loss"], "o-", label="train")
    axes[0].plot(x, history["val_loss"], "o-", label="validation")
    axes[0].set(title="loss", xlabel="epoch")
    for column, style in (("val_f1", "o-"), ("val_f1_tuned", "--"), ("val_recall", ":"),
                          ("val_auc", "-.")):  # fmt: skip
        axes[1].plot(x, history[column], style, label=column.removeprefix("val_"))
    if reported_f1 is not None:
        axes[1].axhline(reported_f1, color="grey", lw=1, ls="--", label="write-up's F1")
    axes[1].set(title="validation", xlabel="epoch", ylim=(0, 1.02))
    axes[2].plot(x, history["lr"], "o-")
    axes[2].set(title="learning rate", xlabel="epoch", yscale="log")
    finetune = history.loc[history["stage"] == "finetune", "epoch"]
    for ax in axes:
        if len(finetune):
            ax.axvspan(finetune.min() - 0.5, finetune.max() + 0.5, color="grey", alpha=0.12)
        if ax is not axes[2]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def confusion(y_true, prob, threshold: float) -> plt.Figure:
    """Confusion matrix at ``threshold``, counts and row shares."""
    pred = (np.asarray(prob) >= threshold).astype(int)
    matrix = skm.confusion_matrix(y_true, pred, labels=[0, 1])
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, f"{count:,}\n{shares[i, j]:.1%}", ha="center", va="center",
                color="white" if shares[i, j] > 0.5 else "black")  # fmt: skip
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES,
           xlabel="predicted", ylabel="true", title=f"threshold {threshold:.3f}")  # fmt: skip
    ax.grid(False)
    return fig


def roc_pr_threshold(y_true, prob, threshold: float | None = None) -> plt.Figure:
    """ROC curve, precision-recall curve, and F1 / precision / recall against the
    threshold with the tuned point (max F1, ties to higher recall)."""
    y_true, prob = np.asarray(y_true), np.asarray(prob)
    if threshold is None:
        threshold, _ = best_threshold(y_true, prob)
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    fpr, tpr, _ = skm.roc_curve(y_true, prob)
    axes[0].plot(fpr, tpr, color=CLASS_COLOURS[1])
    axes[0].plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    axes[0].set(title=f"ROC (AUC {skm.roc_auc_score(y_true, prob):.3f})", xlabel="false positive rate",
                ylabel="true positive rate")  # fmt: skip
    precision, recall, _ = skm.precision_recall_curve(y_true, prob)
    axes[1].plot(recall, precision, color=CLASS_COLOURS[1])
    pred = prob >= threshold
    point = (skm.recall_score(y_true, pred, zero_division=0),
             skm.precision_score(y_true, pred, zero_division=0))  # fmt: skip
    axes[1].plot(*point, "ko", label=f"tuned threshold {threshold:.3f}")
    axes[1].set(title=f"precision-recall (AP {skm.average_precision_score(y_true, prob):.3f})",
                xlabel="recall", ylabel="precision")  # fmt: skip
    axes[1].legend(fontsize=8)
    # thresholds at the scores' quantiles: probabilities often crowd a narrow band
    grid = np.unique(np.r_[np.quantile(prob, np.linspace(0.0, 1.0, 201)), 0.5, threshold])
    scores = {name: [fn(y_true, prob >= t, zero_division=0) for t in grid]
              for name, fn in (("F1", skm.f1_score), ("precision", skm.precision_score),
                               ("recall", skm.recall_score))}  # fmt: skip
    for name, values in scores.items():
        axes[2].plot(grid, values, label=name)
    axes[2].axvline(threshold, color="black", lw=1, ls="--", label="tuned")
    axes[2].axvline(0.5, color="grey", lw=1, ls=":", label="0.5")
    axes[2].set(title="scores vs threshold", xlabel="threshold (probability of fake)",
                ylim=(0, 1.02))  # fmt: skip
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return fig


def worst_errors(images, ids, y_true, prob, n: int = 6) -> plt.Figure:
    """The most confident misses (fakes scored lowest) and false alarms (reals scored
    highest), with their probabilities. ``images[i]`` is the image of ``ids[i]``."""
    y_true, prob = np.asarray(y_true), np.asarray(prob)
    fakes = np.flatnonzero(y_true == 1)
    reals = np.flatnonzero(y_true == 0)
    misses = fakes[np.argsort(prob[fakes])][:n]
    alarms = reals[np.argsort(-prob[reals])][:n]
    chosen = np.concatenate([misses, alarms])
    titles = [f"{'FN' if y_true[i] else 'FP'} {ids[i]}\np(fake) {prob[i]:.2f}" for i in chosen]
    return image_grid(np.stack([images[i] for i in chosen]), titles,
                      ncols=max(len(misses), len(alarms), 1),
                      suptitle="worst false negatives (top) and false positives (bottom)")  # fmt: skip


def run_figures(run: RunFolder, reported_f1: float | None = None) -> dict[str, plt.Figure]:
    """Every figure a run's files allow, by name, drawn off screen (closed, so a notebook
    does not show them a second time; they still save and log)."""
    history = run.read_history()
    val = run.read_predictions("val")
    threshold = float(run.read_json("metrics")["threshold"])
    figures = {
        "learning_curves": learning_curves(history, reported_f1),
        "confusion": confusion(val["label"], val["prob"], threshold),
        "roc_pr_threshold": roc_pr_threshold(val["label"], val["prob"], threshold),
    }
    for fig in figures.values():
        plt.close(fig)
    return figures
