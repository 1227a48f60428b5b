"""Where every epoch's row goes: ``history.csv``, then each logger the run asks for.

:class:`EpochSink` is the one door: it writes the history (atomically), hands the new row
and, every :data:`STEP_EVERY` steps, the training loss to the loggers, and takes a finished
run's figures (:meth:`EpochSink.figures`: ``figures/*.png``, then the loggers; the
figures are drawn by :mod:`dflib.viz.training`, which logs nothing).

This is the one place a logger goes: a class with the methods of :class:`Logger`,
registered in :data:`LOGGERS` under the name users write (``log=("tensorboard",)``,
``--log tensorboard``). A W&B logger, say, would start (or resume) its run in
``__init__``, send ``epoch``'s row and ``step``'s values to ``wandb.log``, the figures as
images, and finish in ``close``. A logger is built with ``(run, epochs_done, steps_done)``:
where the run starts again. A resume from a ``last.pt`` older than what the logger wrote (a
copy put back, a run killed between its checkpoint and its logs) restarts there, so the
logger drops what it wrote past that point and no epoch or step is shown twice.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from dflib.imageio import save_figure
from dflib.train.runs import RunFolder, write_history

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
        """The run's matplotlib figures by name, once it is finished (:meth:`EpochSink.figures`)."""

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
        self.run, self.epochs_done = run, epochs_done
        self.loggers = [_logger(name)(run, epochs_done, steps_done) for name in names]

    @classmethod
    def finished(cls, run: RunFolder) -> EpochSink:
        """A finished run's sink: the loggers its ``params.json`` names, at its last epoch."""
        names = tuple(name for name in run.read_json("params").get("log") or () if name in LOGGERS)
        return cls(run, names, epochs_done=len(run.read_history()))

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

    def figures(self, figures: dict[str, Any]) -> list[Path]:
        """A finished run's figures by name: ``figures/<name>.png``, then each logger at
        the last epoch (replacing an earlier hand-over). Returns the files written."""
        saved = []
        for name, fig in figures.items():
            saved.append(save_figure(fig, self.run.figures / f"{name}.png"))
        for logger in self.loggers:
            logger.figures(self.epochs_done, figures)
        return saved

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()


def write_figures(run: RunFolder, figures: dict[str, Any]) -> list[Path]:
    """Hand a finished run's figures (:func:`dflib.viz.training.run_figures` draws them)
    to its sink (:meth:`EpochSink.figures`): the command line and the training notebooks
    call this after drawing. Returns the files written."""
    sink = EpochSink.finished(run)
    try:
        return sink.figures(figures)
    finally:
        sink.close()


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
