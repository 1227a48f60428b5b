"""What one epoch records and says: its history row, its log line, its randomness, and
the duration estimate a CPU run prints after its first steps."""

from __future__ import annotations

from typing import Any

import torch

from dflib.metrics import best_threshold, binary_metrics
from dflib.runtime import seed_everything
from dflib.train.engine import BatchHook
from dflib.train.recipes import TrainConfig


def seed_epoch(seed: int, epoch: int) -> None:
    """Augmentations and dropout of epoch ``epoch`` depend on ``(seed, epoch)`` only."""
    seed_everything(seed * 1_000_003 + epoch)


def history_row(epoch: int, finetune: bool, stats, val, lr: float) -> dict[str, Any]:
    """One row of ``history.csv``: losses, validation scores, lr, time and speed."""
    scores = binary_metrics(val["labels"], val["probs"])
    _, tuned_f1 = best_threshold(val["labels"], val["probs"])
    return {
        "epoch": epoch + 1,
        "stage": "finetune" if finetune else "main",
        "train_loss": stats["loss"],
        "val_loss": val["loss"],
        "val_f1": scores["f1"],
        "val_recall": scores["recall"],
        "val_precision": scores["precision"],
        "val_auc": scores.get("auc", float("nan")),
        "val_f1_tuned": tuned_f1,
        "lr": lr,
        "seconds": stats["seconds"],
        "images_per_s": stats["images"] / max(stats["seconds"], 1e-9),
    }


def epoch_line(row: dict[str, Any], config: TrainConfig) -> str:
    """The plain line each epoch prints (what papermill logs keep)."""
    stage = " (fine-tune, val seen)" if row["stage"] == "finetune" else ""
    return (
        f"epoch {row['epoch']}/{config.total_epochs}{stage}: train loss {row['train_loss']:.4f} "
        f"| val loss {row['val_loss']:.4f} F1 {row['val_f1']:.4f} recall {row['val_recall']:.4f} "
        f"AUC {row['val_auc']:.4f} | lr {row['lr']:.2e} | {row['seconds']:.0f} s, "
        f"{row['images_per_s']:.0f} img/s"
    )


def duration_estimate(config: TrainConfig, device: torch.device, n_train: int) -> BatchHook:
    """After a few steps on a CPU, say how long the whole run will take and how to shrink it."""
    said = {"done": device.type != "cpu"}

    def hook(index: int, seen: int, seconds: float) -> None:
        if said["done"] or index < 2:
            return
        said["done"] = True
        total = seconds / seen * n_train * config.total_epochs * 1.15  # + evaluation
        if total > 600:
            print(
                f"CPU only: this run will take about {total / 3600:.1f} h "
                f"({n_train:,} images x {config.total_epochs} epochs at {config.img_size} px). "
                "For a quick look: -p train_images 2000 -p img_size 96 -p epochs 3 "
                "(--train-images/--img-size/--epochs), or use a GPU."
            )

    return hook
