"""What a run trains and is judged on: cached images, the split, the weights, the test set.

Images are decoded, resized and filtered once into the uint8 cache
(:mod:`dflib.data.cache`); a file that cannot be used lands in the data report with its
reason and is never seen by an epoch. The validation split is the data's own when it
gives one (``valid/``, ``valid.csv``, a ``split`` column), else stratified and seeded; the
class weights come from the training side. A labelled test split is scored like the
benchmark's hidden test labels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dflib.data import (
    DataReport,
    ImageTable,
    class_weights,
    load_hidden_test_labels,
    load_split,
    load_test_if_present,
    load_val_if_present,
    stratified_split,
)
from dflib.data.cache import ImageCache, build_cache
from dflib.filters import get_filter
from dflib.train.recipes import TrainConfig


@dataclass
class TrainingData:
    """The cached images of a run and how they are used.

    Attributes:
        table: the labelled images found (with the data report of skipped files).
        cache: their cached, filtered images (usable ones only).
        train, val: positions in ``cache`` of each side of the split.
        weights: class weights ``total / (2 * count)`` of the training side.
        test: the cached test images, if the data has a test folder.
        test_labels: labels of the test images (a labelled test split, or the embedded
            benchmark's hidden ones), else -1.
        validation: which validation split was used, in words (the log, ``params.json``).
        val_table: the given validation split's images, if the data gave one.
    """

    table: ImageTable
    cache: ImageCache
    train: np.ndarray
    val: np.ndarray
    weights: np.ndarray
    test: ImageCache | None = None
    test_table: ImageTable | None = None
    test_labels: np.ndarray | None = None
    validation: str = ""
    val_table: ImageTable | None = None

    @property
    def labels(self) -> np.ndarray:
        return self.cache.labels

    def skipped_report(self) -> DataReport:
        """Every unusable file of every split, as one report (the first ones by name)."""
        tables = [t for t in (self.table, self.val_table, self.test_table) if t is not None]
        return DataReport(self.table.root, [item for t in tables for item in t.report.skipped])

    def skipped(self) -> pd.DataFrame:
        """Every unusable file of the training and test folders, with its reason."""
        tables = [t for t in (self.table, self.val_table, self.test_table) if t is not None]
        rows = [(t.split, path, reason) for t in tables for path, reason in t.report.skipped]
        return pd.DataFrame(rows, columns=["split", "path", "reason"])


def preprocess_for(config: TrainConfig):
    """The recipe's noise filter as a cache preprocessing step (``None`` for raw images)."""
    if config.filter in ("", "none"):
        return None
    plain = get_filter(config.filter)
    return get_filter(config.filter, tol=config.tol) if "tol" in plain.params else plain


def subsample(table: ImageTable, n: int, seed: int) -> ImageTable:
    """A stratified ``n``-image subset (class shares kept), or the table if ``n`` is 0."""
    if not n or n >= len(table):
        return table
    keep, _ = stratified_split(table.labels, val_fraction=len(table) - n, seed=seed)
    frame = table.frame.iloc[keep].reset_index(drop=True)
    return ImageTable(frame, table.root, table.split, table.report)


def select_families(table: ImageTable, families: tuple[str, ...]) -> ImageTable:
    """Every real image and the fakes of ``families`` (the table itself if none are named).

    Raises:
        ValueError: the labels have no ``family`` column (a user's data usually has none),
            or a named family has no fake in them; the message lists what was found.
    """
    if not families:
        return table
    frame = table.frame
    if "family" not in frame.columns:
        raise ValueError(
            f"fake_families={list(families)} needs the generator family of each fake, but the "
            f"labels of {table.root} have no 'family' column (columns: {list(frame.columns)}). "
            "Add a 'family' column to the labels CSV (empty for real images), use the embedded "
            "benchmark (data_dir='synthetic'), or leave fake_families empty to train on every fake."
        )
    fakes = frame["label"] == 1
    found = sorted(frame.loc[fakes, "family"].dropna().astype(str).unique())
    unknown = sorted(set(families) - set(found))
    if unknown:
        raise ValueError(
            f"fake_families {unknown} have no fake images in {table.root}; the families "
            f"found are {found}."
        )
    keep = ~fakes | frame["family"].astype(str).isin(families)
    return ImageTable(frame.loc[keep].reset_index(drop=True), table.root, table.split, table.report)


def data_options(config: TrainConfig, test: bool = False) -> dict:
    """The data settings of ``config`` as :func:`~dflib.data.load_split`'s keywords: one
    place for every caller. The test split takes no labels-CSV settings (``test=True``):
    it is found by its own folder or ``test.csv``."""
    options = {"synthetic_size": config.synthetic_size, "classes": config.classes or None}
    if not test:
        options |= {"labels_csv": config.labels_csv or None,
                    "label_column": config.label_column or None}  # fmt: skip
    return options


def split_sizes(n: int, val_fraction: float) -> int:
    """Validation images: the fraction, but at least one per class (tiny folders)."""
    return int(min(n - 2, max(2, round(n * val_fraction))))


def prepare(config: TrainConfig, progress: bool = True) -> TrainingData:
    """Find, cache and split the data of ``config``; cache the test split too."""
    kw = data_options(config)
    table = load_split(config.data_dir, "train", **kw)
    table = subsample(
        select_families(table, config.fake_families), config.train_images, config.seed
    )
    given = load_val_if_present(config.data_dir, **kw)
    if os.environ.get("RANK", "0") == "0":  # what the loader chose, said by one process
        for note in table.report.notes + (given.report.notes if given is not None else []):
            print(f"data: {note}")
    if given is not None:
        given = select_families(given, config.fake_families)
        frames = [table.frame.assign(split="train"), given.frame.assign(split="val")]
        table = ImageTable(pd.concat(frames, ignore_index=True), table.root, "train", table.report)
    preprocess = preprocess_for(config)
    cache = build_cache(table, config.img_size, preprocess, progress=progress)
    labels = cache.labels
    if given is None:
        train, val = _random_split(labels, config, table)
        validation = (f"stratified random {len(val):,} of {len(labels):,} labelled images "
                      f"(val_fraction {config.val_fraction}, seed {config.seed})")  # fmt: skip
    else:
        train, val = (np.flatnonzero(cache.frame["split"] == side) for side in ("train", "val"))
        _check_given(labels, train, val, table)
        validation = f"given by the data: {len(val):,} images ({_where(given)}/), not re-split"
    data = TrainingData(table, cache, train, val, class_weights(labels[train]),
                        validation=validation, val_table=given)  # fmt: skip
    test_table = load_test_if_present(config.data_dir, **data_options(config, test=True))
    if test_table is not None and len(test_table):
        data.test_table = test_table
        data.test = build_cache(test_table, config.img_size, preprocess, progress=progress)
        data.test_labels = hidden_labels(test_table, data.test)
    return data


def _where(table: ImageTable) -> str:
    """The folder holding a split's images, relative to the data folder (``Validation``
    for ``Validation/Real`` + ``Validation/Fake``)."""
    paths = table.frame["path"].tolist()
    common = Path(os.path.commonpath(paths) if len(paths) > 1 else Path(paths[0]).parent)
    return str(common.relative_to(table.root)) if common.is_relative_to(table.root) else str(common)


def _random_split(labels: np.ndarray, config: TrainConfig, table: ImageTable):
    if len(labels) < 4 or np.bincount(labels, minlength=2).min() < 2:
        raise ValueError(
            f"{len(labels)} usable training images ({np.bincount(labels, minlength=2).tolist()} "
            "per class) are too few to split into training and validation: at least 2 of "
            f"each class are needed.\n{table.report.summary()}"
        )
    return stratified_split(
        labels, val_fraction=split_sizes(len(labels), config.val_fraction), seed=config.seed
    )


def _check_given(labels: np.ndarray, train: np.ndarray, val: np.ndarray, table: ImageTable):
    for side, positions in (("training", train), ("given validation", val)):
        counts = np.bincount(labels[positions], minlength=2)
        if counts.min() < 1:
            raise ValueError(
                f"The {side} images that decode hold {counts.tolist()} per class (real, fake): "
                f"both classes are needed.\n{table.report.summary()}"
            )


def hidden_labels(table: ImageTable, cache: ImageCache) -> np.ndarray:
    """Labels of the cached test images: the test split's own (class folders, a CSV's
    labels), else the embedded benchmark's held-back ``test_labels.csv``, -1 where unknown."""
    own = cache.labels
    hidden = load_hidden_test_labels(table.root)
    if hidden is None:
        return own
    ids = cache.frame["id"].astype(str)
    lookup = dict(zip(hidden["id"].astype(str), hidden["label"].astype(int), strict=True))
    return np.where(own >= 0, own, [lookup.get(i, -1) for i in ids]).astype(np.int64)
