"""The run folder: the one contract through which notebooks talk to each other.

``runs/<run-name>/`` holds::

    params.json            the TrainConfig and the model's config: everything that made the run
    environment.json       device, precision, versions, core count
    history.csv            one row per epoch (stage, losses, F1, recall, AUC, lr, seconds, images/s)
    metrics.json           validation metrics at 0.5 and at the tuned threshold; hidden-test metrics
    threshold.json         (optional) a decision threshold chosen later (notebook 10)
    predictions_val.csv    id,label,prob (validation split, best main-stage weights)
    predictions_test.csv   id,label,prob (test images; label = -1 unless hidden labels are known)
                           (``.csv.gz`` in a ledger entry, :mod:`dflib.train.ledger`: read the same)
    skipped.csv            the data report: every unusable file and why
    figures/*.png          learning curves, confusion matrix, ROC / PR, errors
    tb/                    (with ``log=("tensorboard",)``) TensorBoard event files: epochs/,
                           steps/, figures/ (:mod:`dflib.train.sink`)
    last.pt                everything needed to resume (weights-only loadable)
    best.pt                the weights to predict with (weights-only loadable)

A run is finished (:func:`is_finished`) once ``params.json``, ``metrics.json`` and the
validation predictions are there. Downstream stages (threshold tuning, ensembles, the
leaderboard) read only these files.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dflib.environment import output_dir, resolve_path

PREDICTION_COLUMNS = ["id", "label", "prob"]

ROLE = "role"  # the params.json key a planner records a run's study role under (train.plan)


@dataclass(frozen=True)
class RunFolder:
    """Paths of one run folder (nothing is created until written)."""

    root: Path

    params = property(lambda self: self.root / "params.json")
    environment = property(lambda self: self.root / "environment.json")
    history = property(lambda self: self.root / "history.csv")
    metrics = property(lambda self: self.root / "metrics.json")
    predictions_val = property(lambda self: self._predictions("val"))
    predictions_test = property(lambda self: self._predictions("test"))
    skipped = property(lambda self: self.root / "skipped.csv")
    threshold = property(lambda self: self.root / "threshold.json")
    figures = property(lambda self: self.root / "figures")
    tb = property(lambda self: self.root / "tb")
    last = property(lambda self: self.root / "last.pt")
    best = property(lambda self: self.root / "best.pt")

    @property
    def name(self) -> str:
        return self.root.name

    def _predictions(self, split: str) -> Path:
        """``predictions_<split>.csv``, or the gzipped copy a ledger entry holds instead."""
        plain = self.root / f"predictions_{split}.csv"
        packed = plain.with_name(plain.name + ".gz")
        return packed if packed.is_file() and not plain.is_file() else plain

    def exists(self) -> bool:
        return self.params.is_file()

    def read_json(self, which: str = "metrics") -> dict[str, Any]:
        """``params``, ``metrics`` or ``environment`` as a dict."""
        path = getattr(self, which)
        if not path.is_file():
            raise FileNotFoundError(_missing(self, path.name))
        return json.loads(path.read_text())

    def decision_threshold(self) -> float:
        """The threshold a submission uses: ``threshold.json`` if a later stage chose one,
        else the one training tuned on validation (``metrics.json``), else 0.5."""
        for path in (self.threshold, self.metrics):
            if path.is_file():
                value = json.loads(path.read_text()).get("threshold")
                if isinstance(value, (int, float)) and math.isfinite(value):
                    return float(value)
        return 0.5

    def fake_share(self) -> float:
        """Share of fakes in the run's training data (from its class weights): the
        probability given to an image that has no prediction."""
        w0, w1 = self.read_json("params")["class_weights"]
        return float(w0 / (w0 + w1))

    def read_history(self) -> pd.DataFrame:
        if not self.history.is_file():
            raise FileNotFoundError(_missing(self, "history.csv"))
        return pd.read_csv(self.history)

    def read_predictions(self, split: str = "val") -> pd.DataFrame:
        path = self.predictions_val if split == "val" else self.predictions_test
        if not path.is_file():
            raise FileNotFoundError(_missing(self, path.name))
        return pd.read_csv(path, dtype={"id": str})


def is_finished(run: RunFolder) -> bool:
    """Training ended: ``params.json``, ``metrics.json`` and the validation predictions.

    ``params.json`` is written before the first epoch and ``metrics.json`` last, after the
    predictions (:func:`dflib.train.finish.finish_run`), so together they mean the run
    ended; the validation predictions are what every later stage reads first. Weights and
    figures are not asked for: a ledger entry (:mod:`dflib.train.ledger`, small files
    only) is a finished run, and so is a run copied back without its ``.pt`` files. Test
    predictions are not either: data without a test split has none.
    """
    return run.params.is_file() and run.metrics.is_file() and run.predictions_val.is_file()


def runs_root(runs_dir: str | os.PathLike | None = None) -> Path:
    """``runs_dir`` resolved against the project root, or ``runs/`` (``$DFLIB_RUNS``)."""
    return resolve_path(runs_dir) if runs_dir else output_dir()


def finished_runs(
    runs_dir: str | os.PathLike | None = None, prefix: str = "", include: str = ""
) -> list[RunFolder]:
    """The finished runs (:func:`is_finished`) under ``runs_dir`` (a runs folder or the
    ledger), by name, names starting with ``prefix`` and matching one of the
    comma-separated globs of ``include`` ("" = any name)."""
    root = runs_root(runs_dir)
    if not root.is_dir():
        return []
    globs = [g.strip() for g in include.split(",") if g.strip()] or ["*"]
    found = [RunFolder(p) for p in sorted(root.iterdir()) if p.is_dir()]
    return [r for r in found if r.name.startswith(prefix) and is_finished(r)
            and any(fnmatch.fnmatch(r.name, g) for g in globs)]  # fmt: skip


def _missing(run: RunFolder, name: str) -> str:
    return (
        f"run {run.root} has no {name}: train it first, e.g. "
        f"`python -m dflib train --out {run.root}` or the matching training notebook"
    )


def run_folder(name_or_path: str | os.PathLike | None = None, arch: str = "run") -> RunFolder:
    """A run folder: a path (relative to the project root), a bare name under ``runs/``,
    or ``None`` for a fresh ``runs/<arch>-<timestamp>``."""
    if not name_or_path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return RunFolder(output_dir() / f"{arch}-{stamp}")
    text = str(name_or_path)
    if os.sep in text or "/" in text or Path(text).is_absolute():
        return RunFolder(resolve_path(text))
    return RunFolder(output_dir() / text)


def write_json(path: Path, values: dict[str, Any]) -> Path:
    """JSON with NaN/inf written as null (valid JSON for every reader), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_clean(values), indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_history(run: RunFolder, history: list[dict[str, Any]]) -> Path:
    """The whole history so far (rewritten each epoch: a resumed run keeps one table).

    A training run writes it through :class:`dflib.train.sink.EpochSink`, which then hands
    the new row to the run's loggers."""
    run.root.mkdir(parents=True, exist_ok=True)
    tmp = run.history.with_name("history.csv.tmp")
    pd.DataFrame(history).to_csv(tmp, index=False)
    os.replace(tmp, run.history)
    return run.history


def write_predictions(path: Path, ids, labels, probs) -> Path:
    """``id,label,prob`` rows; label -1 where unknown."""
    frame = pd.DataFrame(
        {"id": [str(i) for i in ids], "label": np.asarray(labels, dtype=np.int64),
         "prob": np.asarray(probs, dtype=np.float64)}
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6f")
    return path
