"""Batches straight from the memory-mapped uint8 cache, in a reproducible order.

One read per batch (a fancy index into ``images.npy``) instead of one per image, no
decoding and no per-image transform: the cache already holds resized, filtered images,
and everything random happens on the device (:mod:`dflib.train.augment`). Workers read
ahead, pinned memory lets the copy to the GPU overlap the previous step.

The order of epoch ``e`` depends on ``(seed, e)`` only, so a resumed run sees exactly
the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


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
