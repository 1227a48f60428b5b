"""Predicting with a finished run: the "only inference" mode of the write-ups.

A run folder says everything needed (``params.json``: architecture, image size, filter;
``best.pt``: the weights; ``threshold.json`` or ``metrics.json``: the threshold), so predicting needs
only the run and the images: a data folder's test split, a folder of images, one file
or a glob. Every image gets exactly one row: a file that cannot be decoded is not
dropped, it is named and given the training prior (the share of fakes), which the caller
is told about. With a ``sample_submission.csv`` beside the data (or ``--template``), the
submission is that template filled in (:mod:`dflib.data.template`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dflib.data import load_prediction_images
from dflib.data.cache import build_cache
from dflib.data.template import Template, write_filled
from dflib.imageio import is_image_file
from dflib.metrics import binary_metrics, by_generator
from dflib.models import create_model
from dflib.runtime import amp_dtype, amp_note, require_built_for, resolve_device
from dflib.train.checkpoint import load_weights
from dflib.train.config import TrainConfig
from dflib.train.inputs import DevicePipeline, eval_loader, preprocess_for
from dflib.train.loop import evaluate
from dflib.train.machine import Device, uses_channels_last
from dflib.train.runs import RunFolder, given_threshold, run_folder


@dataclass
class Predictions:
    """One row per image: ``id``, ``prob`` (of fake), ``readable`` and ``label`` (-1
    unless the images' class folders or CSV say it)."""

    frame: pd.DataFrame
    threshold: float
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    prior: float = 0.5
    root: Path | None = None
    threshold_from: str = "0.5"  # where the threshold came from, for the log

    def submission(self, proba: bool = False) -> pd.DataFrame:
        """``id,label`` at the threshold, or ``id,prob`` with ``proba``."""
        if proba:
            return self.frame[["id", "prob"]]
        labels = (self.frame["prob"] >= self.threshold).astype(int)
        return pd.DataFrame({"id": self.frame["id"], "label": labels})

    def by_generator(self) -> pd.DataFrame | None:
        """The per-generator table (:func:`dflib.metrics.by_generator`) over the readable
        images with a known label, when the images name two generators or more."""
        if "generator" not in self.frame.columns:
            return None
        known = self.frame[(self.frame["label"] >= 0) & self.frame["readable"]]
        if not len(known) or known["label"].nunique() < 2:
            return None
        return by_generator(known["label"], known["prob"], known["generator"], self.threshold)

    def scores(self) -> dict | None:
        """F1 / recall / AUC at the threshold over the readable images with a known label."""
        known = self.frame[(self.frame["label"] >= 0) & self.frame["readable"]]
        if len(known) == 0 or known["label"].nunique() < 2:
            return None
        return binary_metrics(known["label"].to_numpy(), known["prob"].to_numpy(), self.threshold)


def load_run_model(run: RunFolder, device: str | torch.device = "auto"):
    """The model of a run with its best weights, its config and the device setup: the
    precision and memory format its settings give on this device, as training chose them
    (a bf16 CPU's channels_last model scores a hair apart from an NCHW one)."""
    config = TrainConfig.from_dict(run.read_json("params"))
    dev_t = resolve_device(device)
    model = create_model(config.arch)
    model.load_state_dict(load_weights(run.best, map_location="cpu"))
    model = model.to(dev_t).eval()
    nhwc = uses_channels_last(config, dev_t)
    if nhwc:
        model = model.to(memory_format=torch.channels_last)
    cfg = model.default_cfg
    pipeline = DevicePipeline(cfg.mean, cfg.std, (), config.img_size, nhwc).to(dev_t)
    if note := amp_note(config.amp, dev_t):  # this device's precision, not the run's
        print(note)
    return model, config, pipeline, Device(dev_t, amp_dtype(config.amp, dev_t))


def predict_folder(
    runs: list[str | os.PathLike],
    data_dir: str | os.PathLike,
    *,
    synthetic_size: str = "full",
    image_dir: str | None = None,
    tta: bool = False,
    device: str = "auto",
    progress: bool = True,
    split: str = "test",
    classes: str | dict | None = None,
    threshold: float | str | os.PathLike | None = None,
    label_column: str | None = None,
) -> Predictions:
    """Probabilities of "fake" for every image ``data_dir`` names.

    Args:
        runs: one run folder, or several (their probabilities are averaged: soft voting).
        data_dir: a data folder (its test split), a folder of images (recursively; class
            folders at any depth label them, one generator per sub-folder), one image
            file, a glob, a folder of several data folders (one per generator), or
            ``"synthetic"``.
        image_dir: the test images' folder inside ``data_dir``, if not ``test/``.
        tta: average with the horizontally flipped images.
        split: the split of a data folder to score ("val" for GenImage's generators).
        classes: which folder names mean which class (:func:`dflib.data.load_split`).
        label_column: the test CSV's label column, where several disagree.
        threshold: the decision threshold: a number, or a JSON file holding one (a
            ``threshold.json``); ``None``: each run's own (:meth:`RunFolder.decision_threshold`:
            notebook 10's study folder, then training's tuned one), their mean for several.
    """
    require_built_for(resolve_device(device))  # before any image is read
    folders = [run_folder(r) for r in runs]
    chosen = None if threshold is None else given_threshold(threshold)
    for folder in folders:
        if not folder.best.is_file():
            raise FileNotFoundError(
                f"{folder.root} has no best.pt: train it first (python -m dflib train --out "
                f"{folder.root}) or give the folder of a finished run"
            )
    table = load_prediction_images(data_dir, synthetic_size=synthetic_size, image_dir=image_dir,
                                   split=split, classes=classes, label_column=label_column)  # fmt: skip
    probs = []
    frame = None
    for folder in folders:
        model, config, pipeline, dev = load_run_model(folder, device)
        cache = build_cache(table, config.img_size, preprocess_for(config), progress=progress)
        loader = eval_loader(cache, np.full(len(cache), -1), np.arange(len(cache)),
                             config.batch_size, 0, dev.device)  # fmt: skip
        out = evaluate(model, loader, pipeline, dev, progress=progress, tta=tta)
        ids = cache.frame["id"].astype(str).to_numpy()[out["positions"]]
        current = pd.Series(out["probs"], index=ids)
        frame = current if frame is None else frame
        probs.append(current.reindex(frame.index))
    mean = pd.concat(probs, axis=1).mean(axis=1)
    prior = folders[0].fake_share()
    unreadable = [(p, r) for p, r in table.report.skipped if is_image_file(p)]
    ids = table.frame["id"].astype(str)
    known = dict(zip(ids, table.frame["label"], strict=True))
    id_of = dict(zip(table.frame["path"].astype(str), ids, strict=True))
    rows = pd.DataFrame({"id": mean.index, "prob": mean.to_numpy(), "readable": True})
    if unreadable:
        extra = pd.DataFrame({"id": [id_of.get(str(p), Path(p).stem) for p, _ in unreadable],
                              "prob": prior, "readable": False})  # fmt: skip
        rows = pd.concat([rows, extra], ignore_index=True)
    rows["label"] = rows["id"].map(known).fillna(-1).astype(int)
    if table.generators is not None:
        rows["generator"] = rows["id"].map(dict(zip(ids, table.generators, strict=True)))
    rows = rows.sort_values("id", kind="stable").reset_index(drop=True)
    duplicated = rows["id"][rows["id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(
            f"test ids are not unique (files that differ only in extension?): {duplicated[:5]}; "
            "rename them so that each image has its own id"
        )
    if chosen is not None:
        return Predictions(rows, chosen, unreadable, prior, table.root, str(threshold))
    # several runs: the mean of their thresholds (notebook 12 tunes an ensemble's own)
    sources = [str(f.threshold_source() or "0.5") for f in folders]
    mean = float(np.mean([f.decision_threshold() for f in folders]))
    return Predictions(rows, mean, unreadable, prior, table.root, ", ".join(sources))


def write_predicted_submission(
    predictions: Predictions,
    out: str | os.PathLike,
    proba: bool = False,
    template: Template | None = None,
) -> Path:
    """Write ``submission.csv`` of fresh predictions (``python -m dflib predict``): the
    template filled in, when given, every image a row; say what happened to unreadable
    images and to ids the template and the images do not share. A trained run's own test
    predictions at a chosen threshold are :func:`dflib.decide.write_submission`'s."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if template is not None:
        frame = predictions.frame
        write_filled(template, frame["id"], frame["prob"], predictions.threshold,
                     predictions.prior, out)  # fmt: skip
    else:
        predictions.submission(proba).to_csv(out, index=False)
    if predictions.unreadable:
        names = ", ".join(Path(p).name for p, _ in predictions.unreadable[:10])
        print(
            f"{len(predictions.unreadable)} test image(s) could not be decoded ({names}"
            f"{', ...' if len(predictions.unreadable) > 10 else ''}); each still has a row, "
            "with the training share of fakes as its probability. Details: "
            f"{out.with_name(out.stem + '_unreadable.csv')}"
        )
        pd.DataFrame(predictions.unreadable, columns=["file", "reason"]).to_csv(
            out.with_name(out.stem + "_unreadable.csv"), index=False
        )
    return out
