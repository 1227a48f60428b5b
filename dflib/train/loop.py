"""How a run trains: ``fit`` (a whole run, from a :class:`TrainConfig` to a finished run
folder) over plain ``train_one_epoch`` and ``evaluate`` functions, as in torchvision's
reference ``train.py``; what each epoch records and says; and the files a run leaves
besides its checkpoints.

Main stage on the training split (AdamW, ReduceLROnPlateau on the validation loss,
best weights by validation F1, optional early stopping), then an optional fine-tuning
stage on 100% of the labelled data at a lower lr. After every epoch ``last.pt`` is
written atomically; ``fit(..., resume=True)`` continues from it and ends with the same
history and weights as an uninterrupted run, because each epoch draws its batch order
and its augmentations from ``(seed, epoch)`` alone. Under ``torchrun`` the same loop runs
in every process with DistributedDataParallel (:mod:`dflib.train.distributed`). How
each step runs on this machine (precision, compile, memory format, workers) is
:mod:`dflib.train.machine`'s. Everything a run says and writes goes through one sink,
:class:`RunSink`, which rank 0 holds; every other rank holds :class:`Silent`.

The header (``params.json``, ``environment.json``, ``skipped.csv``) is written before
the first epoch, so even a run that dies early says what it was. Validation predictions
come from the best main-stage weights, and the decision threshold is tuned on them
(highest F1, ties to higher recall). With a fine-tuning stage the validation images are
then trained on, so the threshold is tuned before fine-tuning, as the write-up did.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from dflib.metrics import best_threshold, binary_metrics
from dflib.models import count_params, create_model
from dflib.runtime import (
    amp_note,
    require_built_for,
    resolve_device,
    seed_everything,
)
from dflib.train import distributed as ddp
from dflib.train import runs
from dflib.train.checkpoint import (
    last_state,
    load_checkpoint,
    previous_state,
    restore,
    save_checkpoint,
)
from dflib.train.config import TrainConfig
from dflib.train.inputs import (
    DevicePipeline,
    TrainingData,
    batch_loader,
    epoch_order,
    eval_batches,
    eval_loader,
    hold,
    prepare,
    split_batches,
    to_device,
)
from dflib.train.loggers import EpochSink
from dflib.train.losses import Loss, fake_probability, make_loss
from dflib.train.machine import (
    Device,
    compile_mode,
    compile_unsupported,
    compiled_graphs,
    cpu_threads,
    describe_step,
    loader_workers,
    step_memory,
    uses_channels_last,
    wrap_step,
)
from dflib.train.optim import make_optimizer
from dflib.train.runs import RunFolder, environment_info

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
    clip_grad_norm: float = 0.0,
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
    ``clip_grad_norm`` > 0 clips the gradients' global norm before each update (with a
    GradScaler, after unscaling them); it needs no read of the device either.

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
            if clip_grad_norm:
                dev.scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            dev.scaler.step(optimizer)
            dev.scaler.update()
        else:
            loss.backward()
            if clip_grad_norm:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
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
        first_bad, mine, total, bad_value = (int(ddp.min_over_ranks(self.first_bad)),
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


# --- an epoch's row, log line and randomness ---


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


def duration_estimate(
    config: TrainConfig, device: torch.device, n_train: int, say: Callable[[str], None] = print
) -> BatchHook:
    """After a few steps on a CPU, say how long the whole run will take and how to shrink it.

    The rate is timed from the end of the first step to the end of the fifth: the first
    pays the warm-up (the loader's start, oneDNN's choice of kernels, bf16 weight casts),
    up to tens of steady steps on a 2-core CPU, and counting it made a one-minute run read
    "0.7 h"."""
    said = {"done": device.type != "cpu"}
    mark: dict[str, float] = {}

    def hook(index: int, seen: int, seconds: float) -> None:
        if said["done"]:
            return
        if index == 0:
            mark.update(seen=seen, seconds=seconds)
            return
        if index < 4:
            return
        said["done"] = True
        per_image = (seconds - mark["seconds"]) / max(seen - mark["seen"], 1)
        total = per_image * n_train * config.total_epochs * 1.15  # + evaluation
        if total > 600:
            say(
                f"CPU only: this run will take about {total / 3600:.1f} h "
                f"({n_train:,} images x {config.total_epochs} epochs at {config.img_size} px). "
                "For a quick look: -p train_images 2000 -p img_size 96 -p epochs 3 "
                "(--train-images/--img-size/--epochs), or use a GPU."
            )

    return hook


# --- a whole run ---


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
        RuntimeError: a GPU the installed torch was not built for
            (:func:`dflib.runtime.require_built_for`), before any data or model work.
    """
    world = ddp.world_from_env()
    device = ddp.device_for(world, resolve_device(config.device))
    require_built_for(device)  # before the data is cached, not at the first kernel
    ddp.join(world, device)
    try:
        return _fit(config, out, resume, progress and world.is_main, hooks, world, device)
    finally:
        ddp.leave(world)


def _fit(config, out, resume, progress, hooks, world: ddp.World, device) -> FitResult:
    run = runs.run_folder(ddp.broadcast(world, str(runs.run_folder(out, config.arch).root)))
    state = previous_state(run, config) if resume else None
    if state is None and run.exists() and any(run.root.glob("*.pt")):
        raise FileExistsError(
            f"{run.root} already holds a run. Continue it with resume=True (--resume), "
            "or give another name with out=... (--out)."
        )
    ddp.barrier(world)  # every rank has looked before rank 0 writes
    sink = RunSink(run, config) if world.is_main else Silent()  # what the run says and writes
    seed_everything(config.seed, config.deterministic)
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads())
    dev = Device.for_run(device, config.amp)
    if device.type == "cuda" and not config.deterministic:
        torch.backends.cudnn.benchmark = True
    data = ddp.main_first(world, lambda: prepare(config, progress))  # one process builds caches
    model, pipeline = model_and_pipeline(config, device)
    # class_weighting=False: every class weighs 1 (the unbalanced control)
    weights = data.weights if config.class_weighting else np.ones_like(data.weights)
    loss_fn = make_loss(config.loss, weights, config.focal_gamma, device)
    mode = compile_mode(config, device, world.active)
    step = describe_step(mode, model, dev, pipeline.channels_last)
    refused = compile_unsupported(device) if config.compile else ""
    if refused:
        step += " (compile refused by the GPU)"
    sink.header(model.default_cfg, data, dev, step, notes=(amp_note(config.amp, device), refused))
    if world.active:
        sink.say(ddp.describe(world, config.batch_size, config.lr))

    epoch, history, best = 0, [], {"epoch": -1, "f1": -1.0, "auc": -1.0, "since": 0}
    steps = 0  # optimiser steps so far: the step axis of the loggers
    optimizer, scheduler = make_optimizer(model, config, finetune=False)
    if state is not None:
        optimizer, scheduler, epoch, history, best = restore(state, model, config, dev.scaler)
        steps = int(state.get("steps", 0))
        sink.say(f"resuming {run.root} at epoch {epoch + 1} of {config.total_epochs}"
                 if epoch < config.total_epochs else
                 f"{run.root} has finished training: evaluating its best.pt")  # fmt: skip
        epoch = main_stage_on_resume(epoch, history, best, config, sink.say)
    step_model = wrap_step(model, mode, world, device, config.batch_size)
    graphs_before = compiled_graphs()
    workers = loader_workers(config, device)
    measured = config.resident_data == "auto" and device.type == "cuda"
    step_bytes = step_memory(model, pipeline, loss_fn, dev, config) if measured else 0
    held = hold(config.resident_data, data.cache, data.labels, device, step_bytes)
    if held is not None:
        sink.say(held.describe())
    hooks = (*hooks, duration_estimate(config, device, len(data.train), sink.say))

    sink.start(epoch, steps)  # every epoch's row: history.csv, then the loggers asked for
    try:
        while epoch < config.total_epochs:
            finetune = epoch >= config.epochs
            if finetune and epoch == config.epochs:
                sink.validation(model, data, pipeline, dev, workers)
                ddp.barrier(world)
                model.load_state_dict(load_checkpoint(run.best, map_location=device)["model"])
                optimizer, scheduler = make_optimizer(model, config, finetune=True)
            positions = np.concatenate([data.train, data.val]) if finetune else data.train
            seed_epoch(config.seed, epoch)
            order = positions[epoch_order(data.labels[positions], config.seed, epoch,
                                          config.balanced_sampler)]  # fmt: skip
            order = ddp.shard(order, world, config.batch_size)
            batches = split_batches(order, config.batch_size, drop_last=True)
            loader = batch_source(held, data.cache, data.labels, batches, workers, device)
            reader = sink.reader(steps, optimizer.param_groups[0]["lr"])  # the loggers' steps
            stats = train_one_epoch(step_model, loader, pipeline, loss_fn, optimizer, dev,
                                    epoch=epoch, progress=progress, hooks=hooks,
                                    on_read=reader, clip_grad_norm=config.clip_grad_norm)  # fmt: skip
            steps += len(batches)
            stats["loss"] = ddp.mean_over_ranks(world, stats["loss"], stats["images"])
            stats["images"] *= world.size
            # scored with the bare model, given rank 0's buffers (_validate): the DDP
            # wrapper's forward syncs buffers and shards may hold different numbers of
            # batches; a compiled one would compile again for evaluation's shapes and no_grad
            val = _validate(model, data, pipeline, dev, loss_fn, config, workers, world, held)
            row = history_row(epoch, finetune, stats, val, optimizer.param_groups[0]["lr"])
            history.append(row)
            if scheduler is not None:
                scheduler.step(row["val_loss"])
            epoch += 1
            if not finetune:
                best = watched(best, row, config.early_stopping_metric)
                if (row["val_f1"], row["val_auc"]) > (best["f1"], best["auc"]):
                    best = {**best, "epoch": epoch - 1, "f1": row["val_f1"], "auc": row["val_auc"]}
                    sink.best(model, epoch)
                if stopped_early(best, config):
                    sink.say(f"early stopping: no better val {config.early_stopping_metric} "
                             f"for {best['since']} epochs")  # fmt: skip
                    epoch = config.epochs
            sink.epoch(history, model, optimizer, scheduler, dev.scaler, epoch, best, steps)
    except KeyboardInterrupt:
        sink.say(f"\ninterrupted: {run.last} holds the last finished epoch; continue with "
                 f"resume=True (--resume --out {run.root})")  # fmt: skip
        raise
    finally:
        sink.close()
    if mode is not None:
        sink.graphs(compiled_graphs() - graphs_before)
    ddp.barrier(world)
    metrics = sink.finish(model, data, pipeline, dev, workers, best) or {}
    ddp.barrier(world)
    return FitResult(run, config, pd.DataFrame(history), metrics, model, data)


def watched(best: dict, row: dict, metric: str) -> dict:
    """``best`` with early stopping's count updated: ``since``, the epochs without a better
    ``val_<metric>`` than ``top`` (the best so far; F1 breaks its ties by AUC, as the
    choice of ``best.pt`` does). Called before ``best`` takes this epoch's scores; a
    ``best`` saved before ``top`` was kept starts from the scores of ``best.pt``'s epoch."""
    score = [row["val_f1"], row["val_auc"]] if metric == "f1" else [row["val_auc"]]
    top = best.get("top", [best["f1"], best["auc"]] if metric == "f1" else [best["auc"]])
    if score > top:
        return {**best, "top": score, "since": 0}
    return {**best, "top": top, "since": best.get("since", 0) + 1}


def stopped_early(best: dict, config: TrainConfig) -> bool:
    """Early stopping holds: ``config.early_stopping`` epochs or more without a better
    watched score (checked after each main-stage epoch, and on a resume, so a larger
    ``epochs`` does not train past a stop)."""
    return bool(config.early_stopping) and best.get("since", 0) >= config.early_stopping


def main_stage_on_resume(epoch: int, history: list, best: dict, config: TrainConfig,
                         say: Callable[[str], None] = print) -> int:  # fmt: skip
    """Where a resumed run goes on. An early stop that still holds under ``config`` keeps
    the main stage closed, whatever ``epochs`` asks now; one that no longer holds (a larger
    ``early_stopping``, or 0) goes on from the last epoch trained, not from the epoch the
    stop jumped to."""
    if epoch > config.epochs:  # in the fine-tune stage
        return epoch
    trained = sum(row["stage"] == "main" for row in history)
    if stopped_early(best, config):
        if trained < config.epochs:
            say(f"the main stage stopped early after {trained} epochs (no better val "
                  f"{config.early_stopping_metric} for {best['since']}): it stays stopped; "
                  "resume with a larger early_stopping (or 0) to train on")  # fmt: skip
        return config.epochs
    if trained < epoch:
        say(f"the early stop after {trained} epochs no longer holds: training on")
        return trained
    return epoch


def _validate(model, data, pipeline, dev, loss_fn, config, workers, world, held) -> dict[str, Any]:
    """Each rank scores its shard of the validation split with rank 0's model; every rank
    gets the whole."""
    ddp.rank_zeros_buffers(world, model)
    mine = np.sort(data.val)[world.rank :: world.size]
    batches = eval_batches(mine, config.batch_size, dev.device)
    loader = batch_source(held, data.cache, data.labels, batches, workers, dev.device)
    val = evaluate(model, loader, pipeline, dev, loss_fn)
    loss = ddp.mean_over_ranks(world, val.pop("loss"), val.pop("loss_weight"))
    return {**ddp.gather_arrays(world, val), "loss": loss}


def batch_source(held, images, labels, batches, workers: int, device: torch.device):
    """The trainer's data path over ``batches``: gathered on the device when the cache is
    resident (``held``, :func:`~dflib.train.inputs.hold`), else read by a DataLoader."""
    if held is not None:
        return held.batches(batches)
    return batch_loader(images, labels, batches, workers, device.type == "cuda")


def model_and_pipeline(config: TrainConfig, device: torch.device):
    """The model (NHWC where :func:`uses_channels_last`) and its device pipeline, on ``device``."""
    model = create_model(config.arch).to(device)
    channels_last = uses_channels_last(config, device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    cfg = model.default_cfg
    pipeline = DevicePipeline(cfg.mean, cfg.std, config.augment, config.img_size, channels_last)
    return model, pipeline.to(device)


# --- the files a run leaves besides its checkpoints ---


def write_run_header(
    run: RunFolder, config: TrainConfig, model_cfg, data: TrainingData, dev, step: str = ""
) -> None:
    """``params.json`` (with ``step``: how each step runs, and ``precision``: the dtype
    ``amp`` chose here), ``environment.json`` and the data report, before training. A
    resumed run keeps the study role a planner recorded; its precision is the resume's."""
    before = run.read_json("params") if run.params.is_file() else {}
    role = {runs.ROLE: before[runs.ROLE]} if before.get(runs.ROLE) else {}
    environment = environment_info(dev)
    runs.write_json(
        run.params,
        {**config.to_dict(), **role, "model": model_cfg.to_dict(), "step": step,
         "precision": environment["precision"], "n_train": len(data.train),
         "n_val": len(data.val), "n_test": len(data.test) if data.test is not None else 0,
         "class_weights": data.weights.tolist(), "validation": data.validation,
         "test_labelled": bool(data.test_labels is not None and (data.test_labels >= 0).all()),
         "cache": str(data.cache.folder)},
    )  # fmt: skip
    runs.write_json(run.environment, environment)
    data.skipped().to_csv(run.skipped, index=False)


def _loader(cache, labels, positions, config: TrainConfig, workers: int, device):
    return eval_loader(cache, labels, positions, config.batch_size, workers, device)


def write_validation(run, model, data, pipeline, dev, workers, config) -> dict[str, Any]:
    """Predictions of the best main-stage weights on validation; the tuned threshold."""
    model.load_state_dict(load_checkpoint(run.best, map_location=dev.device)["model"])
    val = evaluate(model, _loader(data.cache, data.labels, data.val, config, workers, dev.device),
                   pipeline, dev)  # fmt: skip
    ids = data.cache.frame["id"].to_numpy()[val["positions"]]
    runs.write_predictions(run.predictions_val, ids, val["labels"], val["probs"])
    threshold, _ = best_threshold(val["labels"], val["probs"])
    return {"threshold": threshold, "labels": val["labels"], "probs": val["probs"]}


def finish_run(run, model, data, pipeline, dev, workers, config, best) -> dict[str, Any]:
    """Validation and test predictions, ``metrics.json``, and the final ``best.pt``.

    Without fine-tuning the final weights are the best main-stage ones; with it they are
    the fine-tuned ones, and ``best.pt`` is replaced by them.
    """
    history = run.read_history()
    final_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if config.finetune_epochs and (history["stage"] == "finetune").any():
        val = _read_val(run, config)
        model.load_state_dict(final_state)
        save_checkpoint({"model": final_state, "epoch": int(history["epoch"].max())}, run.best)
    else:
        val = write_validation(run, model, data, pipeline, dev, workers, config)
    threshold = val["threshold"]
    metrics: dict[str, Any] = {
        "arch": config.arch,
        "params": count_params(model),
        "threshold": threshold,
        "best_epoch": int(best["epoch"]) + 1,
        "epochs_run": len(history),
        "val": binary_metrics(val["labels"], val["probs"]),
        "val_tuned": binary_metrics(val["labels"], val["probs"], threshold),
        "train_seconds": float(history["seconds"].sum()),
        "images_per_s": float(history["images_per_s"].median()),
        "n_train": len(data.train),
        "n_val": len(data.val),
        "skipped": int(len(data.skipped())),
        "test": None,
    }
    if data.test is not None:
        test = evaluate(model, _loader(data.test, data.test_labels, np.arange(len(data.test)),
                                       config, workers, dev.device), pipeline, dev)  # fmt: skip
        ids = data.test.frame["id"].to_numpy()[test["positions"]]
        runs.write_predictions(run.predictions_test, ids, test["labels"], test["probs"])
        if (test["labels"] >= 0).all():
            metrics["test"] = binary_metrics(test["labels"], test["probs"])
            metrics["test_tuned"] = binary_metrics(test["labels"], test["probs"], threshold)
    metrics["environment"] = environment_info(dev)
    runs.write_json(run.metrics, metrics)
    return metrics


def _read_val(run: RunFolder, config: TrainConfig) -> dict[str, Any]:
    frame = run.read_predictions("val")
    labels, probs = frame["label"].to_numpy(), frame["prob"].to_numpy()
    threshold, _ = best_threshold(labels, probs)
    return {"threshold": threshold, "labels": labels, "probs": probs}


# --- everything a run says and writes: rank 0's sink ---


class RunSink:
    """Where a run's lines and files go: its header, its log lines, every epoch's
    ``last.pt``, row (:class:`~dflib.train.loggers.EpochSink`: ``history.csv``, then the
    loggers) and line, ``best.pt``, and the validation and final files.

    Rank 0 holds this one; every other rank holds :class:`Silent`, the same methods doing
    nothing, so ``fit`` reads top to bottom with no rank guard around what it says or writes.
    """

    def __init__(self, run: RunFolder, config: TrainConfig) -> None:
        self.run, self.config, self.rows = run, config, None

    def say(self, *lines: str) -> None:
        """Print each line given (empty ones are skipped: a note that did not apply)."""
        for line in lines:
            if line:
                print(line)

    def header(self, model_cfg, data: TrainingData, dev: Device, step: str, notes=()) -> None:
        """The files a run starts with (:func:`write_run_header`) and the lines that say
        how it runs: its validation split, its step, ``notes`` and the data report."""
        write_run_header(self.run, self.config, model_cfg, data, dev, step)
        self.say(f"validation: {data.validation}", f"step: {step}", *notes)
        report = data.skipped_report()
        if report.skipped:
            self.say(report.summary(full_list=self.run.skipped))

    def start(self, epochs_done: int, steps_done: int) -> None:
        """Open the loggers where the run starts again."""
        self.rows = EpochSink(self.run, self.config.log, epochs_done, steps_done)

    def reader(self, steps: int, lr: float):
        """The loss hook of the epoch's steps (:meth:`~dflib.train.loggers.EpochSink.reader`)."""
        return self.rows.reader(steps, lr)

    def best(self, model: nn.Module, epoch: int) -> None:
        save_checkpoint({"model": model.state_dict(), "epoch": epoch}, self.run.best)

    def epoch(self, history, model, optimizer, scheduler, scaler, epoch, best, steps) -> None:
        """``last.pt`` first (what a resume reads), then the row, then its line."""
        save_checkpoint(last_state(model, optimizer, scheduler, scaler, epoch, history, best,
                                   self.config, steps), self.run.last)  # fmt: skip
        self.rows.epoch(history)
        print(epoch_line(history[-1], self.config), flush=True)

    def validation(self, model, data, pipeline, dev, workers) -> None:
        write_validation(self.run, model, data, pipeline, dev, workers, self.config)

    def graphs(self, graphs: int) -> None:
        """The compiled graph count, in the log and ``params.json`` (``compiled_graphs``):
        1 when the training step compiled once."""
        self.say(f"torch.compile: {graphs} graph{'s' if graphs != 1 else ''} compiled for the "
                 "training step (1 expected: more means recompiles or graph breaks)")  # fmt: skip
        runs.write_json(
            self.run.params, {**self.run.read_json("params"), "compiled_graphs": graphs}
        )

    def finish(self, model, data, pipeline, dev, workers, best) -> dict[str, Any]:
        """The final files (:func:`finish_run`); the metrics."""
        return finish_run(self.run, model, data, pipeline, dev, workers, self.config, best)

    def close(self) -> None:
        if self.rows is not None:
            self.rows.close()


class Silent:
    """The sink of every rank but 0: :class:`RunSink`'s methods, each doing nothing (and
    returning ``None``)."""

    def __getattr__(self, name: str):
        getattr(RunSink, name)  # a name RunSink lacks is an AttributeError here too
        return _nothing


def _nothing(*args, **kwargs) -> None:
    return None
