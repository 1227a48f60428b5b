"""``fit``: a whole run, from a :class:`TrainConfig` to a finished run folder.

Main stage on the training split (AdamW, ReduceLROnPlateau on the validation loss,
best weights by validation F1, optional early stopping), then an optional fine-tuning
stage on 100% of the labelled data at a lower lr. After every epoch ``last.pt`` is
written atomically; ``fit(..., resume=True)`` continues from it and ends with the same
history and weights as an uninterrupted run, because each epoch draws its batch order
and its augmentations from ``(seed, epoch)`` alone. Under ``torchrun`` the same loop runs
in every process with DistributedDataParallel (:mod:`dflib.train.distributed`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from dflib.models import create_model
from dflib.runtime import resolve_device, seed_everything
from dflib.train import distributed as ddp
from dflib.train import finish, resident, runs
from dflib.train.augment import DevicePipeline
from dflib.train.batches import (
    batch_loader,
    epoch_order,
    eval_batch_size,
    eval_batches,
    split_batches,
)
from dflib.train.checkpoint import load_checkpoint, save_checkpoint
from dflib.train.dataset import TrainingData, prepare
from dflib.train.engine import BatchHook, Device, evaluate, train_one_epoch
from dflib.train.epochs import duration_estimate, epoch_line, history_row, seed_epoch
from dflib.train.losses import make_loss
from dflib.train.optim import fused, make_optimizer
from dflib.train.recipes import TrainConfig
from dflib.train.resume import last_state, previous_state, restore
from dflib.train.runs import RunFolder
from dflib.train.sink import EpochSink

# the oldest GPU inductor compiles for (Volta); a P100 is 6.0
MIN_COMPILE_CAPABILITY = (7, 0)
# devices where a recipe's channels_last is used (tensor cores want NHWC); a CPU keeps
# NCHW, so CPU runs stay as they were. Tests add "cpu" to take the GPU's layout here.
CHANNELS_LAST_DEVICES = ("cuda",)


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
    world = ddp.world_from_env()
    device = ddp.device_for(world, resolve_device(config.device))
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
    seed_everything(config.seed, config.deterministic)
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
    if world.is_main:
        finish.write_run_header(run, config, model.default_cfg, data, dev, step)
        print(f"validation: {data.validation}")
        print(f"step: {step}")
        if refused:
            print(refused)
        report = data.skipped_report()
        if report.skipped:
            print(report.summary(full_list=run.skipped))
        if world.active:
            print(ddp.describe(world, config.batch_size, config.lr))

    epoch, history, best = 0, [], {"epoch": -1, "f1": -1.0, "auc": -1.0, "since": 0}
    steps = 0  # optimiser steps so far: the step axis of the loggers
    optimizer, scheduler = make_optimizer(model, config, finetune=False)
    if state is not None:
        optimizer, scheduler, epoch, history, best = restore(state, model, config, dev.scaler)
        steps = int(state.get("steps", 0))
        if world.is_main:
            print(f"resuming {run.root} at epoch {epoch + 1} of {config.total_epochs}")
    step_model = _wrap(model, mode, world, device, config.batch_size)
    graphs_before = compiled_graphs()
    workers = loader_workers(config, device)
    measured = config.resident_data == "auto" and device.type == "cuda"
    step_bytes = step_memory(model, pipeline, loss_fn, dev, config) if measured else 0
    held = resident.hold(config.resident_data, data.cache, data.labels, device, step_bytes)
    if held is not None and world.is_main:
        print(held.describe())
    if world.is_main:
        hooks = (*hooks, duration_estimate(config, device, len(data.train)))

    # every epoch's row goes to the run folder: history.csv, then the loggers asked for
    sink = EpochSink(run, config.log, epoch, steps) if world.is_main else None
    try:
        while epoch < config.total_epochs:
            finetune = epoch >= config.epochs
            if finetune and epoch == config.epochs:
                if world.is_main:
                    finish.write_validation(run, model, data, pipeline, dev, workers, config)
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
            reader = sink.reader(steps, optimizer.param_groups[0]["lr"]) if sink else None
            stats = train_one_epoch(step_model, loader, pipeline, loss_fn, optimizer, dev,
                                    epoch=epoch, progress=progress, hooks=hooks,
                                    on_read=reader)  # fmt: skip
            steps += len(batches)
            stats["loss"] = ddp.mean_over_ranks(world, stats["loss"], stats["images"])
            stats["images"] *= world.size
            # scored with the bare model: the DDP wrapper's forward syncs buffers and shards
            # may hold different numbers of batches; a compiled one would compile again for
            # evaluation's shapes and no_grad
            val = _validate(model, data, pipeline, dev, loss_fn, config, workers, world, held)
            row = history_row(epoch, finetune, stats, val, optimizer.param_groups[0]["lr"])
            history.append(row)
            if scheduler is not None:
                scheduler.step(row["val_loss"])
            epoch += 1
            if not finetune and (row["val_f1"], row["val_auc"]) > (best["f1"], best["auc"]):
                best = {"epoch": epoch - 1, "f1": row["val_f1"], "auc": row["val_auc"], "since": 0}
                if world.is_main:
                    save_checkpoint({"model": model.state_dict(), "epoch": epoch}, run.best)
            elif not finetune:
                best["since"] += 1
                if config.early_stopping and best["since"] >= config.early_stopping:
                    if world.is_main:
                        print(f"early stopping: no better val F1 for {best['since']} epochs")
                    epoch = config.epochs
            if sink is not None:
                save_checkpoint(last_state(model, optimizer, scheduler, dev.scaler, epoch,
                                           history, best, config, steps), run.last)  # fmt: skip
                sink.epoch(history)
                print(epoch_line(row, config), flush=True)
    except KeyboardInterrupt:
        if world.is_main:
            print(f"\ninterrupted: {run.last} holds the last finished epoch; continue with "
                  f"resume=True (--resume --out {run.root})")  # fmt: skip
        raise
    finally:
        if sink is not None:
            sink.close()
    if mode is not None and world.is_main:
        _record_graphs(run, compiled_graphs() - graphs_before)
    ddp.barrier(world)
    metrics = {}
    if world.is_main:
        metrics = finish.finish_run(run, model, data, pipeline, dev, workers, config, best)
    ddp.barrier(world)
    return FitResult(run, config, pd.DataFrame(history), metrics, model, data)


def compile_mode(config: TrainConfig, device: torch.device, distributed: bool) -> str | None:
    """``torch.compile``'s mode for the step model (``None``: eager).

    On one CUDA device ``reduce-overhead``: the fixed-shape forward and backward are
    replayed as CUDA graphs, since at the recipes' batch sizes (16-32) the launches, not
    the arithmetic, bound a step. Under DDP and on a CPU the default mode.
    """
    if not config.compile or compile_unsupported(device):
        return None
    return "reduce-overhead" if device.type == "cuda" and not distributed else "default"


def compile_unsupported(device: torch.device) -> str:
    """Why ``torch.compile`` cannot run on ``device`` ("" when it can): inductor's Triton
    kernels need a GPU of compute capability 7.0 or newer, and on an older one (Kaggle's
    P100, 6.0) the first forward crashes."""
    if device.type != "cuda":
        return ""
    capability = torch.cuda.get_device_capability(device)
    if capability >= MIN_COMPILE_CAPABILITY:
        return ""
    return (
        f"compile=True needs a GPU of compute capability >= "
        f"{'.'.join(map(str, MIN_COMPILE_CAPABILITY))} (inductor's Triton kernels); "
        f"{torch.cuda.get_device_name(device)} has {'.'.join(map(str, capability))}, so the "
        "step runs eager. Pass compile=False (--no-compile) to leave it off."
    )


def describe_step(mode: str | None, model: nn.Module, dev: Device, channels_last: bool) -> str:
    """How each training step runs, for the run's log and ``params.json``: compiled or
    eager, its precision, its memory format and AdamW's update."""
    compiled = "eager" if mode is None else f"torch.compile ({mode})"
    layout = "channels_last" if channels_last else "NCHW"
    update = "fused" if fused(list(model.parameters())) else "default"
    return f"{compiled}, {dev.describe()}, {layout}, AdamW {update} update"


def _wrap(model: nn.Module, mode: str | None, world: ddp.World, device, batch_size: int):
    """DistributedDataParallel across processes, then ``torch.compile`` if asked, for whole
    batches only (:class:`OneShapeStep`).

    Dynamo is reset first: its compiled code and recompile counts are per function, and
    every model shares ``ClassifierBase.forward``, so the runs before this one in the
    process (a notebook training one architecture after another) would count towards
    this one's recompile limit, past which dynamo silently runs eager.
    """
    step_model = model
    if world.active:
        ids = [device.index] if device.type == "cuda" else None
        step_model = DistributedDataParallel(model, device_ids=ids)
    if mode is None:
        return step_model
    torch._dynamo.reset()
    return OneShapeStep(torch.compile(step_model, mode=mode), step_model, batch_size)


class OneShapeStep(nn.Module):
    """The compiled step for whole batches, the eager one for an epoch's smaller last batch.

    Each new input shape makes a compiled module compile a new graph (and under CUDA
    graphs, record a new one): the ragged last batch would add one per run. Only
    ``batch_size`` images ever reach ``compiled``, so the training step is one graph.
    """

    def __init__(self, compiled: nn.Module, eager: nn.Module, batch_size: int) -> None:
        super().__init__()
        self.compiled, self.eager, self.batch_size = compiled, eager, batch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.compiled if len(x) == self.batch_size else self.eager)(x)


def compiled_graphs() -> int:
    """Graphs dynamo has compiled in this process so far."""
    return int(torch._dynamo.utils.counters["stats"]["unique_graphs"])


def _record_graphs(run: RunFolder, graphs: int) -> None:
    """The run's compiled graph count, in its log and its ``params.json``
    (``compiled_graphs``): 1 when the training step compiled once."""
    print(f"torch.compile: {graphs} graph{'s' if graphs != 1 else ''} compiled for the "
          "training step (1 expected: more means recompiles or graph breaks)")  # fmt: skip
    runs.write_json(run.params, {**run.read_json("params"), "compiled_graphs": graphs})


def step_memory(model: nn.Module, pipeline, loss_fn, dev: Device, config: TrainConfig) -> int:
    """Device bytes one training step and one evaluation batch take beyond what is
    allocated now: a dry step on a copy of the model (forward, backward, AdamW's update
    with its state, then an evaluation batch of :func:`eval_batch_size`), so the resident
    cache is sized after the optimiser state, gradients and activations that do not
    exist yet. The model, its optimiser and every random generator are left as they were.
    """
    device = dev.device
    size, side = config.batch_size, config.img_size
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        dry = copy.deepcopy(model).train()
        optimizer, _ = make_optimizer(dry, config, finetune=False)
        images = torch.zeros((size, side, side, 3), dtype=torch.uint8, device=device)
        labels = torch.zeros(size, dtype=torch.int64, device=device)
        x = pipeline(images, train=True)
        with dev.autocast():
            loss = loss_fn(dry(x), labels)
        loss.backward()
        optimizer.step()
        del x, loss, images, labels
        dry.eval()
        n = eval_batch_size(size, device)
        with torch.no_grad():
            x = pipeline(torch.zeros((n, side, side, 3), dtype=torch.uint8, device=device))
            with dev.autocast():
                dry(x)
        del x, dry, optimizer
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - before
    torch.cuda.empty_cache()
    return max(int(peak), 0)


def _validate(model, data, pipeline, dev, loss_fn, config, workers, world, held) -> dict[str, Any]:
    """Each rank scores its shard of the validation split; every rank gets the whole."""
    mine = np.sort(data.val)[world.rank :: world.size]
    batches = eval_batches(mine, config.batch_size, dev.device)
    loader = batch_source(held, data.cache, data.labels, batches, workers, dev.device)
    val = evaluate(model, loader, pipeline, dev, loss_fn)
    loss = ddp.mean_over_ranks(world, val.pop("loss"), val.pop("loss_weight"))
    return {**ddp.gather_arrays(world, val), "loss": loss}


def batch_source(held, images, labels, batches, workers: int, device: torch.device):
    """The trainer's data path over ``batches``: gathered on the device when the cache is
    resident (``held``, :func:`dflib.train.resident.hold`), else read by a DataLoader."""
    if held is not None:
        return held.batches(batches)
    return batch_loader(images, labels, batches, workers, device.type == "cuda")


def model_and_pipeline(config: TrainConfig, device: torch.device):
    """The model (NHWC on CUDA when the recipe asks) and its device pipeline, on ``device``."""
    model = create_model(config.arch).to(device)
    channels_last = uses_channels_last(config, device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    cfg = model.default_cfg
    pipeline = DevicePipeline(cfg.mean, cfg.std, config.augment, config.img_size, channels_last)
    return model, pipeline.to(device)


def uses_channels_last(config: TrainConfig, device: torch.device) -> bool:
    """Whether the model and its batches are NHWC: the recipe asks (``channels_last``)
    and the device is one of :data:`CHANNELS_LAST_DEVICES`."""
    return config.channels_last and torch.device(device).type in CHANNELS_LAST_DEVICES


def loader_workers(config: TrainConfig, device: torch.device) -> int:
    """Batch-reading processes: the recipe's, else 0 on a CPU and 2 on a GPU."""
    if config.workers >= 0:
        return config.workers
    # reading a memmap is cheap: on a CPU the cores are better spent on the model
    return 0 if device.type == "cpu" else 2
