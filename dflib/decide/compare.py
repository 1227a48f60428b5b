"""Single runs and ensembles side by side, and the ensemble's submission.

Each method (every run alone, the plain mean, weights fitted on validation, rank
averaging, the greedy selection) gets its own threshold tuned on validation; the
hidden test labels, when known, say which of the validation gains are real. The
chosen method's test scores, thresholded, are the submission.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from dflib.decide.ensemble import Aligned, fit_weights, greedy_selection, rank_average, soft_vote
from dflib.decide.submit import run_template, write_thresholded
from dflib.metrics import best_threshold, binary_metrics
from dflib.train.runs import run_folder, write_json


@dataclass
class Comparison:
    """Single runs and ensembles side by side.

    Attributes:
        table: one row per method: validation AUC, F1 at 0.5 (NaN for rank averaging,
            whose scores are not probabilities), the threshold tuned on validation and its
            F1, and the same threshold's F1 / the AUC on the test labels when known.
        weights: one row per ensemble method, one column per run.
        val, test: the scores of every method (columns) on validation and test.
    """

    table: pd.DataFrame
    weights: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame

    def best(self, column: str = "val_f1_tuned") -> str:
        """The method with the highest ``column`` (first in table order on a tie)."""
        return str(self.table[column].astype(float).idxmax())


def merge(comparisons: dict[str, Comparison]) -> Comparison:
    """Several comparisons in one (e.g. plain and flip-TTA scores), each method's name
    suffixed with its comparison's key, so one ``best()`` and one submission cover all."""
    parts = comparisons.items()

    def tag(frame: pd.DataFrame, suffix: str, axis: int) -> pd.DataFrame:
        return frame.rename(lambda name: f"{name}{suffix}", axis=axis)

    return Comparison(
        pd.concat([tag(c.table, s, 0) for s, c in parts]),
        pd.concat([tag(c.weights, s, 0) for s, c in parts]),
        pd.concat([tag(c.val, s, 1) for s, c in parts], axis=1),
        pd.concat([tag(c.test, s, 1) for s, c in parts], axis=1),
    )


def compare_methods(
    val: Aligned,
    test: Aligned | None = None,
    *,
    selection_metric: str = "auc",
    min_recall: float | None = None,
) -> Comparison:
    """Each run alone, the plain mean, fitted weights, rank averaging and the greedy
    selection, each with its own threshold tuned on validation.

    Args:
        val: validation scores (labels known): weights, selection and thresholds are fitted here.
        test: test scores of the same runs; scored when their labels are known.
        selection_metric: ``"auc"`` or ``"f1"`` for :func:`greedy_selection`.
        min_recall: recall constraint for every tuned threshold.
    """
    if not val.has_labels:
        raise ValueError("validation labels are needed to fit and compare ensembles")
    y = val.labels.to_numpy()
    names = val.names
    eye = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    weights = {**{n: eye.loc[n] for n in names}, "mean": pd.Series(1 / len(names), index=names),
               "fitted_weights": fit_weights(val.probs, y),
               "greedy": greedy_selection(val.probs, y, selection_metric).weights}  # fmt: skip
    val_scores = {m: soft_vote(val.probs, w) for m, w in weights.items()}
    val_scores["rank_average"] = rank_average(val.probs)
    test_scores = {}
    if test is not None:
        test_scores = {m: soft_vote(test.probs[names], w) for m, w in weights.items()}
        test_scores["rank_average"] = rank_average(test.probs[names], reference=val.probs)
    weights["rank_average"] = weights["mean"]
    rows = {}
    for method, scores in val_scores.items():
        threshold, f1 = best_threshold(y, scores, min_recall=min_recall)
        row = {"val_auc": roc_auc_score(y, scores), "val_f1_at_0.5": binary_metrics(y, scores)["f1"],
               "threshold": threshold, "val_f1_tuned": f1}  # fmt: skip
        if test is not None and test.has_labels:
            y_test, s = test.labels.to_numpy(), test_scores[method]
            row.update({"test_auc": roc_auc_score(y_test, s), "test_f1_at_0.5": binary_metrics(y_test, s)["f1"],
                        "test_f1_tuned": binary_metrics(y_test, s, threshold)["f1"]})  # fmt: skip
        rows[method] = row
    table = pd.DataFrame(rows).T
    table.index.name = "method"
    # rank scores are not probabilities: 0.5 is the validation median, not a decision
    table.loc["rank_average", [c for c in table if c.endswith("_at_0.5")]] = np.nan
    return Comparison(table, pd.DataFrame(weights).T, pd.DataFrame(val_scores),
                      pd.DataFrame(test_scores))  # fmt: skip


def write_ensemble(
    out: str | os.PathLike,
    comparison: Comparison,
    method: str,
    *,
    runs: list[str] | None = None,
    min_recall: float | None = None,
) -> Path:
    """An ensemble's run-like folder: ``submission.csv`` (``id,label`` at the method's
    threshold tuned on validation), ``predictions_test.csv`` (its scores) and
    ``ensemble.json`` (method, members, weights, threshold, scores) for the leaderboard.

    Args:
        out: a folder name under ``runs/`` or a path.
        comparison: from :func:`compare_methods` (with test scores).
        method: a row of ``comparison.table``.
        runs: the member runs' folders, recorded as given.
        min_recall: the recall constraint the threshold was tuned with.

    Returns:
        The path of ``submission.csv``.
    """
    if method not in comparison.table.index:
        raise ValueError(f"method {method!r}: expected one of {list(comparison.table.index)}")
    if method not in comparison.test:
        raise ValueError("the comparison has no test scores: pass test=... to compare_methods")
    folder = run_folder(out).root
    folder.mkdir(parents=True, exist_ok=True)
    scores = comparison.test[method]
    threshold = float(comparison.table.loc[method, "threshold"])
    frame = pd.DataFrame({"id": scores.index.astype(str), "prob": scores.to_numpy()})
    frame.to_csv(folder / "predictions_test.csv", index=False, float_format="%.6f")
    first = run_folder(runs[0]) if runs else None
    template = run_template(first) if first is not None else None
    prior = first.fake_share() if template is not None else 0.5
    write_thresholded(frame, threshold, folder / "submission.csv", template, prior)
    write_json(folder / "ensemble.json", {
        "method": method, "runs": runs or list(comparison.weights.columns),
        "weights": comparison.weights.loc[method].to_dict(), "threshold": threshold,
        "min_recall": min_recall, "scores": comparison.table.loc[method].to_dict(),
    })  # fmt: skip
    return folder / "submission.csv"
