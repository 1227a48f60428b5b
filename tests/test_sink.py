"""Every epoch's row through one sink: ``history.csv``, then the loggers (TensorBoard)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dflib.train import fit, get_recipe, loggers, loop
from dflib.train.config import TrainConfig
from dflib.train.flags import config_from_args
from dflib.train.runs import RunFolder
from dflib.viz.training import run_figures

TIMING = ["seconds", "images_per_s"]


def tiny(**overrides) -> TrainConfig:
    """A seconds-long run (4 steps an epoch) that logs to TensorBoard."""
    settings = dict(synthetic_size="tiny", train_images=64, img_size=64, batch_size=16, epochs=2,
                    log=("tensorboard",))  # fmt: skip
    return get_recipe("freqnet", **{**settings, **overrides})


@pytest.fixture
def every_step_read(monkeypatch):
    """The loss read after every step and handed to the loggers every 2 steps, so a
    4-step epoch has step scalars (the history is the same at any read interval)."""
    monkeypatch.setattr(loop, "CHECK_EVERY", 1)
    monkeypatch.setattr(loggers, "STEP_EVERY", 2)


def events(folder, kind: str = "scalars") -> dict[str, list]:
    """What TensorBoard shows of an event folder: tag -> [(step, value)] (purges applied)."""
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    read = acc.Scalars if kind == "scalars" else acc.Images
    return {tag: [(e.step, getattr(e, "value", None)) for e in read(tag)]
            for tag in acc.Tags()[kind]}  # fmt: skip


def assert_epochs_equal_history(run: RunFolder) -> pd.DataFrame:
    history = run.read_history()
    columns = [c for c in history.columns if c not in ("epoch", "stage")]
    found = events(run.tb / "epochs")
    assert sorted(found) == sorted(columns)
    for column in columns:
        steps, values = zip(*found[column], strict=True)
        assert list(steps) == history["epoch"].tolist(), column  # each epoch once, in order
        np.testing.assert_array_equal(np.float32(values), history[column].to_numpy(np.float32))
    return history


def assert_steps_once(run: RunFolder, total: int) -> None:
    """Step scalars every 2 of the run's ``total`` optimiser steps, each step once."""
    found = events(run.tb / "steps")
    assert sorted(found) == ["steps/lr", "steps/train_loss"]
    for values in found.values():
        assert [s for s, _ in values] == list(range(2, total + 1, 2))
    assert all(np.isfinite(v) and v > 0 for _, v in found["steps/train_loss"])


def test_epoch_scalars_equal_history_and_a_resume_continues_them(tmp_path, every_step_read):
    out = tmp_path / "run"
    calls = []
    first = fit(tiny(), out=str(out), progress=False, hooks=(lambda *a: calls.append(a),))
    assert len(calls) == 8  # the step hooks still run: 2 epochs of 4 steps
    assert_epochs_equal_history(first.run)
    assert_steps_once(first.run, 8)

    resumed = fit(tiny(epochs=3), out=str(out), resume=True, progress=False)
    assert len(assert_epochs_equal_history(resumed.run)) == 3
    assert_steps_once(resumed.run, 12)

    saved = loggers.write_figures(resumed.run, run_figures(resumed.run))
    loggers.write_figures(resumed.run, run_figures(resumed.run))  # again: replaced, not shown twice
    assert [path.name for path in saved] == ["learning_curves.png", "confusion.png",
                                             "roc_pr_threshold.png"]  # fmt: skip
    assert all(path.is_file() for path in saved)
    images = events(resumed.run.tb / "figures", "images")
    assert {"learning_curves", "confusion"} <= set(images)
    assert all([s for s, _ in values] == [3] for values in images.values())


def test_a_resume_from_an_older_last_pt_shows_no_step_twice(tmp_path, every_step_read):
    out = tmp_path / "run"
    fit(tiny(epochs=1), out=str(out), progress=False)
    shutil.copy(out / "last.pt", tmp_path / "after_epoch_1.pt")
    fit(tiny(epochs=3), out=str(out), resume=True, progress=False)
    straight = RunFolder(out).read_history()
    shutil.copy(tmp_path / "after_epoch_1.pt", out / "last.pt")  # epochs 2 and 3 again
    again = fit(tiny(epochs=3), out=str(out), resume=True, progress=False)
    history = assert_epochs_equal_history(again.run)
    assert len(history) == 3
    pd.testing.assert_frame_equal(history.drop(columns=TIMING), straight.drop(columns=TIMING))
    assert_steps_once(again.run, 12)


def test_history_is_the_same_with_tensorboard_on(tmp_path):
    on = fit(tiny(epochs=1), out=str(tmp_path / "on"), progress=False)
    off = fit(tiny(epochs=1, log=()), out=str(tmp_path / "off"), progress=False)
    assert (tmp_path / "on" / "tb").is_dir() and not (tmp_path / "off" / "tb").exists()
    pd.testing.assert_frame_equal(on.history.drop(columns=TIMING), off.history.drop(columns=TIMING))


class Recorder:
    """A logger of the sink's interface that keeps what it is handed."""

    made: list[Recorder] = []

    def __init__(self, run, epochs_done, steps_done):
        self.start, self.calls = (epochs_done, steps_done), []
        Recorder.made.append(self)

    def epoch(self, row):
        self.calls.append(("epoch", row["epoch"]))

    def step(self, step, values):
        self.calls.append(("step", step, values["train_loss"], values["lr"]))

    def figures(self, epoch, figures):
        self.calls.append(("figures", epoch, sorted(figures)))

    def close(self):
        self.calls.append(("close",))


def test_the_sink_writes_history_then_hands_rows_and_steps_to_its_loggers(tmp_path, monkeypatch):
    monkeypatch.setitem(loggers.LOGGERS, "recorder", Recorder)
    Recorder.made.clear()
    run = RunFolder(tmp_path / "run")
    out = loggers.EpochSink(run, ("recorder",), epochs_done=2, steps_done=100)
    read = out.reader(steps_before=100, lr=0.5)
    for index in range(15, 160, 16):  # the engine's reads: every 16 steps
        read(index, loss_sum=float(index + 1), seen=2 * (index + 1))
    out.epoch(
        [{"epoch": 1, "val_f1": 0.1}, {"epoch": 2, "val_f1": 0.2}, {"epoch": 3, "val_f1": 0.3}]
    )
    out.close()
    (logger,) = Recorder.made
    assert logger.start == (2, 100)
    # every 64 steps (loggers.STEP_EVERY), the mean loss of the steps since the last hand-over
    assert logger.calls == [("step", 164, 0.5, 0.5), ("step", 228, 0.5, 0.5), ("epoch", 3),
                            ("close",)]  # fmt: skip
    assert run.read_history()["val_f1"].tolist() == [0.1, 0.2, 0.3]
    assert loggers.EpochSink(run).reader(0, 0.1) is None  # no loggers: the engine reads nothing


def test_log_is_a_setting_from_notebooks_and_the_command_line_with_clear_errors():
    from dflib.cli import build_parser

    assert get_recipe("freqnet", log="tensorboard").log == ("tensorboard",)
    assert get_recipe("freqnet", log="").log == ()
    assert TrainConfig.from_dict(tiny().to_dict()).log == ("tensorboard",)
    args = build_parser().parse_args(["train", "--arch", "freqnet", "--log", "tensorboard"])
    assert config_from_args(args).log == ("tensorboard",)
    with pytest.raises(
        ValueError, match=r"log \['wandb'\] \(expected names from \('tensorboard',\)\)"
    ):
        get_recipe("freqnet", log=("wandb",))


def test_every_rank_but_0_holds_a_sink_that_says_and_writes_nothing(tmp_path, capsys):
    silent = loop.Silent()
    assert silent.say("a line") is None and silent.finish(None, None, None, None, 0, {}) is None
    silent.epoch([{"epoch": 1}], None, None, None, None, 1, {}, 4)
    assert capsys.readouterr().out == "" and not any(tmp_path.iterdir())
    with pytest.raises(AttributeError):
        silent.sya("a misspelt method is an error on every rank, not a silent no-op")
    loop.RunSink(RunFolder(tmp_path), tiny()).say("a line", "", "another")
    assert capsys.readouterr().out == "a line\nanother\n"
