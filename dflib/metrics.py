"""Scores for the fake class (label 1): the competition metric is its F1, and the
second write-up ranks recall of fakes first (a missed deepfake is the costly error).

Choosing the decision threshold (:func:`best_threshold`): the second write-up found that
tuning it on validation "gives a significant gain" over 0.5, because a class-weighted
model's probabilities are not calibrated to the 5:1 prior.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def binary_metrics(y_true, prob, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of the fake class at ``threshold``, plus ROC AUC
    and average precision when both classes are present.

    Args:
        y_true: 0/1 labels.
        prob: probability of "fake" per image (or hard 0/1 predictions).
        threshold: a prediction is "fake" when ``prob >= threshold``.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    prob = np.asarray(prob, dtype=np.float64)
    pred = (prob >= threshold).astype(np.int64)
    scores = {
        "accuracy": skm.accuracy_score(y_true, pred),
        "precision": skm.precision_score(y_true, pred, zero_division=0),
        "recall": skm.recall_score(y_true, pred, zero_division=0),
        "f1": skm.f1_score(y_true, pred, zero_division=0),
        "threshold": float(threshold),
    }
    if len(np.unique(y_true)) == 2:
        scores["auc"] = skm.roc_auc_score(y_true, prob)
        scores["average_precision"] = skm.average_precision_score(y_true, prob)
    return {k: float(v) for k, v in scores.items()}


def constant_predictor(y_true, predict: int = 0) -> dict[str, float]:
    """What always answering ``predict`` scores: with 5:1 data "always real" gets 83%
    accuracy and F1 0 on fakes, which is why accuracy is the wrong yardstick here."""
    y_true = np.asarray(y_true, dtype=np.int64)
    scores = binary_metrics(y_true, np.full(len(y_true), float(predict)))
    scores.pop("auc", None)
    scores.pop("average_precision", None)
    return scores


def threshold_table(y_true: np.ndarray, prob: np.ndarray) -> dict[str, np.ndarray]:
    """Counts and scores of the fake class at every distinct probability as the threshold.

    One pass over the sorted probabilities, so the whole curve costs a sort: this is the
    search :func:`best_threshold` runs and the table the threshold figures draw.

    Returns:
        ``threshold`` (descending), ``tp``, ``fp``, ``fn``, ``precision``, ``recall`` and
        ``f1`` arrays; predicting "fake" means ``prob >= threshold``. Empty arrays when
        ``prob`` is empty.
    """
    y_true, prob = np.asarray(y_true, dtype=np.int64), np.asarray(prob, dtype=np.float64)
    positives = int(y_true.sum())
    order = np.argsort(-prob, kind="stable")
    p, y = prob[order], y_true[order]
    last = np.r_[p[1:] != p[:-1], True] if len(p) else np.zeros(0, dtype=bool)
    tp, fp = np.cumsum(y)[last], np.cumsum(1 - y)[last]
    fn = positives - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(positives > 0, tp / max(positives, 1), 0.0)
        f1 = np.where(positives > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return {"threshold": p[last], "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp), "recall": recall, "f1": f1}  # fmt: skip


def best_threshold(
    y_true: np.ndarray, prob: np.ndarray, min_recall: float | None = None
) -> tuple[float, float]:
    """Threshold with the highest F1 of the fake class; ties go to higher recall (lower cut).

    Predicting "fake" means ``prob >= threshold``; every distinct probability is a
    candidate (:func:`threshold_table`).

    Args:
        y_true: 0/1 labels.
        prob: probability of "fake" per image.
        min_recall: if given, only thresholds whose recall of fakes reaches it are
            candidates (the second write-up ranks a missed deepfake as the costly error).
            The lowest threshold always qualifies (it calls every image fake: recall 1).

    Returns:
        ``(threshold, f1)``; ``(0.5, 0.0)`` when there are no fakes or no images.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    if int(y_true.sum()) == 0 or len(y_true) == 0:
        return 0.5, 0.0
    table = threshold_table(y_true, prob)
    f1 = table["f1"]
    if min_recall is not None:
        f1 = np.where(table["recall"] >= min_recall - 1e-12, f1, -1.0)
    best = np.flatnonzero(f1 >= f1.max() - 1e-12)[-1]  # thresholds descend: last = lowest
    return float(table["threshold"][best]), float(f1[best])
