"""Where images come from: a user's data folder (any accepted layout) or the embedded
benchmark, the class statistics and splits, and the preprocessed image cache.

- :mod:`~dflib.data.layouts`: the names of splits, classes and CSVs (any case), the skip
  report; :mod:`~dflib.data.sources`: where each split is; :mod:`~dflib.data.csvs`:
  labels CSVs with ids as text; :mod:`~dflib.data.folders`: images found by listing;
- :mod:`~dflib.data.tables`: :func:`load_split` and the :class:`ImageTable` it returns;
- :mod:`~dflib.data.template`: a competition's ``sample_submission.csv``, followed exactly;
- :mod:`~dflib.data.splits`: class counts and weights, stratified split, balanced sampler;
- :mod:`~dflib.data.verify`: decode every file, report the ones that do not decode;
- :mod:`~dflib.data.cache`: decode + resize + preprocess once into a memory-mapped array.

>>> from dflib import data
>>> train = data.load_split("synthetic", "train", synthetic_size="tiny")  # doctest: +SKIP
"""

from dflib.data.csvs import parse_labels
from dflib.data.layouts import DataError, DataReport
from dflib.data.splits import balanced_sampler, class_counts, class_weights, stratified_split
from dflib.data.tables import (
    ImageTable,
    load_hidden_test_labels,
    load_prediction_images,
    load_split,
    load_test_if_present,
    load_val_if_present,
    resolve_data_dir,
    sample_images,
)
from dflib.data.verify import verify_images

__all__ = [
    "DataError", "DataReport", "ImageTable", "balanced_sampler", "class_counts", "class_weights",
    "load_hidden_test_labels", "load_prediction_images", "load_split", "load_test_if_present", "load_val_if_present",
    "parse_labels",
    "resolve_data_dir", "sample_images", "stratified_split", "verify_images",
]  # fmt: skip
