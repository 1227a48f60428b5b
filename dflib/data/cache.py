"""A preprocessed image cache: decode + resize + deterministic preprocessing done once.

Decoding 50,000 PNGs and running a noise filter on each costs far more than a training
step, so it is done once into one uint8 array on disk (``images.npy``, memory-mapped)
that every epoch and every notebook reads. The cache is keyed by the source files
(paths, sizes, modification times), the image size and the preprocessing's
``cache_key``, so a change to any of them builds a new one and nothing stale is reused.
Random augmentations are not cached: they happen on batches afterwards.

Order of operations: by default as in the write-ups' recipe (``Resize(196)`` then the
filter): decode -> RGB -> resize to ``size`` x ``size`` -> ``preprocess(batch)``. With
``preprocess_first=True`` the filter runs at the native resolution, before resizing,
where impulses are still isolated pixels (resizing first smears them into neighbours).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from dflib.data.tables import ImageTable
from dflib.environment import cache_dir, file_lock, num_workers
from dflib.imageio import resize_square, try_read_image

CACHE_FORMAT = 1
CHUNK = 256

Preprocess = Callable[[np.ndarray], np.ndarray]


@dataclass
class ImageCache:
    """Cached images of one :class:`~dflib.data.ImageTable`.

    ``cache[i]`` (an int, slice or index array) reads usable image(s) ``i`` as
    ``size x size x 3`` uint8 from the memmap; skipped files are not addressable.

    Attributes:
        folder: where ``images.npy`` and ``index.csv`` live.
        array: the memmap of every row, unusable ones left black.
        rows: positions of the usable rows in ``array``.
        frame: the table's rows for the usable images (``id``, ``path``, ``label``, ...).
    """

    folder: Path
    array: np.ndarray
    rows: np.ndarray
    frame: pd.DataFrame

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index) -> np.ndarray:
        return self.array[self.rows[index]]

    @property
    def labels(self) -> np.ndarray:
        return self.frame["label"].to_numpy(dtype=np.int64)


class CachedImageDataset:
    """A map-style torch dataset over an :class:`ImageCache`: ``(CHW uint8 tensor, label)``.

    Args:
        cache: the cache to read.
        indices: positions in the cache (e.g. one side of a split); all by default.
        transform: optional callable applied to the CHW uint8 tensor.
    """

    def __init__(self, cache: ImageCache, indices=None, transform=None):
        self.cache = cache
        self.indices = np.arange(len(cache)) if indices is None else np.asarray(indices)
        self.transform = transform
        self.labels = cache.labels

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        import torch

        position = int(self.indices[i])
        image = torch.from_numpy(np.array(self.cache[position])).permute(2, 0, 1)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[position])


def cache_key(
    table: ImageTable, size: int, preprocess: Preprocess | None, preprocess_first: bool = False
) -> str:
    """Stable key of (source files, size, preprocessing and its order, cache format)."""
    order = "first" if preprocess_first else "after-resize"
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{size}|{preprocess_name(preprocess)}|{order}".encode())
    for path in table.frame["path"]:
        stat = os.stat(path)
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def preprocess_name(preprocess: Preprocess | None) -> str:
    """The name a preprocessing callable is cached under: its ``cache_key`` attribute."""
    if preprocess is None:
        return "none"
    key = getattr(preprocess, "cache_key", None)
    if not key:
        raise TypeError(
            f"preprocess {preprocess!r} has no `cache_key` string; give it one (for example "
            "the filter's name and settings) so the cache knows when its output changes."
        )
    return str(key)


def build_cache(
    table: ImageTable,
    size: int,
    preprocess: Preprocess | None = None,
    *,
    preprocess_first: bool = False,
    root: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> ImageCache:
    """Build (or reuse) the cache of ``table`` at ``size`` px with ``preprocess``.

    Unreadable files are skipped, recorded in ``table.report`` and left out of the
    returned cache, so an epoch never meets them. The build writes into a
    ``.partial`` folder and renames it when complete: a crash leaves no half cache.

    Args:
        table: the images to cache.
        size: side of the square images stored.
        preprocess: deterministic ``fn(batch NxHxWx3 uint8) -> same`` with a ``cache_key``
            attribute (e.g. a filter from :mod:`dflib.filters`), or ``None``.
        preprocess_first: run ``preprocess`` on each image at its native size, before
            resizing (default: after, as the write-ups' recipe does).
        root: parent folder of caches (default ``dflib.environment.cache_dir()/images``).
        workers: processes (default: all cores).
        progress: show a progress bar.
    """
    key = cache_key(table, size, preprocess, preprocess_first)
    parent = Path(root) if root is not None else cache_dir() / "images"
    folder = parent / f"{table.split}-{size}px-{key}"
    if not (folder / "index.csv").is_file():
        with file_lock(folder):  # one builder per cache
            if not (folder / "index.csv").is_file():
                steps = (preprocess, preprocess_first)
                _build(table, size, steps, folder, num_workers(workers), progress)
    return _open(folder, table)


def _build(table, size, steps, folder: Path, workers: int, progress: bool) -> None:
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    n = len(table)
    np.lib.format.open_memmap(
        partial / "images.npy", mode="w+", dtype=np.uint8, shape=(n, size, size, 3)
    ).flush()
    paths = [str(p) for p in table.frame["path"]]
    jobs = [
        (str(partial / "images.npy"), start, paths[start : start + CHUNK], size, steps)
        for start in range(0, n, CHUNK)
    ]
    reasons = [""] * n
    bar = tqdm(total=n, desc=f"caching {table.split} at {size}px", unit="img", disable=not progress)
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
            for start, failures in pool.map(_fill_chunk, jobs):
                _record(reasons, start, failures, bar)
    else:
        for job in jobs:
            _record(reasons, *_fill_chunk(job), bar)
    bar.close()
    index = table.frame[["id", "path", "label"]].assign(reason=reasons)
    index.to_csv(partial / "index.csv", index=False)
    (partial / "cache.json").write_text(
        json.dumps(
            {
                "format": CACHE_FORMAT,
                "size": size,
                "preprocess": preprocess_name(steps[0]),
                "preprocess_first": steps[1],
                "count": n,
            },
            indent=2,
        )
    )
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)


def _record(reasons: list[str], start: int, failures: list[tuple[int, str]], bar) -> None:
    for offset, reason in failures:
        reasons[start + offset] = reason
    bar.update(min(CHUNK, len(reasons) - start))


def _worker_init() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def _fill_chunk(job) -> tuple[int, list[tuple[int, str]]]:
    """Decode, resize and preprocess one chunk straight into the shared memmap."""
    array_path, start, paths, size, (preprocess, preprocess_first) = job
    batch = np.zeros((len(paths), size, size, 3), dtype=np.uint8)
    failures = []
    for offset, path in enumerate(paths):
        image, reason = try_read_image(path)
        if image is None:
            failures.append((offset, reason))
        else:
            if preprocess is not None and preprocess_first:
                image = preprocess(image[None])[0]
            batch[offset] = resize_square(image, size)
    if preprocess is not None and not preprocess_first:
        batch = np.ascontiguousarray(preprocess(batch), dtype=np.uint8)
        for offset, _ in failures:
            batch[offset] = 0
    images = np.load(array_path, mmap_mode="r+")
    images[start : start + len(paths)] = batch
    images.flush()
    return start, failures


def _open(folder: Path, table: ImageTable) -> ImageCache:
    index = pd.read_csv(folder / "index.csv", keep_default_na=False, dtype={"id": str})
    usable = (index["reason"] == "").to_numpy()
    for path, reason in zip(index.loc[~usable, "path"], index.loc[~usable, "reason"], strict=True):
        if (str(path), reason) not in table.report.skipped:
            table.report.add(path, reason)
    array = np.load(folder / "images.npy", mmap_mode="r")
    frame = table.frame.loc[usable].reset_index(drop=True)
    return ImageCache(folder, array, np.flatnonzero(usable), frame)
