"""The run folder: the one contract through which notebooks talk to each other.

``runs/<run-name>/`` holds::

    params.json            the TrainConfig and the model's config: everything that made the run
    environment.json       device, precision, versions, core count
    history.csv            one row per epoch (stage, losses, F1, recall, AUC, lr, seconds, images/s)
    metrics.json           validation metrics at 0.5 and at the tuned threshold; hidden-test metrics
    threshold.json         (only in runs from before studies had folders of their own) a
                           decision threshold chosen later by notebook 10
    predictions_val.csv    id,label,prob (validation split, best main-stage weights)
    predictions_test.csv   id,label,prob (test images; label = -1 unless hidden labels are known)
                           (``.csv.gz`` in a ledger entry, :data:`LEDGER`: read the same)
    skipped.csv            the data report: every unusable file and why
    figures/*.png          learning curves, confusion matrix, ROC / PR, errors
    tb/                    (with ``log=("tensorboard",)``) TensorBoard event files: epochs/,
                           steps/, figures/ (:mod:`dflib.train.loggers`)
    last.pt                everything needed to resume (weights-only loadable)
    best.pt                the weights to predict with (weights-only loadable)

A run is finished (:func:`is_finished`) once ``params.json``, ``metrics.json`` and the
validation predictions are there. Only training (and its resume) writes a run folder;
downstream stages (threshold tuning, ensembles, the leaderboard) read only these files and
write what they make into folders of their own (:func:`dflib.environment.study_folder`):
on Kaggle a finished run is another notebook's read-only output. Notebook 10's threshold
is ``<studies>/threshold/<run-name>/threshold.json`` (:attr:`RunFolder.tuned_threshold`).

What a finished run must hold is checked where a reader sees it: every notebook that trains
or reads a run ends with :func:`run_checks` of it (the history's length, one probability per
validation image, the tuned threshold, and a validation AUC a model that learned nothing
does not reach).

The run ledger (:data:`LEDGER`, ``reports/runs/<run-name>/``) keeps the small files of
every run a report cites in the repository: a finished run folder's ``params.json``,
``metrics.json``, ``history.csv``, ``environment.json`` and its predictions gzipped
(``predictions_val.csv.gz``, ``predictions_test.csv.gz``); never weights, figures or
caches. A ledger entry *is* a finished run folder for every reader of small files
(:class:`RunFolder` finds either predictions name, :func:`is_finished` asks for no
weights), so the leaderboard and the claims read ``reports/runs`` exactly as they read
``runs/`` (``make results``). ``params.json`` is copied as it was written (it keeps
``data_dir`` and the ``cache`` path of the machine that trained): the reports never print
either. This module says where the ledger is and what an entry holds; writing entries,
and carrying them back from another machine, is logistics: ``scripts/ledger.py``.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import platform
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dflib.checks import Checks
from dflib.environment import cpu_name, output_dir, resolve_path, split_names, study_folder

PREDICTION_COLUMNS = ["id", "label", "prob"]

THRESHOLD_STUDY = "threshold"  # the study folder notebook 10 writes its threshold into
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
    # a threshold chosen later (notebook 10) lives in that study's folder (read-only runs);
    # one inside the run folder is kept from before that rule, and still read
    tuned_threshold = property(
        lambda self: study_folder(THRESHOLD_STUDY, self.name, create=False) / "threshold.json"
    )
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

    def threshold_source(self) -> Path | None:
        """Where :meth:`decision_threshold` reads it from (``None``: 0.5)."""
        for path in (self.tuned_threshold, self.threshold, self.metrics):
            if _threshold_in(path) is not None:
                return path
        return None

    def decision_threshold(self) -> float:
        """The threshold a submission uses: the one notebook 10 chose
        (``<studies>/threshold/<run>/threshold.json``, or ``threshold.json`` in the run
        folder from before studies had their own), else the one training tuned on
        validation (``metrics.json``), else 0.5."""
        source = self.threshold_source()
        return 0.5 if source is None else _threshold_in(source)

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
    predictions (:func:`dflib.train.loop.finish_run`), so together they mean the run
    ended; the validation predictions are what every later stage reads first. Weights and
    figures are not asked for: a ledger entry (:data:`LEDGER`, small files
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
    globs = split_names(include) or ["*"]
    found = [RunFolder(p) for p in sorted(root.iterdir()) if p.is_dir()]
    return [r for r in found if r.name.startswith(prefix) and is_finished(r)
            and any(fnmatch.fnmatch(r.name, g) for g in globs)]  # fmt: skip


def given_threshold(value: float | str | os.PathLike) -> float:
    """A threshold given by hand (``predict --threshold``): a number in (0, 1), or a JSON
    file holding one (a ``threshold.json``, or a bare number).

    Raises:
        ValueError: neither, with what was found.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(
                f"threshold {value!r}: expected a number between 0 and 1 or a threshold.json "
                "file, and no such file exists"
            ) from None
        number = _threshold_in(path)
        if number is None:
            raise ValueError(f'{path} holds no finite "threshold" number') from None
    if not 0 < number < 1:
        raise ValueError(f"threshold {number}: expected a number between 0 and 1")
    return number


def _threshold_in(path: Path) -> float | None:
    """The finite ``threshold`` of a JSON file (a number, or a file holding one), or None."""
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    value = value.get("threshold") if isinstance(value, dict) else value
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _missing(run: RunFolder, name: str) -> str:
    return (
        f"run {run.root} has no {name}: train it first, e.g. "
        f"`python -m dflib train --out {run.root}` or the matching training notebook"
    )


def run_folder(
    name_or_path: RunFolder | str | os.PathLike | None = None, arch: str = "run"
) -> RunFolder:
    """A run folder: a :class:`RunFolder` as it is, a path (relative to the project root), a
    bare name under ``runs/``, or ``None`` for a fresh ``runs/<arch>-<timestamp>``."""
    if isinstance(name_or_path, RunFolder):
        return name_or_path
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

    A training run writes it through :class:`~dflib.train.loggers.EpochSink`, which then
    hands the new row to the run's loggers."""
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


def environment_info(dev) -> dict[str, Any]:
    """Device, precision and versions of a run's :class:`~dflib.train.machine.Device`, for
    ``environment.json`` and the leaderboard."""
    device = dev.device
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = cpu_name() if device.type == "cpu" else platform.processor()
    return {
        "device": str(device),
        "device_name": name,
        "precision": str(dev.amp_dtype).replace("torch.", "") if dev.amp_dtype else "float32",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
    }


# --- what a finished run must hold: a notebook's checks of it ---


def run_checks(
    run: RunFolder | str | os.PathLike, expect_val_auc_min: float | None = None
) -> Checks:
    """A training notebook's checks of its run (:mod:`dflib.checks`): the history's length,
    one probability in [0, 1] per validation image, and - at the CI size - a validation AUC
    that a model which learned nothing does not reach: the floor ``expect_val_auc_min`` is checked
    against the run's AUC, and itself against the 99th percentile of the AUC under
    shuffled labels on the same predictions (a floor at or below it could not fail)."""
    run = run_folder(run)
    params, metrics = run.read_json("params"), run.read_json("metrics")
    history, val = run.read_history(), run.read_predictions("val")
    total = params["epochs"] + params.get("finetune_epochs", 0)
    checks = Checks()
    checks.expect("epochs in the history", len(history), 1, total)
    checks.expect("validation predictions (one per image)", len(val), equals=metrics["n_val"])
    checks.true("validation probabilities in [0, 1]", bool(val["prob"].between(0, 1).all()))
    return checks.learned_auc("val AUC", val["label"], val["prob"], expect_val_auc_min)


# --- the ledger: where the runs' small files are kept in the repository ---

LEDGER = "reports/runs"  # relative to the project root
FILES = ("params.json", "metrics.json", "history.csv", "environment.json")
PREDICTIONS = ("predictions_val.csv", "predictions_test.csv")
# every name an entry may hold
ENTRY_FILES = (*FILES, *(f"{p}.gz" for p in PREDICTIONS))


def ledger_root(ledger: str | os.PathLike | None = None) -> Path:
    """``ledger`` resolved against the project root (default ``reports/runs``)."""
    return resolve_path(ledger or LEDGER)
