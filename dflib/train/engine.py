"""One epoch of training, one pass of evaluation: plain functions, as in torchvision's
reference ``train.py``. :func:`dflib.train.trainer.fit` loops over them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from dflib.runtime import amp_dtype
from dflib.train.augment import DevicePipeline
from dflib.train.batches import to_device
from dflib.train.distributed import min_over_ranks
from dflib.train.losses import Loss, fake_probability

# called after every training step with (batch index, images so far, seconds so far); all
# three are host-side numbers, so a hook costs no device sync. On CUDA the host runs ahead
# of the device, except after the steps that read it ((index + 1) % CHECK_EVERY == 0):
# their seconds are measured once the device has caught up (what timings should use)
BatchHook = Callable[[int, int, float], None]
# called at each of those reads with (batch index, the epoch's loss summed over its images
# so far, images so far): the loss a logger shows every few steps, read at no extra sync
ReadHook = Callable[[int, float, int], None]

# the step loop reads the device (loss so far, first non-finite batch) once every this many
# steps and at the epoch's end: one host sync per 16 steps instead of one per step
CHECK_EVERY = 16
_NO_BAD = 2**62  # "no non-finite batch yet", larger than any batch index


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class Device:
    """Where and how the model runs: the device, the autocast dtype, the grad scaler."""

    device: torch.device
    amp_dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None

    @classmethod
    def for_run(cls, device: torch.device, amp: str) -> Device:
        """The setup a run's ``amp`` setting asks for (:func:`dflib.runtime.amp_dtype`):
        fp16 steps get a GradScaler on the same device type (gradients of small fp16
        losses would underflow to zero without it)."""
        dtype = amp_dtype(amp, device)
        return cls(
            device, dtype, torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
        )

    def describe(self) -> str:
        """The precision of each step, for the run's ``step:`` line."""
        if self.amp_dtype is None:
            return "float32"
        scaler = " + GradScaler" if self.scaler is not None else ""
        return f"{str(self.amp_dtype).replace('torch.', '')} autocast{scaler}"

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)


def train_one_epoch(
    model: nn.Module,
    loader,
    pipeline: DevicePipeline,
    loss_fn: Loss,
    optimizer: torch.optim.Optimizer,
    dev: Device,
    *,
    epoch: int,
    progress: bool = True,
    hooks: tuple[BatchHook, ...] = (),
    on_read: ReadHook | None = None,
) -> dict[str, float]:
    """Train over ``loader`` once; returns the mean loss, images and seconds.

    The device pipeline (conversion, augmentation, normalisation) runs in float32 outside
    autocast: under it, blur and sharpness would convolve in bf16 / fp16 on a GPU and the
    model would see images a grey level away from a CPU's.

    No step waits for the device: the loss is summed there, and a non-finite loss is
    flagged there with its batch index; the host reads both every ``CHECK_EVERY`` steps
    (refreshing the progress bar) and at the epoch's end, before returning. Steps after
    a bad batch still run until that read, but the caller writes no checkpoint from them.
    ``on_read`` gets the loss at each of those reads (:data:`ReadHook`).

    Raises:
        TrainingDiverged: a non-finite loss (the message names epoch, the first bad
            batch and lr).
    """
    model.train()
    running = _Running(dev.device)
    seen, start = 0, time.perf_counter()
    bar = tqdm(loader, desc=f"epoch {epoch + 1}", unit="batch", leave=False, disable=not progress)
    for index, batch in enumerate(bar):
        # a new step for compiled CUDA graphs (their outputs of the last step may be reused)
        torch.compiler.cudagraph_mark_step_begin()
        images, labels = to_device(batch[:2], dev.device)  # positions stay on the host
        x = pipeline(images, train=True)  # float32 outside autocast: the same images everywhere
        with dev.autocast():
            logits = model(x)
            loss = loss_fn(logits, labels)
        running.add(loss.detach(), len(labels), index)
        optimizer.zero_grad(set_to_none=True)
        if dev.scaler is not None:
            dev.scaler.scale(loss).backward()
            dev.scaler.step(optimizer)
            dev.scaler.update()
        else:
            loss.backward()
            optimizer.step()
        seen += len(labels)
        read = (index + 1) % CHECK_EVERY == 0
        if read:
            _check(running, epoch, optimizer)
        elapsed = time.perf_counter() - start
        if read:
            bar.set_postfix(loss=f"{running.total / seen:.4f}", img_s=f"{seen / elapsed:.0f}")
            if on_read is not None:
                on_read(index, running.total, seen)
        for hook in hooks:
            hook(index, seen, elapsed)
    _check(running, epoch, optimizer)  # before the caller writes any checkpoint
    seconds = time.perf_counter() - start
    return {"loss": running.total / max(seen, 1), "images": seen, "seconds": seconds}


class _Running:
    """The epoch's loss sum and its first non-finite batch, kept on the device.

    Steps only queue tensor operations here; :meth:`read` is the one host sync. The sum
    is float64 where the device has it (the bitwise sum a host-side float loop makes).
    """

    def __init__(self, device: torch.device) -> None:
        dtype = torch.float32 if device.type == "mps" else torch.float64
        self.sum = torch.zeros((), dtype=dtype, device=device)
        self.first_bad = torch.full((), _NO_BAD, dtype=torch.int64, device=device)
        self.bad_value = torch.zeros((), dtype=torch.float32, device=device)
        self.total = 0.0

    def add(self, loss: torch.Tensor, n: int, index: int) -> None:
        value = loss.to(self.sum.dtype)
        finite = torch.isfinite(value)
        new_bad = ~finite & (self.first_bad == _NO_BAD)
        self.first_bad = torch.where(new_bad, index, self.first_bad)
        self.bad_value = torch.where(new_bad, loss.float(), self.bad_value)
        self.sum = self.sum + value * n

    def read(self) -> tuple[int | None, float | None]:
        """(first non-finite batch index on any rank or None, its loss here, None when it
        was another rank's); updates ``total``."""
        first_bad, mine, total, bad_value = (int(min_over_ranks(self.first_bad)),
            int(self.first_bad), float(self.sum), float(self.bad_value))  # fmt: skip
        self.total = total
        if first_bad == _NO_BAD:
            return None, bad_value
        return first_bad, bad_value if mine == first_bad else None


def _check(running: _Running, epoch: int, optimizer) -> None:
    """Stop the run if a batch since the last read had a non-finite loss."""
    first_bad, value = running.read()
    if first_bad is not None:
        lr = optimizer.param_groups[0]["lr"]
        raise TrainingDiverged(
            f"the loss became {'non-finite on another rank' if value is None else value} at "
            f"epoch {epoch + 1}, batch {first_bad + 1} (lr {lr:.3g}). "
            "The last good checkpoint (last.pt) is kept. Try a lower lr, amp=False, or "
            "check the data for broken images."
        )


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader,
    pipeline: DevicePipeline,
    dev: Device,
    loss_fn: Loss | None = None,
    *,
    progress: bool = False,
    tta: bool = False,
) -> dict[str, np.ndarray | float]:
    """Probabilities of "fake" for every batch of ``loader`` (in the cache's order).

    Args:
        tta: also score the horizontally flipped images and average the probabilities.

    Returns:
        ``positions``, ``labels``, ``probs`` (arrays), the ``loss`` of the whole split when
        a loss is given and the labels are known (the same at any batch size,
        :class:`~dflib.train.losses.Loss`) and ``loss_weight``, its normaliser (to merge
        ranks' losses).
    """
    model.eval()
    positions, labels, probs = [], [], []
    total_loss, counted = 0.0, 0.0
    for images, y, pos in tqdm(loader, desc="predicting", leave=False, disable=not progress):
        torch.compiler.cudagraph_mark_step_begin()
        images, y_dev = to_device((images, y), dev.device)
        x = pipeline(images)
        with dev.autocast():
            logits = model(x).float()
            prob = fake_probability(logits)
            if tta:
                prob = (prob + fake_probability(model(x.flip(-1)).float())) / 2
        if loss_fn is not None and bool((y >= 0).all()):
            weight = loss_fn.weight(y_dev)  # the batch's share of the split's loss
            total_loss += float(loss_fn(logits, y_dev)) * weight
            counted += weight
        positions.append(pos.numpy())
        labels.append(y.cpu().numpy())  # on the device when the cache is resident
        probs.append(prob.cpu().numpy())
    out: dict[str, np.ndarray | float] = {
        "positions": np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64),
        "labels": np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64),
        "probs": np.concatenate(probs).astype(np.float64) if probs else np.zeros(0),
    }
    out["loss"] = total_loss / counted if counted else float("nan")
    out["loss_weight"] = counted
    return out
