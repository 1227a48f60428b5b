"""What a run trains and is judged on, and how its images reach the model: the cached
images, the split, the class weights and the test set; the batches in a reproducible
order, read from the cache or from a copy of it held on the GPU; and the device pipeline
that turns a uint8 batch into the model's input, augmented per sample.

Images are decoded, resized and filtered once into the uint8 cache
(:mod:`dflib.data.cache`); a file that cannot be used lands in the data report with its
reason and is never seen by an epoch. The validation split is the data's own when it
gives one (``valid/``, ``valid.csv``, a ``split`` column), else stratified and seeded; the
class weights come from the training side. A labelled test split is scored like the
benchmark's hidden test labels.

Batches come straight from the memory-mapped cache: one read per batch (a fancy index
into ``images.npy``) instead of one per image, no decoding and no per-image transform,
since everything random happens on the device. Workers read ahead, pinned memory lets
the copy to the GPU overlap the previous step. The order of epoch ``e`` depends on
``(seed, e)`` only, so a resumed run sees exactly the batches an uninterrupted run would
have seen.

On a GPU with room for it, the whole cache is held there for the run
(:class:`ResidentCache`, 5.8 GB for 50,000 images at 196 px): one copy per run replaces
the loader workers and the host-to-device copy of every batch. Its batches, and their
order, are those of :func:`batch_loader` (the positions of each batch sorted, as that
loader reads them), so a run trains the same images in the same order either way.
Without room (beside what a measured training step and evaluation batch need), the run
keeps the pinned-memory loader.

Batches travel as uint8 NHWC (a quarter of float32's bytes); conversion, augmentation
and normalisation then run where the model runs (:class:`DevicePipeline`).
kornia.augmentation draws random parameters *per sample* for a whole batch at once, so a
GPU never waits for per-image Python code; the same code runs on CPU. Its randomness
comes from torch's global generator, which the training loop seeds per epoch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

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
from dflib.train.config import RESIDENT_MODES, TrainConfig


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


# --- batches from the cache, in a reproducible order ---


def epoch_order(labels: np.ndarray, seed: int, epoch: int, balanced: bool = False) -> np.ndarray:
    """Positions of one epoch: a permutation, or (``balanced``) as many draws with
    replacement, each class with probability 1/2 - what ``WeightedRandomSampler`` with
    per-class weights ``1 / count`` does, but keyed on ``(seed, epoch)``."""
    rng = np.random.default_rng([seed, epoch])
    n = len(labels)
    if not balanced:
        return rng.permutation(n)
    counts = np.bincount(labels, minlength=2).astype(np.float64)
    weights = (1.0 / counts)[labels]
    return rng.choice(n, size=n, replace=True, p=weights / weights.sum())


def split_batches(order: np.ndarray, batch_size: int, drop_last: bool) -> list[np.ndarray]:
    """Consecutive batches of ``order``. ``drop_last`` drops a last batch smaller than
    the others only when it has one image (BatchNorm cannot train on a single image)."""
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if drop_last and len(batches) > 1 and len(batches[-1]) < 2:
        batches.pop()
    return batches


class CacheBatches(Dataset):
    """``dataset[positions]`` -> ``(uint8 NHWC images, labels, positions)`` for one batch.

    Args:
        images: the cache (anything indexable by an int array returning NxHxWx3 uint8).
        labels: labels per position (-1 for unlabeled images).
    """

    def __init__(self, images, labels: np.ndarray) -> None:
        self.images = images
        self.labels = np.asarray(labels, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, positions: np.ndarray):
        # reading in file order is faster on a memmap; the order inside a batch is irrelevant
        positions = np.sort(np.asarray(positions))
        images = torch.from_numpy(np.ascontiguousarray(self.images[positions]))
        return images, torch.from_numpy(self.labels[positions]), torch.from_numpy(positions)


def batch_loader(
    images, labels: np.ndarray, batches: list[np.ndarray], workers: int = 0, pin: bool = False
) -> DataLoader:
    """A DataLoader yielding the given batches (each read in one go) in their order."""
    return DataLoader(
        CacheBatches(images, labels),
        sampler=batches,
        batch_size=None,
        num_workers=workers,
        pin_memory=pin,
        prefetch_factor=4 if workers > 0 else None,
    )


def to_device(batch: tuple[torch.Tensor, ...], device: torch.device) -> Iterator[torch.Tensor]:
    """Copy every tensor of a batch to ``device`` without blocking the host."""
    return (t.to(device, non_blocking=True) for t in batch)


# inference keeps no activations for a backward pass, so a GPU scores this many images
# per batch whatever the recipe's training batch: fewer, larger launches
EVAL_BATCH_CUDA = 512


def eval_batch_size(train_batch_size: int, device) -> int:
    """Images per evaluation batch: twice the training batch, at least
    :data:`EVAL_BATCH_CUDA` on CUDA (on a CPU a larger batch gains nothing)."""
    if torch.device(device).type == "cuda":
        return max(2 * train_batch_size, EVAL_BATCH_CUDA)
    return 2 * train_batch_size


def eval_batches(positions, train_batch_size: int, device) -> list[np.ndarray]:
    """Batches over ``positions`` in cache order, nothing dropped (validation, test)."""
    size = eval_batch_size(train_batch_size, device)
    return split_batches(np.sort(np.asarray(positions)), size, drop_last=False)


def eval_loader(
    images, labels, positions, train_batch_size: int, workers: int, device
) -> DataLoader:
    """A loader of :func:`eval_batches` for a model trained at ``train_batch_size``."""
    batches = eval_batches(positions, train_batch_size, device)
    return batch_loader(images, labels, batches, workers, torch.device(device).type == "cuda")


# --- the cache held on the GPU ---

# what the run's measured step needs (machine.step_memory) is kept free times this: the
# allocator's fragmentation, cuDNN workspaces picked later, CUDA-graph pools
HEADROOM = 1.5
CHUNK = 2048  # images copied per step of the one-time upload (bounds host memory)


def nbytes(images) -> int:
    """Bytes of an ``N x H x W x 3`` uint8 cache."""
    return len(images) * int(np.prod(images[:1].shape[1:], dtype=np.int64))


def wanted(mode: str, images, device: torch.device, step_bytes: int = 0) -> bool:
    """Whether a run holds its cache on ``device``: ``on``, ``off``, or ``auto``: on CUDA
    when the cache fits in the free memory beside :data:`HEADROOM` times ``step_bytes``.

    Args:
        step_bytes: what a training step and an evaluation batch take on the device
            beyond what is allocated now, measured by a dry step
            (:func:`dflib.train.machine.step_memory`): the optimiser state, gradients and
            activations that do not exist yet when the cache is placed.

    Raises:
        ValueError: an unknown mode.
    """
    if mode not in RESIDENT_MODES:
        raise ValueError(f"resident_data must be one of {RESIDENT_MODES}, got {mode!r}")
    if mode != "auto":
        return mode == "on"
    if device.type != "cuda" or len(images) == 0:
        return False
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes(images) <= free - HEADROOM * step_bytes


def hold(
    mode: str, images, labels: np.ndarray, device: torch.device, step_bytes: int = 0
) -> ResidentCache | None:
    """The cache on ``device`` when :func:`wanted` says so, else ``None`` (the loader)."""
    if not wanted(mode, images, device, step_bytes):
        return None
    return ResidentCache(images, labels, device)


class ResidentCache:
    """Every image and label of a cache, copied once to ``device``.

    Args:
        images: the cache (indexable by an int array, returning ``N x H x W x 3`` uint8).
        labels: labels per position (-1 for unlabeled images).
    """

    def __init__(self, images, labels: np.ndarray, device: torch.device) -> None:
        n = len(images)
        self.device = device
        self.images = torch.empty((n, *images[:1].shape[1:]), dtype=torch.uint8, device=device)
        for start in range(0, n, CHUNK):
            chunk = np.ascontiguousarray(images[np.arange(start, min(start + CHUNK, n))])
            self.images[start : start + len(chunk)].copy_(torch.from_numpy(chunk))
        # a copy: the labels may be a read-only view of the cache, which torch warns about
        self.labels = torch.tensor(np.asarray(labels, dtype=np.int64), device=device)

    def describe(self) -> str:
        """One line for the run's log."""
        gb = self.images.numel() / 1e9
        return f"data: {len(self.images):,} cached images resident on {self.device} ({gb:.2f} GB)"

    def batches(self, batches: list[np.ndarray]) -> ResidentBatches:
        """The given batches, gathered on the device, in their order."""
        return ResidentBatches(self, batches)


class ResidentBatches:
    """Iterable of ``(uint8 NHWC images, labels, positions)`` like a
    :func:`batch_loader`: images and labels on the device, positions
    on the host."""

    def __init__(self, cache: ResidentCache, batches: list[np.ndarray]) -> None:
        self.cache = cache
        self.batch_positions = batches

    def __len__(self) -> int:
        return len(self.batch_positions)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        # a DataLoader draws a base seed from the global generator each time an iterator
        # is made (tqdm makes one more than it uses); drawing it here too, as eagerly,
        # keeps every later random number (augmentations, dropout) where the loader path
        # has it, so both paths train the same run
        torch.empty((), dtype=torch.int64).random_()
        return self._gather()

    def _gather(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        # the epoch's positions go to the device in one copy, and each step slices them
        # there: a copy from ordinary (pageable) host memory may block the host, once an
        # epoch instead of once a step (the step loop reads the device every CHECK_EVERY)
        hosts = [torch.from_numpy(np.sort(np.asarray(p))) for p in self.batch_positions]
        if not hosts:
            return
        on_device = torch.cat(hosts).to(self.cache.device)
        start = 0
        for host in hosts:
            index = on_device[start : start + len(host)]
            start += len(host)
            yield self.cache.images[index], self.cache.labels[index], host


# --- the device pipeline: uint8 batch to model input, augmented per sample ---

# The write-ups name the operations, not their strengths: these are torchvision's usual ones.
CROP_SCALE = (0.8, 1.0)
JITTER = {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.02}
BLUR = {"kernel_size": (5, 5), "sigma": (0.1, 2.0), "p": 0.3}
SHARPNESS = {"sharpness": 1.0, "p": 0.5}


def build_augmentations(names: Sequence[str], img_size: int) -> nn.Module:
    """kornia augmentations for the recipe's ``names``, in a fixed order (geometry first)."""
    import kornia.augmentation as K

    makers = {
        "resized_crop": lambda: K.RandomResizedCrop((img_size, img_size), scale=CROP_SCALE),
        "hflip": lambda: K.RandomHorizontalFlip(p=0.5),
        "color_jitter": lambda: K.ColorJitter(**JITTER, p=0.8),
        "gaussian_blur": lambda: K.RandomGaussianBlur(**BLUR),
        "sharpness": lambda: K.RandomSharpness(**SHARPNESS),
    }
    unknown = sorted(set(names) - set(makers))
    if unknown:
        raise ValueError(f"unknown augmentations {unknown}; expected names from {sorted(makers)}")
    ops = [makers[name]() for name in makers if name in names]
    return nn.Sequential(*ops) if ops else nn.Identity()


class DevicePipeline(nn.Module):
    """uint8 NHWC batch on any device -> normalised float NCHW, augmented in training.

    Args:
        mean, std: the model's normalisation (``model.default_cfg``), pixels in [0, 1].
        augment: names of the training augmentations (empty: none).
        img_size: side of the images (for RandomResizedCrop's output).
        channels_last: return NHWC-strided tensors (faster convolutions on CUDA).
    """

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        augment: Sequence[str] = (),
        img_size: int = 196,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        self.augment = build_augmentations(augment, img_size)
        self.channels_last = channels_last

    def forward(self, batch: torch.Tensor, train: bool = False) -> torch.Tensor:
        x = batch.permute(0, 3, 1, 2).float().div_(255.0)
        if train:
            x = self.augment(x)
        x = (x - self.mean) / self.std
        if self.channels_last:
            return x.contiguous(memory_format=torch.channels_last)
        return x.contiguous()
