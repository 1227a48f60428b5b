"""The uint8 cache held on the GPU for a whole run, each batch gathered there by index.

A 50,000-image set is 5.8 GB at 196 px and 9.8 GB at 256 px: on a GPU with room for it,
one copy per run replaces the loader workers and the host-to-device copy of every batch.
The batches, and their order, are those of :func:`dflib.train.batches.batch_loader`
(the positions of each batch sorted, as that loader reads them), so a run trains the
same images in the same order either way. Without room (beside what a measured training
step and evaluation batch need), the run keeps the pinned-memory loader.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from dflib.train.recipes import RESIDENT_MODES

# what the run's measured step needs (trainer.step_memory) is kept free times this: the
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
            (:func:`dflib.train.trainer.step_memory`): the optimiser state, gradients and
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
        self.labels = torch.as_tensor(np.asarray(labels, dtype=np.int64), device=device)

    def describe(self) -> str:
        """One line for the run's log."""
        gb = self.images.numel() / 1e9
        return f"data: {len(self.images):,} cached images resident on {self.device} ({gb:.2f} GB)"

    def batches(self, batches: list[np.ndarray]) -> ResidentBatches:
        """The given batches, gathered on the device, in their order."""
        return ResidentBatches(self, batches)


class ResidentBatches:
    """Iterable of ``(uint8 NHWC images, labels, positions)`` like a
    :func:`~dflib.train.batches.batch_loader`: images and labels on the device, positions
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
        for positions in self.batch_positions:
            host = torch.from_numpy(np.sort(np.asarray(positions)))
            index = host.to(self.cache.device, non_blocking=True)
            yield self.cache.images[index], self.cache.labels[index], host
