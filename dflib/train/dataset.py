"""What a run trains and is judged on: cached images, the split, the weights, the test set.

Images are decoded, resized and filtered once into the uint8 cache
(:mod:`dflib.data.cache`); a file that cannot be used lands in the data report with its
reason and is never seen by an epoch. The validation split is stratified and seeded; the
class weights come from the training side of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dflib.data import (
    ImageTable,
    class_weights,
    load_hidden_test_labels,
    load_split,
    load_test_if_present,
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
        test_labels: hidden labels of the test images (the embedded benchmark), else -1.
    """

    table: ImageTable
    cache: ImageCache
    train: np.ndarray
    val: np.ndarray
    weights: np.ndarray
    test: ImageCache | None = None
    test_table: ImageTable | None = None
    test_labels: np.ndarray | None = None

    @property
    def labels(self) -> np.ndarray:
        return self.cache.labels

    def skipped(self) -> pd.DataFrame:
        """Every unusable file of the training and test folders, with its reason."""
        tables = [t for t in (self.table, self.test_table) if t is not None]
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


def split_sizes(n: int, val_fraction: float) -> int:
    """Validation images: the fraction, but at least one per class (tiny folders)."""
    return int(min(n - 2, max(2, round(n * val_fraction))))


def prepare(config: TrainConfig, progress: bool = True) -> TrainingData:
    """Find, cache and split the data of ``config``; cache the test folder too."""
    table = load_split(
        config.data_dir, "train", synthetic_size=config.synthetic_size,
        labels_csv=config.labels_csv or None,
    )  # fmt: skip
    table = select_families(table, config.fake_families)
    table = subsample(table, config.train_images, config.seed)
    preprocess = preprocess_for(config)
    cache = build_cache(table, config.img_size, preprocess, progress=progress)
    labels = cache.labels
    if len(labels) < 4 or np.bincount(labels, minlength=2).min() < 2:
        raise ValueError(
            f"{len(labels)} usable training images ({np.bincount(labels, minlength=2).tolist()} "
            "per class) are too few to split into training and validation: at least 2 of "
            f"each class are needed.\n{table.report.summary()}"
        )
    train, val = stratified_split(
        labels, val_fraction=split_sizes(len(labels), config.val_fraction), seed=config.seed
    )
    data = TrainingData(table, cache, train, val, class_weights(labels[train]))
    test_table = load_test_if_present(config.data_dir, synthetic_size=config.synthetic_size)
    if test_table is not None and len(test_table):
        data.test_table = test_table
        data.test = build_cache(test_table, config.img_size, preprocess, progress=progress)
        data.test_labels = hidden_labels(test_table, data.test)
    return data


def hidden_labels(table: ImageTable, cache: ImageCache) -> np.ndarray:
    """Labels of the cached test images from ``test_labels.csv`` (the embedded
    benchmark keeps them aside), -1 where unknown."""
    hidden = load_hidden_test_labels(table.root)
    ids = cache.frame["id"].astype(str)
    if hidden is None:
        return np.full(len(ids), -1, dtype=np.int64)
    lookup = dict(zip(hidden["id"].astype(str), hidden["label"].astype(int), strict=True))
    return np.array([lookup.get(i, -1) for i in ids], dtype=np.int64)
