"""Robustness: how finished runs score on held-out images after post-processing.

The perturbations (:mod:`dflib.study.perturb`) are applied to the decoded source images
as uint8 and written losslessly (PNG) into a folder per condition, so each run's own
pipeline meets them as it would meet a user's data: decode, resize, its noise filter and
the image cache (:func:`dflib.data.cache.build_cache`), then its model
(:func:`dflib.train.load_run_model`, :func:`dflib.train.loop.evaluate`). Every run is
scored with and without the CoherentNoiseFilter at test time (at each tolerance given),
whatever it was trained with.

The images are the held-out ones with known labels: the test split with its labels
(the embedded benchmark's hidden ``test_labels.csv``), else the run's validation split
(the ids of its ``predictions_val.csv``), a stratified, seeded subset of them.

F1 is taken at the run's decision threshold (:meth:`RunFolder.decision_threshold`) and at
a threshold re-tuned on the perturbed scores (:func:`dflib.decide.calibration.tune_threshold`),
cross-fitted: tuned on one half, scored on the other, both ways, so the re-tuned F1 is
not scored on the images that chose it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from dflib.data import (
    DataReport,
    ImageTable,
    load_hidden_test_labels,
    load_split,
    load_test_if_present,
    load_val_if_present,
    stratified_split,
)
from dflib.data.cache import build_cache, cache_key
from dflib.decide.calibration import tune_threshold
from dflib.environment import cache_dir, file_lock
from dflib.filters import get_filter
from dflib.imageio import try_read_image
from dflib.metrics import binary_metrics
from dflib.study.perturb import Condition, apply
from dflib.train import load_run_model
from dflib.train.config import TrainConfig
from dflib.train.inputs import data_options, eval_loader, subsample
from dflib.train.loop import evaluate
from dflib.train.runs import RunFolder

FILTER = "coherent_noise_filter"


def held_out(run: RunFolder, max_images: int = 0, seed: int = 42) -> ImageTable:
    """The run's held-out images with known labels, a stratified subset of ``max_images``
    (0: all): the labelled test split, else the run's validation split.

    Raises:
        ValueError: neither the test split nor the run's validation predictions give labels.
    """
    config = TrainConfig.from_dict(run.read_json("params"))
    kw = data_options(config)
    table = load_test_if_present(config.data_dir, **data_options(config, test=True))
    if table is not None and len(table):
        hidden = load_hidden_test_labels(table.root)
        if hidden is not None:
            lookup = dict(zip(hidden["id"].astype(str), hidden["label"].astype(int), strict=True))
            own = table.frame["label"].to_numpy()
            labels = [o if o >= 0 else lookup.get(i, -1)
                      for o, i in zip(own, table.frame["id"].astype(str), strict=True)]  # fmt: skip
            table = ImageTable(table.frame.assign(label=labels), table.root, "test", table.report)
    if table is None or not (table.frame["label"] >= 0).any():
        if not run.predictions_val.is_file():
            raise ValueError(
                f"no labelled held-out images for {run.root}: the test split has no labels and "
                "the run has no predictions_val.csv; finish the run (it writes one)"
            )
        ids = set(pd.read_csv(run.predictions_val, dtype={"id": str})["id"])
        tables = [
            load_split(config.data_dir, "train", **kw),
            load_val_if_present(config.data_dir, **kw),
        ]
        frame = pd.concat([t.frame for t in tables if t is not None], ignore_index=True)
        frame = frame.drop_duplicates("id")
        frame = frame[frame["id"].astype(str).isin(ids)].reset_index(drop=True)
        table = ImageTable(frame, tables[0].root, "val", tables[0].report)
    frame = table.frame[table.frame["label"] >= 0].reset_index(drop=True)
    return subsample(ImageTable(frame, table.root, table.split, table.report), max_images, seed)


def perturbed_images(
    table: ImageTable, conditions: list[Condition], seed: int = 42, root: str | Path | None = None
) -> dict[str, ImageTable]:
    """Write ``table``'s images after each condition as PNG files (reused when complete).

    The folder is keyed by the source files (the cache's own key of them) and the seed, one
    sub-folder per condition, each written under a lock (:func:`dflib.environment.file_lock`);
    an image that cannot be decoded is left out and reported.

    Returns:
        ``{condition.name: ImageTable}`` of the written images (same ids and labels).
    """
    parent = Path(root) if root is not None else cache_dir() / "perturbed"
    folder = parent / f"{table.split}-{cache_key(table, 0, None)}-seed{seed}"
    sources = None
    tables = {}
    for condition in conditions:
        out = folder / condition.name
        done = out / "done.json"
        with file_lock(out):  # two notebooks perturbing the same images: one writes them
            if not done.is_file():
                if sources is None:
                    sources = [try_read_image(p) for p in table.frame["path"]]
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir(parents=True)
                for index, (ident, (image, _)) in enumerate(
                    zip(table.frame["id"], sources, strict=True)
                ):
                    if image is not None:
                        image = apply(image, condition, seed, index)
                        Image.fromarray(image).save(out / f"{ident}.png")
                done.write_text(json.dumps({"condition": condition.name, "seed": seed}))
        frame = table.frame.assign(path=[str(out / f"{i}.png") for i in table.frame["id"]])
        exists = frame["path"].map(lambda p: Path(p).is_file())
        report = DataReport(out)
        for path in table.frame.loc[~exists, "path"]:
            report.add(path, "not decodable")
        tables[condition.name] = ImageTable(frame[exists].reset_index(drop=True), out,
                                            "perturbed", report)  # fmt: skip
    return tables


def cross_fitted_f1(labels, probs, seed: int = 42) -> float:
    """F1 at a threshold tuned on one stratified half and applied to the other (both ways,
    averaged): what re-tuning on data like these recovers, not scored on its own images."""
    labels, probs = np.asarray(labels, dtype=np.int64), np.asarray(probs, dtype=np.float64)
    if np.bincount(labels, minlength=2).min() < 4:
        return float("nan")
    a, b = stratified_split(labels, val_fraction=0.5, seed=seed)
    scores = [binary_metrics(labels[test], probs[test], tune_threshold(labels[fit], probs[fit]).threshold)["f1"]
              for fit, test in ((a, b), (b, a))]  # fmt: skip
    return float(np.mean(scores))


def filter_settings(tols) -> list[tuple[str, int]]:
    """``("none", 0)`` and the CoherentNoiseFilter at each tolerance of ``tols``."""
    values = tols.split(",") if isinstance(tols, str) else list(tols)
    return [("none", 0)] + [(FILTER, int(t)) for t in values if str(t).strip()]


def score_runs(
    runs: list[RunFolder],
    tables: dict[str, ImageTable],
    conditions: list[Condition],
    tols="30",
    *,
    device: str = "auto",
    seed: int = 42,
    workers: int = 1,
    progress: bool = False,
) -> pd.DataFrame:
    """AUC and F1 of every run on every condition, with each filter setting at test time.

    Each condition's images are cached once per (image size, filter setting) and scored
    by every run of that size; the caches are removed afterwards (the PNGs stay).

    Returns:
        One row per run, condition and filter setting: ``run``, ``arch``, ``kind``,
        ``strength``, ``condition``, ``filter``, ``tol``, ``own`` (the run's own test-time
        pipeline), ``n``, ``auc``, ``f1`` (at the run's threshold), ``threshold``,
        ``f1_retuned`` (cross-fitted), ``threshold_retuned`` (tuned on all of them).
    """
    loaded = []
    for run in runs:
        model, config, pipeline, dev = load_run_model(run, device)
        loaded.append((run, model, config, pipeline, dev, run.decision_threshold()))
    rows = []
    for condition in conditions:
        table = tables[condition.name]
        for name, tol in filter_settings(tols):
            preprocess = None if name == "none" else get_filter(name, tol=tol)
            caches = {}
            for run, model, config, pipeline, dev, threshold in loaded:
                size = config.img_size
                if size not in caches:
                    caches[size] = build_cache(table, size, preprocess, workers=workers,
                                               progress=progress)  # fmt: skip
                cache = caches[size]
                loader = eval_loader(cache, cache.labels, np.arange(len(cache)),
                                     config.batch_size * 2, 0, dev.device)  # fmt: skip
                out = evaluate(model, loader, pipeline, dev, progress=progress)
                labels, probs = out["labels"], out["probs"]
                scores = binary_metrics(labels, probs, threshold)
                own = (config.filter in ("", "none") and name == "none") or (
                    config.filter == name and config.tol == tol)  # fmt: skip
                rows.append({
                    "run": run.name, "arch": config.arch, "kind": condition.kind,
                    "strength": condition.strength, "condition": condition.name,
                    "filter": name if name == "none" else f"cnf tol {tol}", "tol": tol,
                    "own": own, "n": len(labels), "auc": scores.get("auc", float("nan")),
                    "f1": scores["f1"], "threshold": threshold,
                    "f1_retuned": cross_fitted_f1(labels, probs, seed),
                    "threshold_retuned": tune_threshold(labels, probs).threshold,
                })  # fmt: skip
            for cache in caches.values():
                shutil.rmtree(cache.folder, ignore_errors=True)
    return pd.DataFrame(rows)


def own_predictions(run: RunFolder, held: ImageTable) -> pd.DataFrame:
    """The run's own predictions (``id``, ``prob``) on the held-out images, with their
    ``label``: what the run itself said about the images this study perturbs."""
    split = "test" if held.split == "test" else "val"
    truth = dict(zip(held.frame["id"].astype(str), held.frame["label"].astype(int), strict=True))
    own = run.read_predictions(split)[["id", "prob"]]
    own = own[own["id"].astype(str).isin(truth)]
    return own.assign(label=own["id"].astype(str).map(truth).astype(int))


def clean_against_own(
    scores: pd.DataFrame, runs: list[RunFolder], held: ImageTable
) -> pd.DataFrame:
    """Each run's clean score through its own pipeline (:func:`score_runs`) beside the AUC
    of the run's own predictions on the same held-out images: the two must agree, or the
    perturbation pipeline is not the one the run was scored with (notebook 16's check).

    Returns:
        One row per run: ``run``, ``clean_auc``, ``own_auc``, ``difference``.
    """
    clean = scores[(scores["kind"] == "clean") & scores["own"]].set_index("run")["auc"]
    rows = []
    for run in runs:
        own = own_predictions(run, held)
        auc = binary_metrics(own["label"], own["prob"]).get("auc", float("nan"))
        rows.append(
            {"run": run.name, "clean_auc": clean.get(run.name, float("nan")), "own_auc": auc}
        )
    frame = pd.DataFrame(rows)
    return frame.assign(difference=(frame["clean_auc"] - frame["own_auc"]).abs())
