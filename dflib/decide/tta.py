"""Test-time augmentation (horizontal flip) measured on validation before it is used.

Averaging a model's probabilities on an image and its mirror costs a second forward
pass; whether it pays is an empirical question per model. This module re-scores a
finished run's validation and test images with its saved weights, with and without
the flip, through the training engine's own evaluation (:func:`dflib.train.evaluate`),
so the comparison differs in the flip alone.

With a fine-tuning stage the final weights have trained on the validation images
(`docs/writeups.md#write-up-2`), so their validation scores are not held out:
:attr:`TTAScores.val_seen` says so, and the hidden test labels become the judge.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dflib.decide.ensemble import Aligned, align
from dflib.metrics import best_threshold, binary_metrics
from dflib.train import evaluate, load_run_model
from dflib.train.inputs import eval_loader, prepare
from dflib.train.runs import RunFolder, run_folder


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
    run = run if isinstance(run, RunFolder) else run_folder(run)
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
        :func:`dflib.decide.compare.compare_methods`.
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
