"""``fit``: a whole run, from a :class:`TrainConfig` to a finished run folder.

Main stage on the training split (AdamW, ReduceLROnPlateau on the validation loss,
best weights by validation F1, optional early stopping), then an optional fine-tuning
stage on 100% of the labelled data at a lower lr. After every epoch ``last.pt`` is
written atomically; ``fit(..., resume=True)`` continues from it and ends with the same
history and weights as an uninterrupted run, because each epoch draws its batch order
and its augmentations from ``(seed, epoch)`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from dflib.metrics import best_threshold, binary_metrics
from dflib.models import create_model
from dflib.runtime import autocast_dtype, resolve_device, seed_everything
from dflib.train import finish, runs
from dflib.train.augment import DevicePipeline
from dflib.train.batches import batch_loader, epoch_order, eval_loader, split_batches
from dflib.train.checkpoint import CheckpointError, load_checkpoint, rng_state, save_checkpoint
from dflib.train.dataset import TrainingData, prepare
from dflib.train.engine import BatchHook, Device, evaluate, train_one_epoch
from dflib.train.losses import make_loss
from dflib.train.recipes import TrainConfig
from dflib.train.runs import RunFolder


@dataclass
class FitResult:
    """A finished run: its folder, history, metrics and the model with its final weights."""

    run: RunFolder
    config: TrainConfig
    history: pd.DataFrame
    metrics: dict[str, Any]
    model: nn.Module
    data: TrainingData

    def val_images(self) -> np.ndarray:
        """Validation images in the order of ``predictions_val.csv`` (uint8 NxHxWx3)."""
        return self.data.cache[np.sort(self.data.val)]

    def predictions(self, split: str = "val") -> pd.DataFrame:
        """``id,label,prob`` of the validation split or the test images."""
        return self.run.read_predictions(split)


def fit(
    config: TrainConfig,
    out: str | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    hooks: tuple[BatchHook, ...] = (),
) -> FitResult:
    """Train ``config`` into the run folder ``out`` (a fresh ``runs/<arch>-<time>`` by default).

    Args:
        config: the recipe (:func:`dflib.train.get_recipe`) with any overrides.
        out: run folder name or path.
        resume: continue the run in ``out`` from its ``last.pt`` (``config.epochs`` may be
            larger than before); without a ``last.pt`` the run starts from scratch.
        progress: tqdm bars (one plain line per epoch is printed either way).
        hooks: called after every training step (progress reporting, tests).

    Raises:
        FileExistsError: ``out`` already holds a run and ``resume`` is False.
        CheckpointError: ``last.pt`` belongs to a different recipe or is unsafe.
        TrainingDiverged: a NaN/inf loss; ``last.pt`` keeps the last good epoch.
    """
    run = runs.run_folder(out, config.arch)
    state = _previous_state(run, config) if resume else None
    if state is None and run.exists() and any(run.root.glob("*.pt")):
        raise FileExistsError(
            f"{run.root} already holds a run. Continue it with resume=True (--resume), "
            "or give another name with out=... (--out)."
        )
    seed_everything(config.seed, config.deterministic)
    device = resolve_device(config.device)
    amp = autocast_dtype(device) if config.amp else None
    dev = Device(device, amp, torch.amp.GradScaler("cuda") if amp == torch.float16 else None)
    if device.type == "cuda" and not config.deterministic:
        torch.backends.cudnn.benchmark = True
    data = prepare(config, progress)
    model = create_model(config.arch).to(device)
    channels_last = config.channels_last and device.type == "cuda"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    cfg = model.default_cfg
    pipeline = DevicePipeline(cfg.mean, cfg.std, config.augment, config.img_size, channels_last)
    pipeline = pipeline.to(device)
    loss_fn = make_loss(config.loss, data.weights, config.focal_gamma)
    finish.write_run_header(run, config, cfg, data, dev)

    epoch, history, best = 0, [], {"epoch": -1, "f1": -1.0, "auc": -1.0, "since": 0}
    optimizer, scheduler = _optimizer(model, config, finetune=False)
    if state is not None:
        model.load_state_dict(state["model"])
        epoch, history, best = int(state["epoch"]), list(state["history"]), dict(state["best"])
        if epoch > config.epochs:  # already fine-tuning: the optimiser is the fine-tune one
            optimizer, scheduler = _optimizer(model, config, finetune=True)
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler"):
            scheduler.load_state_dict(state["scheduler"])
        if dev.scaler is not None and state.get("scaler"):
            dev.scaler.load_state_dict(state["scaler"])
        print(f"resuming {run.root} at epoch {epoch + 1} of {config.total_epochs}")
    step_model = torch.compile(model) if config.compile else model
    workers = _workers(config, device)
    hooks = (*hooks, _duration_estimate(config, device, len(data.train)))

    try:
        while epoch < config.total_epochs:
            finetune = epoch >= config.epochs
            if finetune and epoch == config.epochs:
                finish.write_validation(run, model, data, pipeline, dev, workers, config)
                model.load_state_dict(runs_best_weights(run, device))
                optimizer, scheduler = _optimizer(model, config, finetune=True)
            positions = np.concatenate([data.train, data.val]) if finetune else data.train
            _seed_epoch(config.seed, epoch)
            order = positions[epoch_order(data.labels[positions], config.seed, epoch,
                                          config.balanced_sampler)]  # fmt: skip
            loader = batch_loader(data.cache, data.labels,
                                  split_batches(order, config.batch_size, drop_last=True),
                                  workers, device.type == "cuda")  # fmt: skip
            stats = train_one_epoch(step_model, loader, pipeline, loss_fn, optimizer, dev,
                                    epoch=epoch, progress=progress, hooks=hooks)  # fmt: skip
            val = evaluate(step_model, eval_loader(data.cache, data.labels, data.val,
                                            config.batch_size * 2, workers, device),
                           pipeline, dev, loss_fn)  # fmt: skip
            row = _history_row(epoch, finetune, stats, val, optimizer)
            history.append(row)
            if scheduler is not None:
                scheduler.step(row["val_loss"])
            epoch += 1
            if not finetune and (row["val_f1"], row["val_auc"]) > (best["f1"], best["auc"]):
                best = {"epoch": epoch - 1, "f1": row["val_f1"], "auc": row["val_auc"], "since": 0}
                save_checkpoint({"model": model.state_dict(), "epoch": epoch}, run.best)
            elif not finetune:
                best["since"] += 1
                if config.early_stopping and best["since"] >= config.early_stopping:
                    print(f"early stopping: no better val F1 for {best['since']} epochs")
                    epoch = config.epochs
            save_checkpoint(
                {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict() if scheduler is not None else {},
                 "scaler": dev.scaler.state_dict() if dev.scaler is not None else {},
                 "epoch": epoch, "history": history, "best": best, "rng": rng_state(),
                 "params": config.to_dict()},
                run.last,
            )  # fmt: skip
            runs.write_history(run, history)
            print(_epoch_line(row, config), flush=True)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {run.last} holds the last finished epoch; continue with "
              f"resume=True (--resume --out {run.root})")  # fmt: skip
        raise
    metrics = finish.finish_run(run, model, data, pipeline, dev, workers, config, best)
    return FitResult(run, config, pd.DataFrame(history), metrics, model, data)


def runs_best_weights(run: RunFolder, device: torch.device) -> dict[str, torch.Tensor]:
    """The best main-stage weights (``best.pt``)."""
    return load_checkpoint(run.best, map_location=device)["model"]


def _previous_state(run: RunFolder, config: TrainConfig) -> dict[str, Any] | None:
    if not run.last.is_file():
        return None
    state = load_checkpoint(run.last)
    before = TrainConfig.from_dict(state.get("params", {}))
    fixed = ("arch", "data_dir", "synthetic_size", "train_images", "img_size", "filter", "tol",
             "seed", "val_fraction", "loss", "batch_size", "balanced_sampler")  # fmt: skip
    changed = [f"{k}: {getattr(before, k)!r} -> {getattr(config, k)!r}" for k in fixed
               if getattr(before, k) != getattr(config, k)]  # fmt: skip
    if changed:
        raise CheckpointError(
            f"cannot resume {run.root}: it was trained with other settings ({'; '.join(changed)}). "
            "Resume with the run's own settings (only epochs may grow), or start a new run."
        )
    return state


def _optimizer(model: nn.Module, config: TrainConfig, finetune: bool):
    lr = config.finetune_lr if finetune else config.lr
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=config.weight_decay)
    if finetune:
        return optimizer, None
    return optimizer, torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.plateau_factor, patience=config.plateau_patience
    )


def _seed_epoch(seed: int, epoch: int) -> None:
    """Augmentations and dropout of epoch ``epoch`` depend on ``(seed, epoch)`` only."""
    seed_everything(seed * 1_000_003 + epoch)


def _workers(config: TrainConfig, device: torch.device) -> int:
    if config.workers >= 0:
        return config.workers
    # reading a memmap is cheap: on a CPU the cores are better spent on the model
    return 0 if device.type == "cpu" else 2


def _history_row(epoch, finetune, stats, val, optimizer) -> dict[str, Any]:
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
        "lr": optimizer.param_groups[0]["lr"],
        "seconds": stats["seconds"],
        "images_per_s": stats["images"] / max(stats["seconds"], 1e-9),
    }


def _epoch_line(row: dict[str, Any], config: TrainConfig) -> str:
    stage = " (fine-tune, val seen)" if row["stage"] == "finetune" else ""
    return (
        f"epoch {row['epoch']}/{config.total_epochs}{stage}: train loss {row['train_loss']:.4f} "
        f"| val loss {row['val_loss']:.4f} F1 {row['val_f1']:.4f} recall {row['val_recall']:.4f} "
        f"AUC {row['val_auc']:.4f} | lr {row['lr']:.2e} | {row['seconds']:.0f} s, "
        f"{row['images_per_s']:.0f} img/s"
    )


def _duration_estimate(config: TrainConfig, device: torch.device, n_train: int) -> BatchHook:
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
