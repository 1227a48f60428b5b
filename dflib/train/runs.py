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
                           steps/, figures/ (:class:`EpochSink`)
    last.pt                everything needed to resume (weights-only loadable)
    best.pt                the weights to predict with (weights-only loadable)

A run is finished (:func:`is_finished`) once ``params.json``, ``metrics.json`` and the
validation predictions are there. Only training (and its resume) writes a run folder;
downstream stages (threshold tuning, ensembles, the leaderboard) read only these files and
write what they make into folders of their own (:func:`dflib.environment.study_folder`):
on Kaggle a finished run is another notebook's read-only output. Notebook 10's threshold
is ``<studies>/threshold/<run-name>/threshold.json`` (:attr:`RunFolder.tuned_threshold`).

Where each epoch's row goes (:class:`EpochSink`): ``history.csv``, rewritten atomically,
then each logger the run asks for. This is the one place a logger goes: a class with the
methods of :class:`Logger`, registered in :data:`LOGGERS` under the name users write
(``log=("tensorboard",)``, ``--log tensorboard``). A W&B logger, say, would start (or
resume) its run in ``__init__``, send ``epoch``'s row and ``step``'s values to
``wandb.log``, the figures as images, and finish in ``close``. A logger is built with
``(run, epochs_done, steps_done)``: where the run starts again. A resume from a
``last.pt`` older than what the logger wrote (a copy put back, a run killed between its
checkpoint and its logs) restarts there, so the logger drops what it wrote past that
point and no epoch or step is shown twice.

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
import numbers
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch

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

    A training run writes it through :class:`EpochSink`, which then hands
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


# --- the ledger: where the runs' small files are kept in the repository ---

LEDGER = "reports/runs"  # relative to the project root
FILES = ("params.json", "metrics.json", "history.csv", "environment.json")
PREDICTIONS = ("predictions_val.csv", "predictions_test.csv")
# every name an entry may hold
ENTRY_FILES = (*FILES, *(f"{p}.gz" for p in PREDICTIONS))


def ledger_root(ledger: str | os.PathLike | None = None) -> Path:
    """``ledger`` resolved against the project root (default ``reports/runs``)."""
    return resolve_path(ledger or LEDGER)


# --- every epoch's row: history.csv, then the loggers ---

# the training loss (mean of the steps since the last one) and lr go to the loggers every
# this many steps of an epoch, at the first read of the loss at or past each multiple:
# a multiple of dflib.train.loop.CHECK_EVERY (16), so no step waits for the device
STEP_EVERY = 64


class Logger(Protocol):
    """What :class:`EpochSink` calls; ``__init__(run, epochs_done, steps_done)``."""

    def epoch(self, row: dict[str, Any]) -> None:
        """A finished epoch's history row (``history.csv``'s columns; ``epoch`` from 1)."""

    def step(self, step: int, values: dict[str, float]) -> None:
        """``train_loss`` and ``lr`` after ``step`` optimiser steps of the run."""

    def figures(self, epoch: int, figures: dict[str, Any]) -> None:
        """The run's matplotlib figures by name, once it is finished (:func:`log_figures`)."""

    def close(self) -> None:
        """Flush and release what the logger holds."""


class TensorBoard:
    """TensorBoard event files in ``<run>/tb/`` (``tensorboard --logdir runs/<name>/tb``).

    ``epochs/``: every numeric column of ``history.csv`` under its own name, global step =
    the epoch; ``steps/``: ``steps/train_loss`` and ``steps/lr`` every :data:`STEP_EVERY`
    steps, global step = the run's optimiser steps; ``figures/``: the run's figures as
    images at the last epoch. Three folders, because TensorBoard reads a folder's event
    files as one stream and a writer's ``purge_step`` (where a resume starts again) hides
    every event at or past that step in the whole stream: the epoch axis, the step axis
    and the figures' rewrite each need their own. A writer is opened at its first use.
    """

    def __init__(self, run: RunFolder, epochs_done: int, steps_done: int) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise ImportError(
                "log=('tensorboard',) needs the tensorboard package: pip install tensorboard "
                "(or train without it: log=())"
            ) from error
        self._summary_writer = SummaryWriter
        self.folder = run.tb
        # the first global step each writer writes again (epochs count from 1, steps from 1)
        self.purge = {"epochs": epochs_done + 1, "steps": steps_done + 1, "figures": epochs_done}
        self.writers: dict[str, Any] = {}

    def _writer(self, kind: str):
        if kind not in self.writers:
            folder = self.folder / kind
            _after_newest(folder)
            self.writers[kind] = self._summary_writer(str(folder), purge_step=self.purge[kind])
        return self.writers[kind]

    def epoch(self, row: dict[str, Any]) -> None:
        writer = self._writer("epochs")
        for key, value in row.items():
            if key != "epoch" and isinstance(value, numbers.Real):
                writer.add_scalar(key, value, row["epoch"])
        writer.flush()  # a killed run keeps its epochs
        if "steps" in self.writers:
            self.writers["steps"].flush()

    def step(self, step: int, values: dict[str, float]) -> None:
        writer = self._writer("steps")
        for key, value in values.items():
            writer.add_scalar(f"steps/{key}", value, step)

    def figures(self, epoch: int, figures: dict[str, Any]) -> None:
        writer = self._writer("figures")
        for name, fig in figures.items():
            writer.add_figure(name, fig, epoch, close=False)  # the caller owns the figures
        writer.flush()

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


# every logger a run may ask for, by the name TrainConfig.log uses
LOGGERS: dict[str, type] = {"tensorboard": TensorBoard}


class EpochSink:
    """The run folder's end of the training loop: ``history.csv``, then the loggers.

    Args:
        run: the run folder.
        names: the loggers to feed (``TrainConfig.log``), keys of :data:`LOGGERS`.
        epochs_done: epochs in the history the run starts from (a resume's ``last.pt``).
        steps_done: optimiser steps those epochs took.
    """

    def __init__(
        self, run: RunFolder, names: tuple[str, ...] = (), epochs_done: int = 0, steps_done: int = 0
    ) -> None:
        self.run = run
        self.loggers = [_logger(name)(run, epochs_done, steps_done) for name in names]

    def epoch(self, history: list[dict[str, Any]]) -> None:
        """Write the whole history (atomically), then hand its last row to each logger."""
        write_history(self.run, history)
        for logger in self.loggers:
            logger.epoch(history[-1])

    def reader(self, steps_before: int, lr: float) -> Callable[[int, float, int], None] | None:
        """The hook :func:`~dflib.train.loop.train_one_epoch` calls (its
        :data:`~dflib.train.loop.ReadHook`) at each read of the
        loss: every :data:`STEP_EVERY` steps it hands the loggers the mean training loss
        of the steps since the last hand-over and the epoch's lr (constant within an
        epoch: the schedule steps between epochs). ``None`` without loggers."""
        if not self.loggers:
            return None
        last = {"index": -1, "sum": 0.0, "seen": 0}

        def read(index: int, loss_sum: float, seen: int) -> None:
            if (index + 1) // STEP_EVERY == (last["index"] + 1) // STEP_EVERY:
                return
            loss = (loss_sum - last["sum"]) / max(seen - last["seen"], 1)
            last.update(index=index, sum=loss_sum, seen=seen)
            for logger in self.loggers:
                logger.step(steps_before + index + 1, {"train_loss": loss, "lr": lr})

        return read

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()


def log_figures(run: RunFolder, figures: dict[str, Any]) -> None:
    """Hand a finished run's figures to the loggers its ``params.json`` names.

    :mod:`dflib.viz.training` draws them (this layer draws nothing) and calls this after
    saving them; they are logged at the last epoch, replacing any earlier hand-over.
    """
    if not run.params.is_file() or not run.history.is_file():
        return
    names = [n for n in run.read_json("params").get("log") or () if n in LOGGERS]
    if not names:
        return
    epochs = len(run.read_history())
    for name in names:
        logger = LOGGERS[name](run, epochs, 0)
        try:
            logger.figures(epochs, figures)
        finally:
            logger.close()


def _logger(name: str) -> type:
    if name not in LOGGERS:
        raise ValueError(f"unknown logger {name!r}: expected one of {tuple(LOGGERS)}")
    return LOGGERS[name]


def _after_newest(folder: Path) -> None:
    """Wait until the clock is a second past the newest event file's in ``folder``.

    TensorBoard reads a folder's event files in name order, and a name starts with its
    creation time in whole seconds (then host, process and a per-process counter, which
    does not sort as a number): a writer opened within the second of the last one (a
    resume straight after a stop) could sort before it, its purge read first.
    """
    names = (p.name.split(".") for p in folder.glob("events.out.tfevents.*"))
    stamps = [int(parts[3]) for parts in names if parts[3].isdigit()]
    wait = max(stamps, default=0) + 1 - time.time()
    if wait > 0:
        time.sleep(wait)
