"""Which threshold turns a run's scores into labels, how calibrated its probabilities are,
and the submission it decides (``threshold.json``, ``submission.csv``).

The second write-up reports that tuning the threshold on validation "gives a significant
gain" over 0.5; a class-weighted model (`docs/writeups.md#findings`: weights ``[0.6024, 2.9412]``)
over-predicts fakes at 0.5 because its probabilities are not calibrated to the 5:1
prior. This module measures that claim instead of assuming it: the gain on validation,
how much of it survives on another labelled set (the embedded benchmark's hidden test
labels), the bootstrap spread of the chosen threshold, and the calibration (ECE, Brier,
reliability) before and after temperature scaling.

The threshold search itself is :func:`dflib.metrics.best_threshold` (one search, with
the metrics); this module only wraps it.

Training writes a threshold tuned on validation into ``metrics.json``; notebook 10
re-tunes it (optionally with a recall floor) and records the choice and how it was
made in ``threshold.json`` in its own study folder (``<studies>/threshold/<run>/``: the
run folder is read-only input), which :func:`read_threshold` and ``predict`` prefer. When the
run's data folder holds a ``sample_submission.csv``, the submission follows it (its
columns, id spelling, row order and kind of value: :mod:`dflib.data.template`).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit
from sklearn.metrics import brier_score_loss, log_loss

from dflib.data import DataError, load_hidden_test_labels, load_test_if_present, resolve_data_dir
from dflib.data.template import Template, find_template, read_template, write_filled
from dflib.metrics import best_threshold, binary_metrics, by_generator, threshold_table
from dflib.train.runs import RunFolder, run_folder, write_json

# probabilities are clipped this far from 0 and 1 before taking logits (CSV files hold
# six decimals, so 0.000000 and 1.000000 occur and must not become infinite)
EPS = 1e-12


@dataclass(frozen=True)
class TunedThreshold:
    """The chosen threshold and what it gives on the set it was tuned on."""

    threshold: float
    f1: float
    precision: float
    recall: float
    min_recall: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def threshold_curves(y_true, prob) -> pd.DataFrame:
    """F1, precision and recall at every distinct score used as the threshold (descending)."""
    return pd.DataFrame(threshold_table(y_true, prob))


def tune_threshold(y_true, prob, min_recall: float | None = None) -> TunedThreshold:
    """Highest-F1 threshold (ties to higher recall), optionally with recall >= ``min_recall``."""
    threshold, f1 = best_threshold(y_true, prob, min_recall=min_recall)
    scores = binary_metrics(y_true, prob, threshold)
    return TunedThreshold(threshold, f1, scores["precision"], scores["recall"], min_recall)


def bootstrap_threshold(
    y_true, prob, n: int = 200, seed: int = 42, min_recall: float | None = None
) -> pd.DataFrame:
    """Tune the threshold on ``n`` bootstrap resamples of the labelled set.

    A threshold that moves a lot between resamples is chosen by a handful of images; the
    F1 columns say what that costs.

    Returns:
        One row per resample: ``threshold`` and ``f1`` (tuned on the resample, an
        optimistic in-sample score) and ``f1_full`` (that threshold applied to the whole set).
    """
    y_true, prob = np.asarray(y_true, dtype=np.int64), np.asarray(prob, dtype=np.float64)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        pick = rng.integers(0, len(y_true), len(y_true))
        threshold, f1 = best_threshold(y_true[pick], prob[pick], min_recall=min_recall)
        full = binary_metrics(y_true, prob, threshold)["f1"]
        rows.append({"threshold": threshold, "f1": f1, "f1_full": full})
    return pd.DataFrame(rows)


def spread(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation and the central ``level`` interval of each column."""
    low, high = (1 - level) / 2, 1 - (1 - level) / 2
    return pd.DataFrame({"mean": frame.mean(), "std": frame.std(ddof=1),
                         f"q{low:.3g}": frame.quantile(low),
                         f"q{high:.3g}": frame.quantile(high)})  # fmt: skip


def threshold_gain(
    y_val, prob_val, threshold: float, others: dict[str, tuple[Any, Any]] | None = None
) -> pd.DataFrame:
    """F1 at 0.5 vs at the tuned ``threshold`` on validation and on other labelled sets.

    Args:
        y_val, prob_val: the set the threshold was tuned on.
        threshold: the tuned threshold.
        others: ``{name: (labels, probs)}`` of held-out labelled sets (e.g. the hidden
            test labels); their rows show how much of the validation gain survives.

    Returns:
        One row per set: ``f1_at_0.5``, ``f1_tuned``, ``gain``, ``best_possible_f1`` (the
        set's own best threshold: an upper bound, not a fair score) and, on the other
        sets, ``gain_kept`` = their gain / the validation gain.
    """
    sets = {"validation": (y_val, prob_val), **(others or {})}
    rows = {}
    for name, (y, p) in sets.items():
        y, p = np.asarray(y, dtype=np.int64), np.asarray(p, dtype=np.float64)
        at_half = binary_metrics(y, p, 0.5)["f1"]
        tuned = binary_metrics(y, p, threshold)["f1"]
        rows[name] = {"n": len(y), "f1_at_0.5": at_half, "f1_tuned": tuned,
                      "gain": tuned - at_half, "best_possible_f1": best_threshold(y, p)[1]}  # fmt: skip
    table = pd.DataFrame(rows).T
    base = table.loc["validation", "gain"]
    table["gain_kept"] = table["gain"] / base if abs(base) > 1e-12 else np.nan
    table.loc["validation", "gain_kept"] = np.nan
    table["n"] = table["n"].astype(int)
    return table


def _bin_ids(prob: np.ndarray, n_bins: int) -> np.ndarray:
    # the binning of sklearn.calibration.calibration_curve(strategy="uniform"), so the
    # table, the ECE and scikit-learn's curve agree bin for bin
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], prob)


def reliability_table(y_true, prob, n_bins: int = 10) -> pd.DataFrame:
    """Equal-width bins of the predicted probability of "fake": count, mean probability
    and the observed share of fakes (empty bins kept, with NaN)."""
    y_true, prob = np.asarray(y_true, dtype=np.float64), np.asarray(prob, dtype=np.float64)
    ids = _bin_ids(prob, n_bins)
    count = np.bincount(ids, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_prob = np.bincount(ids, prob, n_bins) / count
        frac_fake = np.bincount(ids, y_true, n_bins) / count
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "count": count,
                         "mean_prob": mean_prob, "frac_fake": frac_fake})  # fmt: skip


def expected_calibration_error(y_true, prob, n_bins: int = 10) -> float:
    """ECE with equal-width bins: the count-weighted mean gap between the predicted
    probability of "fake" and the observed share of fakes in each bin."""
    table = reliability_table(y_true, prob, n_bins).query("count > 0")
    gaps = (table["mean_prob"] - table["frac_fake"]).abs()
    return float((gaps * table["count"]).sum() / table["count"].sum())


def calibration_scores(y_true, prob, n_bins: int = 10) -> dict[str, float]:
    """ECE, Brier score and negative log-likelihood (lower is better for all three)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    prob = np.clip(np.asarray(prob, dtype=np.float64), EPS, 1 - EPS)
    return {"ece": expected_calibration_error(y_true, prob, n_bins),
            "brier": float(brier_score_loss(y_true, prob)),
            "nll": float(log_loss(y_true, prob, labels=[0, 1]))}  # fmt: skip


@dataclass
class TemperatureScaler:
    """One temperature ``T`` fitted on validation: ``p' = sigmoid(logit(p) / T)``.

    ``T > 1`` softens an over-confident model, ``T < 1`` sharpens an under-confident one.
    Dividing every logit by the same positive number keeps their order, so AUC and the
    ranking are unchanged and a threshold keeps its decisions once mapped with
    :meth:`transform_threshold`; only the probabilities (ECE, Brier, NLL) change.
    """

    temperature: float = 1.0

    def fit(self, y_true, prob, bounds: tuple[float, float] = (0.01, 100.0)) -> TemperatureScaler:
        """Minimise the validation NLL over ``T`` (searched on ``log T`` within ``bounds``)."""
        y = np.asarray(y_true, dtype=np.float64)
        z = _logits(prob)

        def nll(log_t: float) -> float:
            s = z / np.exp(log_t)
            # -log sigmoid(s) for fakes, -log sigmoid(-s) for reals, computed stably
            return float(np.mean(np.logaddexp(0.0, -s) * y + np.logaddexp(0.0, s) * (1 - y)))

        found = minimize_scalar(nll, bounds=tuple(np.log(bounds)), method="bounded",
                                options={"xatol": 1e-6})  # fmt: skip
        self.temperature = float(np.exp(found.x))
        return self

    def transform(self, prob) -> np.ndarray:
        """The calibrated probabilities of ``prob`` (any set: validation, test)."""
        return expit(_logits(prob) / self.temperature)

    def transform_threshold(self, threshold: float) -> float:
        """The calibrated threshold that makes the same decisions as ``threshold``."""
        return float(self.transform(np.array([threshold]))[0])


def _logits(prob) -> np.ndarray:
    return logit(np.clip(np.asarray(prob, dtype=np.float64), EPS, 1 - EPS))


def calibration_report(
    sets: dict[str, tuple[Any, Any]], scaler: TemperatureScaler, n_bins: int = 10
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """ECE, Brier and NLL of each labelled set before and after temperature scaling, and
    the reliability tables behind them.

    The scaler is fitted on validation, so its validation rows flatter it; a held-out
    set (the hidden test labels) says whether the calibration carries over.

    Returns:
        A table indexed by ``(set, "raw" | "scaled")`` and the reliability tables keyed
        ``"<set>, raw"`` / ``"<set>, scaled"``.
    """
    rows, tables = {}, {}
    for name, (y, prob) in sets.items():
        for variant, p in (
            ("raw", np.asarray(prob, dtype=float)),
            ("scaled", scaler.transform(prob)),
        ):
            rows[(name, variant)] = calibration_scores(y, p, n_bins)
            tables[f"{name}, {variant}"] = reliability_table(y, p, n_bins)
    report = pd.DataFrame(rows).T
    report.index.names = ["set", "probabilities"]
    return report, tables


def labelled_sets(run: RunFolder | str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"validation": (labels, probs)}``, plus ``"hidden test"`` when every test image
    of the run has a known label (the embedded benchmark keeps them aside)."""
    run = run_folder(run)
    val = run.read_predictions("val")
    sets = {"validation": (val["label"].to_numpy(), val["prob"].to_numpy())}
    if run.predictions_test.is_file():
        test = run.read_predictions("test")
        if len(test) and (test["label"] >= 0).all():
            sets["hidden test"] = (test["label"].to_numpy(), test["prob"].to_numpy())
    return sets


def scores_by_generator(
    run: RunFolder | str | os.PathLike | list, threshold: float | None = None
) -> pd.DataFrame | None:
    """The run's labelled test predictions scored per generator, the mean over generators
    and pooled (:func:`dflib.metrics.by_generator`), at ``threshold`` (default: the run's
    decision threshold). The generators are the embedded benchmark's families (its reals,
    which have none, count in every row) or the generator folders of a user's test split
    (``test/<generator>/{0_real,1_fake}``); ``None`` where the data names fewer than two.
    Several runs give one table with a ``run`` column (each at its own threshold)."""
    if isinstance(run, list | tuple):
        tables = [scores_by_generator(r, threshold) for r in run]
        named = [t.assign(run=run_folder(r).root.name) for r, t in zip(run, tables, strict=True)
                 if t is not None]  # fmt: skip
        return pd.concat(named, ignore_index=True) if named else None
    run = run_folder(run)
    if not run.predictions_test.is_file():
        return None
    test = run.read_predictions("test")
    test = test[test["label"] >= 0]
    params = run.read_json("params")
    root = resolve_data_dir(
        params.get("data_dir", "synthetic"), params.get("synthetic_size", "full")
    )
    hidden = load_hidden_test_labels(root)
    if hidden is not None and "family" in hidden.columns:
        lookup = dict(zip(hidden["id"].astype(str), hidden["family"].fillna(""), strict=True))
    else:
        table = load_test_if_present(root, classes=params.get("classes") or None)
        if table is None or table.generators is None:
            return None
        lookup = dict(zip(table.frame["id"].astype(str), table.generators, strict=True))
    generators = test["id"].astype(str).map(lookup).fillna("")
    if generators[generators != ""].nunique() < 2:
        return None
    threshold = run.decision_threshold() if threshold is None else threshold
    return by_generator(test["label"], test["prob"], generators, threshold)


def write_threshold(
    run: RunFolder | str | os.PathLike,
    tuned: TunedThreshold | float,
    **extra: Any,
) -> Path:
    """Write ``threshold.json`` into the run's threshold study folder
    (``<studies>/threshold/<run>/``, never the run folder): the decision threshold a
    submission of this run should use, with how it was chosen. ``predict`` and
    :meth:`~dflib.train.runs.RunFolder.decision_threshold` find it there.

    Args:
        run: the run folder (or its name / path).
        tuned: the :class:`TunedThreshold` (or a bare threshold).
        extra: anything else worth keeping beside it (temperature, bootstrap spread, ...).
    """
    run = run_folder(run)
    values = tuned.to_dict() if isinstance(tuned, TunedThreshold) else {"threshold": float(tuned)}
    values = {**values, "tuned_on": "validation", "run": str(run.root), **extra}
    return write_json(run.tuned_threshold, values)


def read_threshold(run: RunFolder | str | os.PathLike) -> float:
    """The run's threshold: ``threshold.json`` if written, else the one in ``metrics.json``
    (tuned on validation by training), else 0.5."""
    return run_folder(run).decision_threshold()


def submission(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """``id,label`` rows: label 1 (fake) where ``prob >= threshold``."""
    return pd.DataFrame({"id": frame["id"].astype(str),
                         "label": (frame["prob"].to_numpy() >= threshold).astype(int)})  # fmt: skip


def run_template(run: RunFolder | str | os.PathLike) -> Template | None:
    """The ``sample_submission.csv`` beside the run's data, if it has one (the embedded
    benchmark has none)."""
    run = run_folder(run)
    params = run.read_json("params") if run.params.is_file() else {}
    if str(params.get("data_dir", "synthetic")) == "synthetic":
        return None
    try:
        path = find_template(resolve_data_dir(params["data_dir"]))
    except DataError:  # the data folder has moved since training
        return None
    return read_template(path) if path is not None else None


def write_thresholded(
    frame: pd.DataFrame,
    threshold: float,
    out: Path,
    template: Template | None = None,
    prior: float = 0.5,
) -> Path:
    """``id,label`` at ``threshold`` from ``frame`` (``id``, ``prob``) into ``out``, or
    ``template`` filled in, naming the ids it and the predictions do not share."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if template is None:
        submission(frame, threshold).to_csv(out, index=False)
        return out
    return write_filled(template, frame["id"].astype(str), frame["prob"], threshold, prior, out)


def write_submission(
    run: RunFolder | str | os.PathLike, threshold: float, out: str | os.PathLike | None = None
) -> Path:
    """Threshold the run's test predictions into ``submission.csv`` (by default in the
    run's threshold study folder, beside ``threshold.json``), following the data's ``sample_submission.csv`` when there is one.

    Test images that could not be decoded have no row in ``predictions_test.csv``; they
    are named here. ``python -m dflib predict``
    (:func:`dflib.train.predict.write_predicted_submission`) gives each of them a row (the
    training share of fakes) when a complete file is required.
    """
    run = run_folder(run)
    out = Path(out) if out is not None else run.tuned_threshold.parent / "submission.csv"
    template = run_template(run)
    prior = run.fake_share() if template is not None else 0.5
    write_thresholded(run.read_predictions("test"), threshold, out, template, prior)
    if run.skipped.is_file():
        skipped = pd.read_csv(run.skipped)
        skipped = skipped[skipped.get("split", pd.Series(dtype=str)) == "test"]
        if len(skipped):
            print(f"{len(skipped)} test file(s) were skipped when the run was trained "
                  f"(see {run.skipped}) and have no row in {out.name}")  # fmt: skip
    return out


def submission_summary(path: str | os.PathLike, threshold: float) -> str:
    """One line on a written submission: its rows and how many it calls fake, whatever
    its template's columns (0/1 labels, real/fake words or probabilities)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    values = frame.iloc[:, -1].str.strip().str.lower()
    numbers = pd.to_numeric(values, errors="coerce")
    if values.isin(["real", "fake"]).all():
        fakes = int((values == "fake").sum())
    elif numbers.isin([0, 1]).all() and not values.str.contains(r"\.").any():
        fakes = int(numbers.sum())
    else:
        fakes = int((numbers >= threshold).sum())
    return (f"{Path(path).name}: {len(frame):,} rows ({', '.join(frame.columns)}), "
            f"{fakes:,} called fake at {threshold:.4f}")  # fmt: skip
