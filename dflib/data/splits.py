"""Class statistics and splits of a label vector: counts, loss weights, a stratified
train/val split and a class-balanced sampler."""

from __future__ import annotations

import numpy as np

from dflib.data.layouts import DataError


def class_counts(labels: np.ndarray) -> np.ndarray:
    """Images per class, ``[n_real, n_fake]``."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=2)


def class_weights(labels: np.ndarray) -> np.ndarray:
    """Loss weights ``total / (2 * count)`` per class: ``[0.6024, 2.9412]`` for 41,500 /
    8,500. Balanced classes get 1.0 each; the minority class weighs more."""
    counts = class_counts(labels).astype(np.float64)
    if (counts == 0).any():
        raise DataError(
            f"class_weights needs both classes, got counts {counts.astype(int).tolist()}"
        )
    return counts.sum() / (2.0 * counts)


def stratified_split(
    labels: np.ndarray, val_fraction: float = 0.12, seed: int = 42
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a stratified train/val split (default 88/12, seed 42), each sorted."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    train, val = train_test_split(
        indices, test_size=val_fraction, stratify=labels, random_state=seed
    )
    return np.sort(train), np.sort(val)


def balanced_sampler(labels: np.ndarray, num_samples: int | None = None, seed: int = 42):
    """A ``WeightedRandomSampler`` drawing both classes equally often (50/50 batches)."""
    import torch
    from torch.utils.data import WeightedRandomSampler

    labels = np.asarray(labels, dtype=np.int64)
    per_class = 1.0 / class_counts(labels)
    generator = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(
        torch.as_tensor(per_class[labels], dtype=torch.double),
        num_samples=num_samples or len(labels),
        replacement=True,
        generator=generator,
    )
