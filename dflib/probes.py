"""Small, fast CNN probes: how much signal is in a set of images, measured in minutes.

A probe answers questions such as "is the synthetic benchmark learnable but not trivial?"
or "does this noise filter keep the fake evidence?" without the full training stack: the
images are in-memory uint8 arrays (NxHxWx3), training is a plain loop with a time or
epoch budget, and the result is a handful of metrics.

Both probes avoid early pooling and blur, because the evidence they must find (up-sampling
traces, seams) is a few pixels wide; down-sampling happens in strided convolutions, which
can learn to keep it (`docs/writeups.md#architectures`, the HRNet hypothesis).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dflib.data.splits import class_weights
from dflib.metrics import best_threshold, binary_metrics


def _conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def _avg_max_pool(x: torch.Tensor) -> torch.Tensor:
    """Global average and max pooling side by side: a fake region covers a fraction of
    the image, and the average alone dilutes it by the area ratio; the max keeps it."""
    return torch.cat([x.mean((2, 3)), x.amax((2, 3))], 1)


class SmallCNN(nn.Module):
    """Four 3x3 conv layers (the first at full resolution, then stride 2), GAP, linear."""

    def __init__(self, width: int = 16, num_classes: int = 2) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _conv_bn(3, w),
            _conv_bn(w, 2 * w, 2),
            _conv_bn(2 * w, 4 * w, 2),
            _conv_bn(4 * w, 4 * w, 2),
        )
        self.head = nn.Linear(8 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(_avg_max_pool(self.features(x)))


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs and a (projected when needed) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv_bn(c_in, c_out, stride)
        self.conv2 = nn.Sequential(
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out)
        )
        self.short = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.short = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(self.conv1(x)) + self.short(x))


class SmallResNet(nn.Module):
    """A full-resolution stem, a strided conv, three residual stages, GAP and linear."""

    def __init__(self, width: int = 16, num_classes: int = 2) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(_conv_bn(3, w), _conv_bn(w, 2 * w, 2))
        self.stages = nn.Sequential(
            BasicBlock(2 * w, 2 * w), BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 8 * w, 2)
        )
        self.head = nn.Linear(16 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(_avg_max_pool(self.stages(self.stem(x))))


PROBES: dict[str, type[nn.Module]] = {"small_cnn": SmallCNN, "small_resnet": SmallResNet}


def make_probe(name: str = "small_cnn", width: int = 16, seed: int = 42) -> nn.Module:
    """Build a probe by name (``"small_cnn"`` or ``"small_resnet"``), seeded."""
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; expected one of {sorted(PROBES)}")
    torch.manual_seed(seed)
    return PROBES[name](width=width)


def _to_tensor(x: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float NCHW, centred; no resizing, so fine detail reaches the probe."""
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float()
    return (t / 255.0 - 0.5) / 0.25


def predict_proba(model: nn.Module, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Probability of the fake class for each image of a uint8 NxHxWx3 array."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(torch.softmax(model(_to_tensor(x[i : i + batch_size])), 1)[:, 1])
    return torch.cat(out).numpy() if out else np.zeros(0)


def evaluate(y_true: np.ndarray, prob: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """AUC, and F1 / precision / recall / accuracy of the fake class at ``threshold``,
    plus the best threshold on these same labels (optimistic: use it as a diagnostic)."""
    scores = binary_metrics(y_true, prob, threshold)
    both = "auc" in scores
    tuned_t, tuned_f1 = best_threshold(y_true, prob) if both else (threshold, math.nan)
    kept = ("f1", "precision", "recall", "accuracy", "threshold")
    return {
        "auc": scores.get("auc", math.nan),
        **{k: scores[k] for k in kept},
        "tuned_threshold": tuned_t,
        "tuned_f1": tuned_f1,
    }


@dataclass
class ProbeResult:
    """What a probe run measured: final validation metrics, per-epoch history, timing."""

    metrics: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0
    epochs: float = 0.0
    steps: int = 0
    val_prob: np.ndarray | None = None


def fit_probe(
    model: nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    time_budget_s: float | None = 120.0,
    epochs: int | None = None,
    batch_size: int = 64,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    class_weighted: bool = True,
    flip: bool = True,
    seed: int = 42,
    eval_every_epoch: bool = True,
    log: bool = True,
) -> ProbeResult:
    """Train a probe with AdamW and a cosine learning rate, then score it on validation.

    Stops at whichever comes first of ``epochs`` and ``time_budget_s`` (training time
    only; evaluation is not counted). The cosine schedule follows the elapsed share of the
    budget, so a time-limited run still ends with a small learning rate.

    Args:
        model: a probe (or any NCHW classifier with two outputs).
        x_train, y_train: uint8 NxHxWx3 images and 0/1 labels.
        x_val, y_val: the same for validation.
        time_budget_s: training seconds; ``None`` means epochs alone decide.
        epochs: full passes; ``None`` means the time budget alone decides.
        batch_size, lr, weight_decay: optimiser settings.
        class_weighted: cross-entropy weighted ``total / (2 * count)``; without it a probe
            on 5:1 data drifts to "always real".
        flip: random horizontal flips, the only augmentation (it keeps fine detail).
        seed: seeds batch order and flips.
        eval_every_epoch: record validation metrics after each epoch in the history.
        log: print one line per epoch.

    Returns:
        A :class:`ProbeResult` whose ``metrics`` are :func:`evaluate` at threshold 0.5.
    """
    if time_budget_s is None and epochs is None:
        raise ValueError("give time_budget_s, epochs or both, so training can end")
    y_train = np.asarray(y_train, dtype=np.int64)
    weight = torch.tensor(class_weights(y_train), dtype=torch.float32) if class_weighted else None
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = max(1, math.ceil(len(x_train) / batch_size))
    total_steps = epochs * steps_per_epoch if epochs is not None else None
    history: list[dict[str, Any]] = []
    trained, step, epoch = 0.0, 0, 0
    done = False
    while not done:
        model.train()
        order = torch.randperm(len(x_train), generator=gen).numpy()
        tick, loss_sum = time.perf_counter(), 0.0
        for b in range(steps_per_epoch):
            frac = max(
                step / total_steps if total_steps else 0.0,
                (trained + time.perf_counter() - tick) / time_budget_s if time_budget_s else 0.0,
            )
            if frac >= 1.0:
                done = True
                break
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * frac))
            idx = np.sort(order[b * batch_size : (b + 1) * batch_size])
            x = _to_tensor(x_train[idx])
            if flip:
                swap = torch.rand(len(idx), generator=gen) < 0.5
                x = torch.where(swap[:, None, None, None], x.flip(3), x)
            loss = F.cross_entropy(model(x), torch.from_numpy(y_train[idx]), weight=weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            step += 1
        trained += time.perf_counter() - tick
        epoch_frac = epoch + b / steps_per_epoch if done else epoch + 1
        epoch += 1
        row: dict[str, Any] = {
            "epoch": round(epoch_frac, 3),
            "train_loss": loss_sum / max(1, b),
            "seconds": round(trained, 1),
        }
        if eval_every_epoch or done or (total_steps and step >= total_steps):
            row.update(
                {f"val_{k}": v for k, v in evaluate(y_val, predict_proba(model, x_val)).items()}
            )
        history.append(row)
        if log:
            shown = {
                k: round(v, 4) if isinstance(v, float) else v
                for k, v in row.items()
                if k in ("epoch", "train_loss", "seconds", "val_auc", "val_f1", "val_tuned_f1")
            }
            print("probe", shown, flush=True)
        if total_steps and step >= total_steps:
            done = True
    prob = predict_proba(model, x_val)
    return ProbeResult(evaluate(y_val, prob), history, trained, epoch_frac, step, prob)
