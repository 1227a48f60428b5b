"""Scores for the fake class (label 1): the competition metric is its F1, and the
second write-up ranks recall of fakes first (a missed deepfake is the costly error)."""

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
