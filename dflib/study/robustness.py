"""How finished runs survive post-processing: the perturbations, the runs scored on the
perturbed held-out images, and the tables (drops from the clean score, who degrades
least, whether the ranking survives, what the filter's tolerance and a re-tuned
threshold change).

Every detector benchmark asks how a detector survives post-processing (CNNDetection's
blur + JPEG study, SIDBench's JPEG 95 / 90 / 50 / 30 and blur sigma 2 / 4 grid). Each
perturbation takes one ``H x W x 3`` uint8 image and a strength and returns a new uint8
image of the same shape, through a well-kept library:

- ``jpeg``: PIL's JPEG encoder at ``quality`` (1-95), decoded back;
- ``resize``: down to ``scale`` x the side and back up, both with PIL's bicubic filter;
- ``blur``: torchvision's Gaussian blur at ``sigma`` (kernel ``2 * ceil(3 sigma) + 1``);
- ``salt_pepper`` / ``salt_pepper_far``: salt-and-pepper noise of ``density`` (share of
  pixel-channels hit) made exactly as the benchmark makes its own
  (:func:`dflib.synthetic.fake.add_noise`): values near 0 / 255 (1-10, 245-254) or
  farther from them than the filter's tolerance (e.g. 15-40, 215-240);
- ``brightness`` / ``contrast``: torchvision's ``adjust_brightness`` / ``adjust_contrast``
  by ``factor`` (1 is the identity).

Noise is drawn from ``numpy.random.default_rng([seed, index])``: an image's noise depends
on the seed and its position, not on which other images are perturbed with it.

The perturbations are applied to the decoded source images as uint8 and written
losslessly (PNG) into a folder per condition, so each run's own pipeline meets them as it
would meet a user's data: decode, resize, its noise filter and the image cache
(:func:`dflib.data.cache.build_cache`), then its model (:func:`dflib.train.load_run_model`,
:func:`dflib.train.loop.evaluate`). Every run is scored with and without the
CoherentNoiseFilter at test time (at each tolerance given), whatever it was trained with.

The images are the held-out ones with known labels: the test split with its labels
(the embedded benchmark's hidden ``test_labels.csv``), else the run's validation split
(the ids of its ``predictions_val.csv``), a stratified, seeded subset of them.

F1 is taken at the run's decision threshold (:meth:`RunFolder.decision_threshold`) and at
a threshold re-tuned on the perturbed scores (:func:`dflib.decide.threshold.tune_threshold`),
cross-fitted: tuned on one half, scored on the other, both ways, so the re-tuned F1 is
not scored on the images that chose it. The tables all take :func:`score_runs`'s table
(one row per run, condition and test-time filter setting).
"""

from __future__ import annotations

import io
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torchvision.transforms import functional as tvf

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
from dflib.decide.threshold import tune_threshold
from dflib.environment import cache_dir, file_lock, split_names
from dflib.filters import get_filter
from dflib.imageio import try_read_image
from dflib.metrics import binary_metrics
from dflib.synthetic.config import SyntheticConfig
from dflib.synthetic.fake import add_noise
from dflib.train import load_run_model
from dflib.train.config import TrainConfig
from dflib.train.inputs import data_options, eval_loader, subsample
from dflib.train.loop import evaluate
from dflib.train.machine import Device
from dflib.train.runs import RunFolder

NEAR_PEPPER = (1, 10)  # the benchmark's own noise values (dflib.synthetic.config)
NEAR_SALT = (245, 254)


@dataclass(frozen=True)
class Condition:
    """One perturbation at one strength (``kind == "clean"``: the images as they are)."""

    kind: str
    strength: float = 0.0
    pepper: tuple[int, int] = NEAR_PEPPER  # noise values (salt-and-pepper kinds only)
    salt: tuple[int, int] = NEAR_SALT

    @property
    def name(self) -> str:
        """A folder-safe name, e.g. ``jpeg-75`` or ``salt_pepper_far-0.05``."""
        return "clean" if self.kind == "clean" else f"{self.kind}-{self.strength:g}"


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)


def _array(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.permute(1, 2, 0).numpy(), dtype=np.uint8)


def jpeg(image: np.ndarray, quality: float) -> np.ndarray:
    """Encode as JPEG at ``quality`` with PIL (4:2:0 chroma, its default) and decode."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8).copy()


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    """Down to ``scale`` x the side (at least 1 px) and back up, bicubic both ways."""
    if scale >= 1:
        return image.copy()
    h, w = image.shape[:2]
    small = Image.fromarray(image).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BICUBIC
    )
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC), dtype=np.uint8).copy()


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur at ``sigma`` px (torchvision); the kernel is capped below the side."""
    if sigma <= 0:
        return image.copy()
    side = min(image.shape[:2])
    kernel = min(2 * math.ceil(3 * sigma) + 1, side - 1 if side % 2 == 0 else side)
    return _array(tvf.gaussian_blur(_tensor(image), [kernel, kernel], [float(sigma)] * 2))


def salt_pepper(
    image: np.ndarray,
    density: float,
    rng: np.random.Generator,
    pepper: tuple[int, int] = NEAR_PEPPER,
    salt: tuple[int, int] = NEAR_SALT,
) -> np.ndarray:
    """Salt-and-pepper noise of ``density`` with values in ``pepper`` / ``salt``, made by
    the benchmark's own :func:`~dflib.synthetic.fake.add_noise` (each channel hit alone)."""
    if density <= 0:
        return image.copy()
    config = SyntheticConfig(noise_density=(density, density), pepper=pepper, salt=salt)
    return add_noise(image, rng, config)[0]


def brightness(image: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's ``adjust_brightness`` (multiply by ``factor``, clipped)."""
    return _array(tvf.adjust_brightness(_tensor(image), float(factor)))


def contrast(image: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's ``adjust_contrast`` (blend with the mean grey by ``factor``)."""
    return _array(tvf.adjust_contrast(_tensor(image), float(factor)))


def apply(image: np.ndarray, condition: Condition, seed: int = 42, index: int = 0) -> np.ndarray:
    """``image`` after ``condition``: a new uint8 array of the same shape.

    Args:
        image: ``H x W x 3`` uint8.
        condition: the perturbation and its strength.
        seed, index: the noise's random stream (``default_rng([seed, index])``).
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 uint8 image, got {image.dtype} {image.shape}")
    kind, s = condition.kind, condition.strength
    if kind == "clean":
        return image.copy()
    if kind == "jpeg":
        return jpeg(image, s)
    if kind == "resize":
        return resize(image, s)
    if kind == "blur":
        return blur(image, s)
    if kind in ("salt_pepper", "salt_pepper_far"):
        rng = np.random.default_rng([seed, index])
        return salt_pepper(image, s, rng, condition.pepper, condition.salt)
    if kind == "brightness":
        return brightness(image, s)
    if kind == "contrast":
        return contrast(image, s)
    raise ValueError(f"unknown perturbation {kind!r}; known: {', '.join(KINDS)}")


# Bump when :func:`apply` writes other pixels for a condition: the perturbed PNGs are cached
# by their source images and seed, so without it a changed perturbation reads stale files.
PERTURBED_VERSION = 2
KINDS = ("jpeg", "resize", "blur", "salt_pepper", "salt_pepper_far", "brightness", "contrast")


def numbers(value: str | list | tuple) -> list[float]:
    """``"95,90,75"`` (a notebook parameter) or a list as floats; ``""`` is none."""
    return [float(v) for v in split_names(value)]


def value_range(value: str | tuple[int, int]) -> tuple[int, int]:
    """``"15,40"`` or ``(15, 40)`` as an ``(low, high)`` pair of ints."""
    low, high = (int(v) for v in numbers(value))
    return low, high


def grid(
    jpeg_qualities="95,90,75,50,30",
    resize_scales="0.75,0.5",
    blur_sigmas="0.5,1,2,4",
    noise_densities="0.01,0.05,0.1",
    far_pepper="15,40",
    far_salt="215,240",
    brightness_factors="0.7,1.3",
    contrast_factors="0.7,1.3",
) -> list[Condition]:
    """``clean`` and every perturbation at every strength, in the order given (a kind
    given no strengths is left out). Noise densities apply to both noise kinds."""
    far = {"pepper": value_range(far_pepper), "salt": value_range(far_salt)}
    kinds = [("jpeg", jpeg_qualities, {}), ("resize", resize_scales, {}),
             ("blur", blur_sigmas, {}), ("salt_pepper", noise_densities, {}),
             ("salt_pepper_far", noise_densities, far),
             ("brightness", brightness_factors, {}), ("contrast", contrast_factors, {})]  # fmt: skip
    conditions = [Condition("clean")]
    for kind, strengths, extra in kinds:
        conditions += [Condition(kind, s, **extra) for s in numbers(strengths)]
    return conditions


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
    folder = parent / f"{table.split}-{cache_key(table, 0, None)}-seed{seed}-v{PERTURBED_VERSION}"
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
    return [("none", 0)] + [(FILTER, int(t)) for t in split_names(tols)]


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
        dev = in_its_own_precision(run, dev)
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


def in_its_own_precision(run: RunFolder, dev: Device) -> Device:
    """``dev`` with the precision the run scored its own predictions in (its
    ``environment.json``), so the clean row compares like with like
    (:func:`clean_against_own`): a float32 run re-scored on a CPU whose ``amp="auto"`` is
    bf16 would otherwise differ by bf16's rounding, not by anything the study changed."""
    recorded = run.read_json("environment").get("precision") if run.environment.is_file() else None
    if recorded not in ("float32", "bfloat16", "float16"):
        return dev
    dtype = None if recorded == "float32" else getattr(torch, recorded)
    return Device(dev.device, dtype)


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


KEYS = ["run", "arch", "filter"]
MIN_DROP = 0.02  # an F1 drop smaller than this is not "recovered" (it is noise)


def drops(scores: pd.DataFrame) -> pd.DataFrame:
    """Every perturbed row with its change from the same run and filter setting on the
    clean images: ``d_auc``, ``d_f1`` (at the run's threshold), ``d_f1_retuned`` and
    ``recovered`` (the share of the F1 drop a re-tuned threshold wins back, where the drop
    is at least ``MIN_DROP``)."""
    clean = scores[scores["kind"] == "clean"].set_index(KEYS)[["auc", "f1"]]
    clean = clean.add_suffix("_clean")
    out = scores[scores["kind"] != "clean"].join(clean, on=KEYS)
    out["d_auc"] = out["auc"] - out["auc_clean"]
    out["d_f1"] = out["f1"] - out["f1_clean"]
    out["d_f1_retuned"] = out["f1_retuned"] - out["f1_clean"]
    lost = -out["d_f1"]
    out["recovered"] = np.where(lost >= MIN_DROP, (out["f1_retuned"] - out["f1"]) / lost, np.nan)
    return out.reset_index(drop=True)


def own_pipeline(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of each run's own test-time pipeline (its training filter, or none)."""
    return table[table["own"]]


def drop_table(table: pd.DataFrame, metric: str = "d_f1") -> pd.DataFrame:
    """``metric`` per (perturbation, strength), one column per architecture and filter
    setting (``arch / filter``): the table of the drop at each strength."""
    frame = table.assign(column=table["arch"] + " / " + table["filter"])
    return frame.pivot_table(index=["kind", "strength"], columns="column", values=metric,
                             sort=False)  # fmt: skip


def degradation(table: pd.DataFrame) -> pd.DataFrame:
    """Per architecture (own pipeline): clean AUC / F1, mean and worst drop over every
    perturbed condition, the share of the F1 drop re-tuning recovers; least degraded first."""
    own = own_pipeline(table)
    out = own.groupby("arch").agg(
        auc_clean=("auc_clean", "first"), f1_clean=("f1_clean", "first"),
        mean_d_auc=("d_auc", "mean"), worst_d_auc=("d_auc", "min"),
        mean_d_f1=("d_f1", "mean"), worst_d_f1=("d_f1", "min"),
        mean_d_f1_retuned=("d_f1_retuned", "mean"), recovered=("recovered", "median"),
    )  # fmt: skip
    return out.sort_values("mean_d_auc", ascending=False)


def ranking(scores: pd.DataFrame, metric: str = "auc") -> pd.DataFrame:
    """Per condition (own pipelines): the architectures ordered by ``metric`` and whether
    that order is the clean images' order (``kept``)."""
    own = own_pipeline(scores)
    orders = (own.sort_values(metric, ascending=False).groupby("condition", sort=False)["arch"]
              .agg(" > ".join))  # fmt: skip
    clean = orders.get("clean", "")
    meta = own.drop_duplicates("condition").set_index("condition")[["kind", "strength"]]
    out = meta.join(orders.rename("order"))
    out["kept"] = out["order"] == clean
    return out.reset_index()


def tolerance(scores: pd.DataFrame, metric: str = "auc") -> pd.DataFrame:
    """``metric`` on the clean and noisy conditions for every filter setting, per
    architecture: does a wider tolerance help when the noise is farther from 0 / 255?"""
    noisy = scores[scores["kind"].isin(["clean", "salt_pepper", "salt_pepper_far"])]
    return noisy.pivot_table(index=["arch", "kind", "strength"], columns="filter",
                             values=metric, sort=False)  # fmt: skip


def recovery(table: pd.DataFrame) -> pd.DataFrame:
    """Per perturbation (own pipelines): mean F1 drop at the run's threshold, after
    re-tuning, and the median share recovered."""
    own = own_pipeline(table)
    return own.groupby("kind", sort=False).agg(
        d_f1=("d_f1", "mean"), d_f1_retuned=("d_f1_retuned", "mean"),
        recovered=("recovered", "median"), d_auc=("d_auc", "mean"),
    )  # fmt: skip


def conclusions(scores: pd.DataFrame) -> str:
    """The measured answers in words (markdown bullets), from the tables above."""
    table = drops(scores)
    deg = degradation(table)
    ranks = ranking(scores)
    perturbed = ranks[ranks["kind"] != "clean"]
    rec = recovery(table)
    best = deg.index[0]
    lines = [
        f"- least degraded (mean AUC change over {len(perturbed)} conditions): **{best}** "
        f"({deg['mean_d_auc'].iloc[0]:+.3f}; worst {deg['worst_d_auc'].iloc[0]:+.3f}); "
        + "; ".join(f"{a} {r.mean_d_auc:+.3f}" for a, r in deg.iloc[1:].iterrows()),
        f"- the clean AUC order ({ranks.loc[ranks['kind'] == 'clean', 'order'].iat[0]}) holds in "
        f"{int(perturbed['kept'].sum())} of {len(perturbed)} conditions",
        "- mean F1 change at the run's threshold -> after re-tuning, per perturbation: "
        + "; ".join(f"{k} {r.d_f1:+.3f} -> {r.d_f1_retuned:+.3f}" for k, r in rec.iterrows()),
    ]
    tol = tolerance(scores).groupby(level="kind", sort=False).mean()
    if len(tol.columns) > 1:
        lines.append("- mean AUC per filter setting: " + "; ".join(
            f"{k}: " + ", ".join(f"{c} {v:.3f}" for c, v in row.items()) for k, row in tol.iterrows()
        ))  # fmt: skip
    return "\n".join(lines)
