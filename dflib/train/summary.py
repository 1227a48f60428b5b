"""One row per finished run, beside the write-up's number: for notebooks and tables; and
the checks a training notebook ends with."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from dflib.checks import Checks
from dflib.train.config import reference
from dflib.train.runs import RunFolder, run_folder

# how every table names the columns of :func:`run_row` (and of the leaderboard's extras)
TITLES = {
    "run": "run", "arch": "architecture", "params": "params", "gflops": "GFLOPs",
    "train_images": "images", "img_size": "px", "epochs": "epochs", "filter": "filter",
    "loss": "loss", "n": "seeds", "val_f1": "val F1", "val_f1_tuned": "val F1 tuned",
    "val_recall": "val recall", "val_auc": "val AUC", "test_f1": "test F1",
    "test_f1_tuned": "test F1 tuned", "test_auc": "test AUC", "train_minutes": "train min",
    "images_per_s": "img/s", "device": "device", "precision": "precision",
    "reported_f1": "write-up F1",
    "stopping": "early stopping", "learned": "learned",
    "test_all_fake_f1": "test F1 all-fake", "test_auc_floor": "test AUC chance",
    "val_all_fake_f1": "val F1 all-fake", "val_auc_floor": "val AUC chance",
}  # fmt: skip


def titles(*keys: str) -> dict[str, str]:
    """``{key: title}`` for the given columns, in that order."""
    return {key: TITLES[key] for key in keys}


def run_row(run: RunFolder | str | os.PathLike) -> dict[str, Any]:
    """The numbers of one run: settings, validation and hidden-test scores, cost."""
    run = run_folder(run)
    params, metrics = run.read_json("params"), run.read_json("metrics")
    env = metrics.get("environment", {})
    test = metrics.get("test") or {}
    test_tuned = metrics.get("test_tuned") or {}
    try:
        reported = reference(params["arch"]).f1
    except ValueError:
        reported = None
    return {
        "run": run.name,
        "arch": params["arch"],
        "params": metrics["params"],
        "train_images": params["n_train"] + params["n_val"],
        "img_size": params["img_size"],
        "epochs": metrics["epochs_run"],
        "filter": params["filter"],
        "loss": params["loss"],
        "val_f1": metrics["val"]["f1"],
        "val_f1_tuned": metrics["val_tuned"]["f1"],
        "val_recall": metrics["val"]["recall"],
        "val_auc": metrics["val"].get("auc"),
        "test_f1": test.get("f1"),
        "test_f1_tuned": test_tuned.get("f1"),
        "test_auc": test.get("auc"),
        "threshold": metrics["threshold"],
        "train_minutes": metrics["train_seconds"] / 60,
        "images_per_s": metrics["images_per_s"],
        "device": env.get("device_name") or env.get("device"),
        "precision": env.get("precision"),
        "reported_f1": reported,
    }


def runs_table(runs) -> pd.DataFrame:
    """:func:`run_row` of several runs as a table."""
    return pd.DataFrame([run_row(r) for r in runs])


def versus_reference(run: RunFolder | str | os.PathLike) -> pd.DataFrame:
    """This run's headline numbers beside what the write-up reported for the model."""
    row = run_row(run)
    arch = row["arch"]
    note = reference(arch).note if arch else ""
    return pd.DataFrame(
        {
            "this run": [row["val_f1"], row["val_f1_tuned"], row["val_recall"], row["val_auc"],
                         row["test_f1"], row["test_f1_tuned"]],
            "write-up": [row["reported_f1"], None, None, None, None, None],
        },
        index=["val F1 @0.5", "val F1 @tuned", "val recall @0.5", "val AUC",
               "hidden-test F1 @0.5", "hidden-test F1 @tuned"],
    ).rename_axis(note)  # fmt: skip


def run_checks(
    run: RunFolder | str | os.PathLike, expect_val_auc_min: float | None = None
) -> Checks:
    """A training notebook's checks of its run (:mod:`dflib.checks`): the history's length,
    one probability in [0, 1] per validation image, and - at the CI size - a validation AUC that a
    model which learned nothing does not reach: the floor ``expect_val_auc_min`` is checked
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
