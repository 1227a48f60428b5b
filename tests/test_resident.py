"""The device-resident cache: the loader's batches, the choice of path, the eval batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dflib.train import resident
from dflib.train.batches import batch_loader, eval_batch_size, split_batches
from dflib.train.recipes import TrainConfig


def _cache(n=23):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8), rng.integers(0, 2, n)


def test_resident_batches_equal_the_loaders(monkeypatch):
    images, labels = _cache()
    monkeypatch.setattr(resident, "CHUNK", 5)  # the upload in several pieces
    batches = split_batches(np.random.default_rng(1).permutation(len(labels)), 4, drop_last=True)
    held = resident.ResidentCache(images, labels, torch.device("cpu"))
    ours = list(held.batches(batches))
    theirs = list(batch_loader(images, labels, batches))
    assert len(ours) == len(theirs) == len(held.batches(batches)) == 6
    for a, b in zip(ours, theirs, strict=True):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y)


def test_the_path_follows_the_mode():
    images, _ = _cache()
    cpu = torch.device("cpu")
    assert resident.wanted("on", images, cpu) and not resident.wanted("off", images, cpu)
    assert not resident.wanted("auto", images, cpu), "auto holds the cache on CUDA only"
    assert resident.nbytes(images) == 23 * 8 * 8 * 3
    with pytest.raises(ValueError, match="resident_data"):
        resident.wanted("always", images, cpu)
    with pytest.raises(ValueError, match="resident_data='always'"):
        TrainConfig(resident_data="always")


def test_auto_needs_room_on_the_gpu(monkeypatch):
    images, _ = _cache()
    cuda = torch.device("cuda")
    size = resident.nbytes(images)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (4 * size, 8 * size))
    assert resident.wanted("auto", images, cuda)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (size, 8 * size))
    assert not resident.wanted("auto", images, cuda), "the cache may take half the free memory"


def test_eval_batch_is_large_on_a_gpu_only():
    assert eval_batch_size(32, "cpu") == 64
    assert eval_batch_size(32, "cuda") == 512
    assert eval_batch_size(400, torch.device("cuda")) == 800
