"""The two ways of feeding a model that the benchmark compares.

*Cache pipeline* (dflib's): images were decoded, resized and filtered once into a
memory-mapped uint8 cache; an epoch reads one fancy-indexed block per batch, copies it
as uint8, and converts, augments and normalises on the device (kornia, per sample).

*Seed-style pipeline* (what the write-ups' notebooks do): every epoch, per image, in
DataLoader workers: PIL decode, RGB, ``Resize``, a per-image noise filter (scipy's 3x3
median and the coherent mask), ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import scipy.ndimage as ndi
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

from dflib.train.inputs import DevicePipeline, batch_loader, epoch_order, split_batches, to_device


def epoch_batches(n: int, batch_size: int, batches: int, seed: int = 0) -> list[np.ndarray]:
    """``batches`` batches over ``n`` cached images, in epoch order (repeating epochs if
    more batches are asked for than one epoch holds)."""
    orders, total, epoch = [], 0, 0
    while total < batches * batch_size:
        orders.append(epoch_order(np.zeros(n, dtype=np.int64), seed, epoch))
        total += n
        epoch += 1
    return split_batches(np.concatenate(orders), batch_size, drop_last=True)[:batches]


def cache_batches(cache, batches: list[np.ndarray], workers: int, device: torch.device):
    """DataLoader over the cache, as the trainer builds it."""
    return batch_loader(cache, cache.labels, batches, workers, device.type == "cuda")


def cache_consumer(pipeline: DevicePipeline, device: torch.device):
    """Copy a cache batch to the device and make it model-ready (augmented)."""

    def consume(batch) -> int:
        images, labels, _ = to_device(batch, device)
        pipeline(images, train=True)
        return len(labels)

    return consume


class CoherentNoiseFilter:
    """The write-ups' per-image filter: replace pixels where any channel is within
    ``tol`` of 0 or 255 by the 3x3 per-channel median (scipy, one image at a time)."""

    def __init__(self, tol: int = 30) -> None:
        self.tol = tol

    def __call__(self, image: Image.Image) -> Image.Image:
        x = np.asarray(image)
        median = ndi.median_filter(x, size=(3, 3, 1), mode="reflect")
        mask = ((x <= self.tol) | (x >= 255 - self.tol)).any(-1, keepdims=True)
        return Image.fromarray(np.where(mask, median, x))


class SeedStyleDataset(Dataset):
    """One PNG per item, decoded and transformed every time it is read."""

    def __init__(
        self, paths: Sequence[str], labels: np.ndarray, size: int, mean, std, filtered: bool
    ) -> None:
        self.paths, self.labels = list(paths), np.asarray(labels, dtype=np.int64)
        steps = [T.Resize((size, size))]
        if filtered:
            steps.append(CoherentNoiseFilter())
        steps += [T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(mean, std)]
        self.transform = T.Compose(steps)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        with Image.open(self.paths[i]) as image:
            return self.transform(image.convert("RGB")), int(self.labels[i])


def seed_style_loader(
    dataset: SeedStyleDataset, batch_size: int, workers: int, device
) -> DataLoader:
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
        pin_memory=device.type == "cuda", drop_last=True,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip


def seed_style_consumer(device: torch.device):
    def consume(batch) -> int:
        images, labels = batch
        images.to(device, non_blocking=True)
        return len(labels)

    return consume


def limited(loader, batches: int) -> Iterator:
    """The first ``batches`` batches of ``loader``."""
    for index, batch in enumerate(loader):
        if index >= batches:
            return
        yield batch
