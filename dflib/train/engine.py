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

from dflib.train.augment import DevicePipeline
from dflib.train.batches import to_device
from dflib.train.losses import Loss, fake_probability

# called after every training step with (batch index, images so far, seconds so far)
BatchHook = Callable[[int, int, float], None]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class Device:
    """Where and how the model runs: the device, the autocast dtype, the grad scaler."""

    device: torch.device
    amp_dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None

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
) -> dict[str, float]:
    """Train over ``loader`` once; returns the mean loss, images and seconds.

    Raises:
        TrainingDiverged: a non-finite loss (the message names epoch, batch and lr).
    """
    model.train()
    total_loss, seen, start = 0.0, 0, time.perf_counter()
    bar = tqdm(loader, desc=f"epoch {epoch + 1}", unit="batch", leave=False, disable=not progress)
    for index, batch in enumerate(bar):
        images, labels, _ = to_device(batch, dev.device)
        with dev.autocast():
            logits = model(pipeline(images, train=True))
            loss = loss_fn(logits, labels)
        value = float(loss.detach())
        if not np.isfinite(value):
            lr = optimizer.param_groups[0]["lr"]
            raise TrainingDiverged(
                f"the loss became {value} at epoch {epoch + 1}, batch {index + 1} (lr {lr:.3g}). "
                "The last good checkpoint (last.pt) is kept. Try a lower lr, amp=False, or "
                "check the data for broken images."
            )
        optimizer.zero_grad(set_to_none=True)
        if dev.scaler is not None:
            dev.scaler.scale(loss).backward()
            dev.scaler.step(optimizer)
            dev.scaler.update()
        else:
            loss.backward()
            optimizer.step()
        total_loss += value * len(labels)
        seen += len(labels)
        elapsed = time.perf_counter() - start
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", img_s=f"{seen / elapsed:.0f}")
        for hook in hooks:
            hook(index, seen, elapsed)
    seconds = time.perf_counter() - start
    return {"loss": total_loss / max(seen, 1), "images": seen, "seconds": seconds}


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
        ``positions``, ``labels``, ``probs`` (arrays) and the mean ``loss`` when a loss
        is given and the labels are known.
    """
    model.eval()
    positions, labels, probs = [], [], []
    total_loss, counted = 0.0, 0
    for images, y, pos in tqdm(loader, desc="predicting", leave=False, disable=not progress):
        images, y_dev = to_device((images, y), dev.device)
        with dev.autocast():
            x = pipeline(images)
            logits = model(x).float()
            prob = fake_probability(logits)
            if tta:
                prob = (prob + fake_probability(model(x.flip(-1)).float())) / 2
        if loss_fn is not None and bool((y >= 0).all()):
            total_loss += float(loss_fn(logits, y_dev)) * len(y)
            counted += len(y)
        positions.append(pos.numpy())
        labels.append(y.numpy())
        probs.append(prob.cpu().numpy())
    out: dict[str, np.ndarray | float] = {
        "positions": np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64),
        "labels": np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64),
        "probs": np.concatenate(probs).astype(np.float64) if probs else np.zeros(0),
    }
    out["loss"] = total_loss / counted if counted else float("nan")
    return out
