"""Scores for the fake class (label 1): the competition metric is its F1, and the
second write-up ranks recall of fakes first (a missed deepfake is the costly error).

Choosing the decision threshold (:func:`best_threshold`): the second write-up found that
tuning it on validation "gives a significant gain" over 0.5, because a class-weighted
model's probabilities are not calibrated to the 5:1 prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn import metrics as skm

MEAN_ROW, POOLED_ROW = "mean over generators", "all (pooled)"


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


def by_generator(y_true, prob, generators, threshold: float = 0.5) -> pd.DataFrame:
    """The field's per-generator table (CNNDetection, SIDBench, GenImage): one row per
    generator, then the mean over generators (their headline) and all images pooled.

    Columns: ``generator``, ``images``, ``real``, ``fake``, ``auc``, ``ap``, ``accuracy``
    and ``f1`` at ``threshold``, ``real_acc`` and ``fake_acc`` (each class's share
    classified right). AUC and AP are NaN where a generator holds one class; the mean
    row averages the rows that have a value. Rows with an unknown label (-1) are left out.
    Real images without a generator (``""`` or None: the embedded benchmark's reals) are
    scored in every generator's row, against that generator's fakes.
    """
    y_true, prob = np.asarray(y_true, dtype=np.int64), np.asarray(prob, dtype=np.float64)
    generators = np.array(["" if g is None or g != g else str(g) for g in generators], dtype=object)
    known = y_true >= 0
    shared = known & (generators == "") & (y_true == 0)
    names = sorted(set(generators[known & (generators != "")].tolist()))
    rows = []
    for name in names:
        rows_of = (known & (generators == name)) | shared
        rows.append(_generator_row(name, y_true[rows_of], prob[rows_of], threshold))
    table = pd.DataFrame(rows)
    scores = ["auc", "ap", "accuracy", "f1", "real_acc", "fake_acc"]
    mean = {"generator": MEAN_ROW, **table[scores].mean(numeric_only=True).to_dict()}
    pooled = _generator_row(POOLED_ROW, y_true[known], prob[known], threshold)
    return pd.concat([table, pd.DataFrame([mean, pooled])], ignore_index=True)


def _generator_row(name: str, y: np.ndarray, prob: np.ndarray, threshold: float) -> dict:
    pred = (prob >= threshold).astype(np.int64)
    both = len(np.unique(y)) == 2
    right = pred == y
    return {
        "generator": name, "images": len(y), "real": int((y == 0).sum()), "fake": int(y.sum()),
        "auc": skm.roc_auc_score(y, prob) if both else np.nan,
        "ap": skm.average_precision_score(y, prob) if both else np.nan,
        "accuracy": float(right.mean()) if len(y) else np.nan,
        "f1": skm.f1_score(y, pred, zero_division=0) if len(y) else np.nan,
        "real_acc": float(right[y == 0].mean()) if (y == 0).any() else np.nan,
        "fake_acc": float(right[y == 1].mean()) if (y == 1).any() else np.nan,
    }  # fmt: skip


def format_generator_table(table: pd.DataFrame) -> str:
    """The per-generator table as text: scores to 3 decimals, ``n/a`` where undefined."""
    shown = table.copy()
    for column in ("images", "real", "fake"):
        shown[column] = [f"{int(v):,}" if pd.notna(v) else "" for v in shown[column]]
    for column in ("auc", "ap", "accuracy", "f1", "real_acc", "fake_acc"):
        shown[column] = [f"{v:.3f}" if pd.notna(v) else "n/a" for v in shown[column]]
    return shown.to_string(index=False)


def _auc_of_ranks(y_true, ranks) -> float:
    """ROC AUC as the Mann-Whitney statistic of the scores' ranks (ties averaged): the
    value :func:`sklearn.metrics.roc_auc_score` gives. With the ranks computed once, the
    thousand label shuffles of :func:`shuffled_floor` cost milliseconds, not seconds."""
    y_true = np.asarray(y_true, dtype=bool)
    positives, negatives = int(y_true.sum()), int((~y_true).sum())
    return float((ranks[y_true].sum() - positives * (positives + 1) / 2) / (positives * negatives))


SHUFFLE_SCORES = {
    "auc": lambda y, p: _auc_of_ranks(y, rankdata(p)),
    "ap": skm.average_precision_score,
    "f1": lambda y, p, threshold=0.5: skm.f1_score(y, p >= threshold, zero_division=0),
}


def shuffled_floor(
    y_true,
    prob,
    score: str = "auc",
    q: float = 99.0,
    n: int = 1000,
    seed: int = 0,
    threshold: float = 0.5,
) -> float:
    """The ``q``-th percentile of ``score`` when the labels are shuffled: what a model
    that learned nothing reaches by luck on a set of this size and class ratio. A learned
    result's floor in a notebook's checks must lie above it, or the check cannot fail.

    Args:
        score: ``"auc"``, ``"ap"`` or ``"f1"`` (at ``threshold``).
    """
    y_true, prob = np.asarray(y_true, dtype=np.int64), np.asarray(prob, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if score == "auc":  # the scores' ranks do not change under shuffled labels
        ranks = rankdata(prob)
        values = [_auc_of_ranks(rng.permutation(y_true), ranks) for _ in range(n)]
    else:
        fn = SHUFFLE_SCORES[score]
        kw = {"threshold": threshold} if score == "f1" else {}
        values = [fn(rng.permutation(y_true), prob, **kw) for _ in range(n)]
    return float(np.percentile(values, q))


@dataclass(frozen=True)
class Learning:
    """Whether a model's scores on one split beat what shuffled labels reach.

    Attributes:
        auc: ROC AUC of the scores.
        floor: the 99th percentile of the AUC under shuffled labels
            (:func:`shuffled_floor`) on the same split.
    """

    auc: float
    floor: float

    @property
    def learned(self) -> bool:
        """The AUC clears the floor: less than one shuffle in a hundred reaches it."""
        return bool(self.auc > self.floor)

    def __str__(self) -> str:
        state = "learned" if self.learned else "not learned"
        return f"{state} (AUC {self.auc:.3f} vs shuffled 99th pct {self.floor:.3f})"


def learning(y_true, prob, q: float = 99.0, n: int = 1000, seed: int = 0) -> Learning:
    """Has a model learned anything: its AUC on ``(y_true, prob)`` against the ``q``-th
    percentile of the AUC under shuffled labels. The one rule for "not learned", used by
    the notebooks' checks (:meth:`dflib.checks.Checks.learned_auc`) and by the studies
    that read many runs (:mod:`dflib.study.leaderboard`, :mod:`dflib.study.claims`), so a
    model that has not learned is never evidence for or against a ranking.

    Raises:
        ValueError: one class only (no AUC: nothing tells learned from not).
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    if len(np.unique(y_true)) != 2:
        raise ValueError(
            f"learning() needs both classes in y_true to compute an AUC; found only "
            f"{sorted(set(y_true.tolist()))} in {len(y_true)} labels. Score a split with "
            "real and fake images."
        )
    return Learning(
        SHUFFLE_SCORES["auc"](y_true, prob), shuffled_floor(y_true, prob, "auc", q, n, seed)
    )


def all_fake_f1(y_true) -> float:
    """F1 of the fake class when every image is called fake: ``2p / (1 + p)`` for a fake
    share ``p``. A score at or below it is what a model that learned nothing reaches by
    answering "fake" always (17% fakes: 0.291)."""
    return constant_predictor(y_true, predict=1)["f1"]
