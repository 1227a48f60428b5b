"""Does combining runs beat the best one: soft voting, fitted weights, rank averaging,
greedy selection and flip TTA, scored side by side, and the ensemble's submission.

The write-ups propose soft voting (`docs/writeups.md#decisions`), averaging the probabilities of models with
different architectures. Whether it helps depends on how differently the models err,
so the correlation of their predictions is shown beside every combination. Weights
and the greedy selection are fitted on validation, so validation flatters them; the
hidden test labels of the embedded benchmark (or a fresh labelled set) are the fair
judge.

Every combiner takes a table of scores (rows: images, columns: runs) as returned by
:func:`load_predictions`, which aligns the runs' prediction files by image id.

In :func:`compare_methods` each method (every run alone, the plain mean, weights fitted
on validation, rank averaging, the greedy selection) gets its own threshold tuned on
validation; the hidden test labels, when known, say which of the validation gains are
real. The chosen method's test scores, thresholded, are the submission
(:func:`write_ensemble`).

Test-time augmentation (horizontal flip) is measured on validation before it is used.
Averaging a model's probabilities on an image and its mirror costs a second forward
pass; whether it pays is an empirical question per model. :func:`flip_tta_scores`
re-scores a finished run's validation and test images with its saved weights, with and
without the flip, through the training engine's own evaluation (:func:`dflib.train.evaluate`),
so the comparison differs in the flip alone. With a fine-tuning stage the final weights
have trained on the validation images (`docs/writeups.md#write-up-2`), so their
validation scores are not held out: :attr:`TTAScores.val_seen` says so, and the hidden
test labels become the judge.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score

from dflib.decide.threshold import run_template, write_thresholded
from dflib.environment import resolve_path, study_folder
from dflib.metrics import best_threshold, binary_metrics
from dflib.train import evaluate, load_run_model
from dflib.train.inputs import eval_loader, prepare
from dflib.train.runs import RunFolder, run_folder, write_json

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
    folders = [run_folder(r) for r in runs]
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
        out: a folder name under ``<studies>/ensemble/`` or a path.
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
    # a bare name is a study folder (the member runs are only read); a path is taken as given
    folder = study_folder("ensemble", str(out)) if Path(out).name == str(out) else resolve_path(out)
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


@dataclass
class TTAScores:
    """``id,label,prob`` frames of one run: ``val``, ``val_tta``, ``test``, ``test_tta``
    (the test ones only when the data has a test folder)."""

    run: str
    frames: dict[str, pd.DataFrame]
    val_seen: bool

    def gain(self) -> pd.DataFrame:
        """AUC and F1 (threshold tuned on validation, per variant) without and with the
        flip, on validation and, when labelled, on test."""
        rows = []
        for variant in ("", "_tta"):
            val = self.frames["val" + variant]
            threshold, f1 = best_threshold(val["label"], val["prob"])
            row = {"run": self.run, "tta": bool(variant), "threshold": threshold,
                   "val_auc": binary_metrics(val["label"], val["prob"]).get("auc", np.nan),
                   "val_f1_tuned": f1, "val_seen": self.val_seen}  # fmt: skip
            test = self.frames.get("test" + variant)
            if test is not None and (test["label"] >= 0).all():
                scores = binary_metrics(test["label"], test["prob"], threshold)
                row.update({"test_auc": scores.get("auc", np.nan), "test_f1_tuned": scores["f1"]})
            rows.append(row)
        return pd.DataFrame(rows)


def flip_tta_scores(
    run: RunFolder | str | os.PathLike, device: str = "auto", progress: bool = False
) -> TTAScores:
    """Score the run's validation and test images with its final weights, plain and
    with flip TTA.

    The run's data are rebuilt from ``params.json`` (same data folder, subsample, seed
    and so the same validation split; the image cache is reused), and the validation ids
    are checked against ``predictions_val.csv``.

    Raises:
        FileNotFoundError: the run has no ``best.pt``.
        ValueError: the rebuilt validation split differs from the run's.
    """
    run = run_folder(run)
    if not run.best.is_file():
        raise FileNotFoundError(f"{run.root} has no best.pt: TTA needs the run's weights")
    model, config, pipeline, dev = load_run_model(run, device)
    data = prepare(config, progress=progress)
    sets = {"val": (data.cache, data.labels, data.val)}
    if data.test is not None:
        sets["test"] = (data.test, data.test_labels, np.arange(len(data.test)))
    frames = {}
    for split, (cache, labels, positions) in sets.items():
        for tta in (False, True):
            loader = eval_loader(cache, labels, positions, config.batch_size, 0, dev.device)
            out = evaluate(model, loader, pipeline, dev, progress=progress, tta=tta)
            ids = cache.frame["id"].astype(str).to_numpy()[out["positions"]]
            frames[split + ("_tta" if tta else "")] = pd.DataFrame(
                {"id": ids, "label": out["labels"], "prob": out["probs"]}
            )
    expected = set(run.read_predictions("val")["id"].astype(str))
    if set(frames["val"]["id"]) != expected:
        raise ValueError(
            f"the validation split rebuilt from {run.params} differs from the run's "
            "predictions_val.csv (was the data folder changed since training?)"
        )
    return TTAScores(run.name, frames, val_seen=config.finetune_epochs > 0)


def flip_tta_runs(
    runs: list[RunFolder | str | os.PathLike], device: str = "auto", progress: bool = False
) -> tuple[pd.DataFrame, dict[str, Aligned]]:
    """:func:`flip_tta_scores` for several runs.

    Returns:
        The gain table of every run (two rows each: without and with the flip) and the
        re-scored predictions aligned by id (``val``, ``val_tta`` and, when the data has
        a test folder, ``test``, ``test_tta``), ready for
        :func:`compare_methods`.
    """
    scores = [flip_tta_scores(run, device, progress) for run in runs]
    names = [s.run for s in scores]
    if len(set(names)) < len(names):
        names = [f"{n}#{i + 1}" for i, n in enumerate(names)]
    gain = pd.concat([s.gain().assign(run=n) for s, n in zip(scores, names, strict=True)])
    aligned = {
        key: align(
            {n: s.frames[key] for s, n in zip(scores, names, strict=True)}, key.split("_")[0]
        )
        for key in scores[0].frames
    }
    return gain.reset_index(drop=True), aligned
