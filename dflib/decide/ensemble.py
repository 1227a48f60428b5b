"""Ensembles of finished runs: soft voting, fitted weights, rank averaging, greedy selection.

The write-ups propose soft voting (`docs/writeups.md#decisions`), averaging the probabilities of models with
different architectures. Whether it helps depends on how differently the models err,
so the correlation of their predictions is shown beside every combination. Weights
and the greedy selection are fitted on validation, so validation flatters them; the
hidden test labels of the embedded benchmark (or a fresh labelled set) are the fair
judge.

Every combiner takes a table of scores (rows: images, columns: runs) as returned by
:func:`load_predictions`, which aligns the runs' prediction files by image id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score

from dflib.metrics import best_threshold
from dflib.train.runs import RunFolder, run_folder

EPS = 1e-12


@dataclass
class Aligned:
    """Scores of several runs on the same images.

    Attributes:
        labels: label per image id (-1 where unknown).
        probs: one column per run, the same index as ``labels``.
        split: ``"val"`` or ``"test"``.
    """

    labels: pd.Series
    probs: pd.DataFrame
    split: str = "val"

    @property
    def names(self) -> list[str]:
        return list(self.probs.columns)

    @property
    def has_labels(self) -> bool:
        return bool(len(self.labels)) and bool((self.labels >= 0).all())


def align(frames: Mapping[str, pd.DataFrame], split: str = "val") -> Aligned:
    """Align ``id,label,prob`` frames (one per run) by image id.

    Raises:
        ValueError: the runs do not score the same images (the message names the runs
            and ids that differ), an id appears twice, or two runs disagree on a label.
    """
    if not frames:
        raise ValueError("no runs given: an ensemble needs at least one run")
    indexed = {}
    for name, frame in frames.items():
        ids = frame["id"].astype(str)
        if ids.duplicated().any():
            raise ValueError(
                f"run {name}: {split} ids appear twice: {ids[ids.duplicated()].tolist()[:5]}"
            )
        indexed[name] = frame.assign(id=ids).set_index("id")
    first, *others = indexed
    reference = set(indexed[first].index)
    problems = []
    for name in others:
        here = set(indexed[name].index)
        if here != reference:
            extra, missing = sorted(here - reference), sorted(reference - here)
            problems.append(
                f"  {name}: {len(here)} ids vs {len(reference)} in {first}; only in {name}: "
                f"{extra[:5]}{' ...' if len(extra) > 5 else ''} ({len(extra)}); missing from "
                f"{name}: {missing[:5]}{' ...' if len(missing) > 5 else ''} ({len(missing)})"
            )
    if problems:
        raise ValueError(
            f"the {split} predictions of runs {', '.join(indexed)} are not on the same images:\n"
            + "\n".join(problems)
            + "\nAn ensemble needs runs trained on the same data with the same split (seed, "
            "val_fraction, train_images); retrain the odd run(s) with those settings."
        )
    index = sorted(reference)
    probs = pd.DataFrame({name: f["prob"].reindex(index) for name, f in indexed.items()})
    labels = pd.DataFrame({name: f["label"].reindex(index) for name, f in indexed.items()})
    disagree = labels.nunique(axis=1) > 1
    if disagree.any():
        raise ValueError(f"runs {', '.join(indexed)} disagree on the {split} labels of "
                         f"{int(disagree.sum())} image(s), e.g. {list(labels.index[disagree][:5])}")  # fmt: skip
    probs.index.name = "id"
    return Aligned(labels.iloc[:, 0].astype(int).rename("label"), probs, split)


def load_predictions(runs: list[RunFolder | str | os.PathLike], split: str = "val") -> Aligned:
    """The ``predictions_<split>.csv`` of each run, aligned by id (columns: run names)."""
    folders = [r if isinstance(r, RunFolder) else run_folder(r) for r in runs]
    names = _unique([f.name for f in folders])
    return align({n: f.read_predictions(split) for n, f in zip(names, folders, strict=True)}, split)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def _weights(probs: pd.DataFrame, weights: Mapping[str, float] | pd.Series | None) -> np.ndarray:
    if weights is None:
        return np.full(probs.shape[1], 1.0 / probs.shape[1])
    w = pd.Series(weights, dtype=float).reindex(probs.columns).fillna(0.0).to_numpy()
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum, got {dict(weights)}")
    return w / w.sum()


def soft_vote(
    probs: pd.DataFrame, weights: Mapping[str, float] | pd.Series | None = None
) -> pd.Series:
    """Weighted mean of the probabilities (plain mean without ``weights``)."""
    return pd.Series(probs.to_numpy() @ _weights(probs, weights), index=probs.index, name="prob")


def fit_weights(probs: pd.DataFrame, y_true) -> pd.Series:
    """Non-negative weights summing to 1 that minimise the validation log-loss of the
    weighted mean (a convex problem: the mean is linear in the weights).

    Log-likelihood rather than AUC or F1: it is smooth, so scipy finds its optimum, and
    it rewards probabilities that are right, not only ranked right.
    """
    p, y = probs.to_numpy(dtype=np.float64), np.asarray(y_true, dtype=np.float64)
    k = p.shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        mix = np.clip(p @ w, EPS, 1 - EPS)
        value = -np.mean(y * np.log(mix) + (1 - y) * np.log(1 - mix))
        grad = -((y / mix - (1 - y) / (1 - mix))[:, None] * p).mean(axis=0)
        return float(value), grad

    start = np.full(k, 1.0 / k)
    found = minimize(loss, start, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * k,
                     constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0},))  # fmt: skip
    w = np.clip(found.x if found.success else start, 0.0, None)
    return pd.Series(w / w.sum(), index=probs.columns, name="weight")


def rank_scores(probs: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each model's scores as their empirical CDF among ``reference`` scores (itself by
    default), interpolated linearly between reference points so no new ties appear.

    Rank averaging ignores how each model's probabilities are scaled. With the
    validation scores as the reference, test scores land on the same scale, so a
    threshold tuned on validation ranks means the same on test.
    """
    reference = probs if reference is None else reference
    out = {}
    for name in probs.columns:
        ref = np.sort(reference[name].to_numpy(dtype=np.float64))
        values = np.unique(ref)
        # ECDF at each distinct reference value: share of reference scores <= it
        cdf = np.searchsorted(ref, values, side="right") / len(ref)
        out[name] = np.interp(probs[name].to_numpy(dtype=np.float64), values, cdf, left=0.0,
                              right=1.0)  # fmt: skip
    return pd.DataFrame(out, index=probs.index)


def rank_average(
    probs: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    weights: Mapping[str, float] | pd.Series | None = None,
) -> pd.Series:
    """(Weighted) mean of :func:`rank_scores`: a score in [0, 1], not a probability."""
    return soft_vote(rank_scores(probs, reference), weights).rename("rank")


def correlation(probs: pd.DataFrame, method: str = "spearman") -> pd.DataFrame:
    """Correlation of the models' scores: near 1 means they err alike and averaging
    them gains little."""
    return probs.corr(method=method)


def ensemble_score(y_true, scores, metric: str = "auc") -> float:
    """``"auc"``, or ``"f1"``: validation F1 at the scores' own tuned threshold."""
    if metric == "auc":
        return float(roc_auc_score(y_true, scores))
    if metric == "f1":
        return best_threshold(y_true, scores)[1]
    raise ValueError(f"metric {metric!r}: expected 'auc' or 'f1'")


@dataclass
class Selection:
    """Greedy forward selection: the weights (bag counts / bag size) and each step."""

    weights: pd.Series
    history: pd.DataFrame


def greedy_selection(
    probs: pd.DataFrame, y_true, metric: str = "auc", max_steps: int | None = None
) -> Selection:
    """Caruana et al. (2004) forward selection with replacement on validation.

    Start from the best single model; at each step add the model (possibly again) whose
    addition gives the best ``metric`` of the bag's mean; stop when no addition improves
    it or after ``max_steps`` (default: twice the number of models).
    """
    y = np.asarray(y_true, dtype=np.int64)
    p = probs.to_numpy(dtype=np.float64)
    names = list(probs.columns)
    single = [ensemble_score(y, p[:, j], metric) for j in range(len(names))]
    counts = np.zeros(len(names), dtype=np.int64)
    counts[int(np.argmax(single))] = 1
    best = max(single)
    rows = [{"step": 1, "added": names[int(np.argmax(single))], "score": best}]
    for step in range(2, (max_steps or 2 * len(names)) + 1):
        trials = [ensemble_score(y, (p @ (counts + np.eye(len(names))[j])) / (counts.sum() + 1),
                                 metric) for j in range(len(names))]  # fmt: skip
        j = int(np.argmax(trials))
        if trials[j] <= best + 1e-12:
            break
        counts[j] += 1
        best = trials[j]
        rows.append({"step": step, "added": names[j], "score": best})
    history = pd.DataFrame(rows)
    history["bag"] = [", ".join(history["added"][: i + 1]) for i in range(len(history))]
    return Selection(pd.Series(counts / counts.sum(), index=names, name="weight"), history)
