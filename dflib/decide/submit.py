"""What a run decides: its threshold (``threshold.json``) and its ``submission.csv``.

Training writes a threshold tuned on validation into ``metrics.json``; notebook 10
re-tunes it (optionally with a recall floor) and records the choice and how it was
made in ``threshold.json`` beside it, which :func:`read_threshold` prefers. When the
run's data folder holds a ``sample_submission.csv``, the submission follows it (its
columns, id spelling, row order and kind of value: :mod:`dflib.data.template`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dflib.data import DataError, load_hidden_test_labels, load_test_if_present, resolve_data_dir
from dflib.data.template import Template, find_template, read_template, write_filled
from dflib.decide.calibration import TunedThreshold
from dflib.metrics import by_generator
from dflib.train.runs import RunFolder, run_folder, write_json


def labelled_sets(run: RunFolder | str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"validation": (labels, probs)}``, plus ``"hidden test"`` when every test image
    of the run has a known label (the embedded benchmark keeps them aside)."""
    run = _as_run(run)
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
        named = [t.assign(run=_as_run(r).root.name) for r, t in zip(run, tables, strict=True)
                 if t is not None]  # fmt: skip
        return pd.concat(named, ignore_index=True) if named else None
    run = _as_run(run)
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


def _as_run(run: RunFolder | str | os.PathLike) -> RunFolder:
    return run if isinstance(run, RunFolder) else run_folder(run)


def write_threshold(
    run: RunFolder | str | os.PathLike,
    tuned: TunedThreshold | float,
    **extra: Any,
) -> Path:
    """Write ``threshold.json`` into the run folder: the decision threshold a submission
    of this run should use, with how it was chosen.

    Args:
        run: the run folder (or its name / path).
        tuned: the :class:`TunedThreshold` (or a bare threshold).
        extra: anything else worth keeping beside it (temperature, bootstrap spread, ...).
    """
    run = _as_run(run)
    values = tuned.to_dict() if isinstance(tuned, TunedThreshold) else {"threshold": float(tuned)}
    values = {**values, "tuned_on": "validation", **extra}
    return write_json(run.threshold, values)


def read_threshold(run: RunFolder | str | os.PathLike) -> float:
    """The run's threshold: ``threshold.json`` if written, else the one in ``metrics.json``
    (tuned on validation by training), else 0.5."""
    return _as_run(run).decision_threshold()


def submission(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """``id,label`` rows: label 1 (fake) where ``prob >= threshold``."""
    return pd.DataFrame({"id": frame["id"].astype(str),
                         "label": (frame["prob"].to_numpy() >= threshold).astype(int)})  # fmt: skip


def run_template(run: RunFolder | str | os.PathLike) -> Template | None:
    """The ``sample_submission.csv`` beside the run's data, if it has one (the embedded
    benchmark has none)."""
    run = _as_run(run)
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
    """Threshold the run's test predictions into ``submission.csv`` (in the run folder by
    default), following the data's ``sample_submission.csv`` when there is one.

    Test images that could not be decoded have no row in ``predictions_test.csv``; they
    are named here. ``python -m dflib predict``
    (:func:`dflib.train.predict.write_predicted_submission`) gives each of them a row (the
    training share of fakes) when a complete file is required.
    """
    run = _as_run(run)
    out = Path(out) if out is not None else run.root / "submission.csv"
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
