"""The device-resident cache: the loader's batches, the choice of path, the eval batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dflib.train import inputs
from dflib.train.config import TrainConfig
from dflib.train.inputs import batch_loader, eval_batch_size, split_batches


def _cache(n=23):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8), rng.integers(0, 2, n)


def test_resident_batches_equal_the_loaders(monkeypatch):
    images, labels = _cache()
    monkeypatch.setattr(inputs, "CHUNK", 5)  # the upload in several pieces
    batches = split_batches(np.random.default_rng(1).permutation(len(labels)), 4, drop_last=True)
    held = inputs.ResidentCache(images, labels, torch.device("cpu"))
    ours = list(held.batches(batches))
    theirs = list(batch_loader(images, labels, batches))
    assert len(ours) == len(theirs) == len(held.batches(batches)) == 6
    for a, b in zip(ours, theirs, strict=True):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y)


def test_the_path_follows_the_mode():
    images, _ = _cache()
    cpu = torch.device("cpu")
    assert inputs.wanted("on", images, cpu) and not inputs.wanted("off", images, cpu)
    assert not inputs.wanted("auto", images, cpu), "auto holds the cache on CUDA only"
    assert inputs.nbytes(images) == 23 * 8 * 8 * 3
    with pytest.raises(ValueError, match="resident_data"):
        inputs.wanted("always", images, cpu)
    with pytest.raises(ValueError, match="resident_data='always'"):
        TrainConfig(resident_data="always")


def test_auto_keeps_room_for_the_measured_step(monkeypatch):
    """The cache was sized at "half the free memory" before the optimiser state, the
    evaluation activations and the graph pools existed; it now fits only beside what a
    measured dry step needs (times the headroom)."""
    images, _ = _cache()
    cuda = torch.device("cuda")
    size = inputs.nbytes(images)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (4 * size, 8 * size))
    room = 3 * size / inputs.HEADROOM  # what the step may take with the cache beside it
    assert inputs.wanted("auto", images, cuda, step_bytes=int(room))
    assert not inputs.wanted("auto", images, cuda, step_bytes=int(room) + size)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (size, 8 * size))
    assert not inputs.wanted("auto", images, cuda, step_bytes=size // 4)


def test_the_step_is_measured_on_a_copy_leaving_model_and_randomness_as_they_were(
    monkeypatch,
):
    """The dry step trains a copy (forward, backward, AdamW's update) and scores an
    evaluation batch; the run's model, its buffers and the random streams are untouched."""
    from dflib.models import create_model
    from dflib.train.inputs import DevicePipeline
    from dflib.train.losses import make_loss
    from dflib.train.machine import Device, step_memory

    allocated = iter([1_000, 9_000])  # before the step, its peak (the fakes of a GPU)
    for name in ("synchronize", "reset_peak_memory_stats", "empty_cache"):
        monkeypatch.setattr(torch.cuda, name, lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: next(allocated))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: next(allocated))
    config = TrainConfig(arch="rgb_fft", img_size=64, batch_size=4, augment=("hflip",))
    torch.manual_seed(0)
    model = create_model("rgb_fft")
    pipeline = DevicePipeline((0.5,) * 3, (0.25,) * 3, config.augment, 64)
    batches = []
    model.register_forward_pre_hook(lambda module, args: batches.append(len(args[0])))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = torch.get_rng_state()
    dev = Device(torch.device("cpu"))
    assert step_memory(model, pipeline, make_loss("bce", [1.0, 1.0]), dev, config) == 8_000
    assert batches == [4, 8], "a training batch, then an evaluation batch (2x on a CPU)"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), state)


def test_eval_batch_is_large_on_a_gpu_only():
    assert eval_batch_size(32, "cpu") == 64
    assert eval_batch_size(32, "cuda") == 512
    assert eval_batch_size(400, torch.device("cuda")) == 800


def test_resident_batches_upload_the_epochs_positions_once():
    """A copy from ordinary host memory may block the host (CUDA's pageable copies), so a
    per-batch upload of the positions would sync every step: the epoch's positions go to
    the device once, and each step slices them there. Counted under a TorchFunctionMode:
    no ``.to`` / ``copy_`` / ``as_tensor`` at any step after the first."""
    from torch.overrides import TorchFunctionMode

    class CountCopies(TorchFunctionMode):
        copies = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", "")
            if name in ("to", "copy_", "as_tensor", "tensor", "cuda"):
                CountCopies.copies += 1
            return func(*args, **(kwargs or {}))

    images, labels = _cache()
    batches = split_batches(np.random.default_rng(1).permutation(len(labels)), 4, drop_last=True)
    held = inputs.ResidentCache(images, labels, torch.device("cpu"))
    per_step = []
    with CountCopies():
        for _ in held.batches(batches):
            per_step.append(CountCopies.copies)
            CountCopies.copies = 0
    assert len(per_step) == 6 and per_step[0] <= 1, per_step
    assert per_step[1:] == [0] * 5, f"copies per step: {per_step}"
