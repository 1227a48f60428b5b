"""One function per benchmark question; each returns rows (dicts) for one table.

Every model is built and trained exactly as :func:`dflib.train.fit` builds it (recipe,
loss, optimiser, device pipeline, memory format, autocast), and timed on batches from
the benchmark's own image cache, so the numbers are what a training run sees.
"""

from __future__ import annotations

import math
import tempfile
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

import numpy as np
import torch

from dflib.data import ImageTable, load_split
from dflib.data.cache import ImageCache, build_cache
from dflib.environment import available_cores
from dflib.runtime import cpu_bf16
from dflib.train import fit, get_recipe, inputs
from dflib.train.config import TrainConfig
from dflib.train.inputs import (
    DevicePipeline,
    build_augmentations,
    eval_batch_size,
    eval_loader,
    preprocess_for,
    subsample,
)
from dflib.train.loop import (
    CHECK_EVERY,
    batch_source,
    evaluate,
    model_and_pipeline,
    train_one_epoch,
)
from dflib.train.losses import make_loss
from dflib.train.machine import (
    Device,
    compile_mode,
    cpu_threads,
    loader_workers,
    step_memory,
)
from dflib.train.optim import make_optimizer

import measure
import pipelines as P
from batched_augment import BatchedAugment


@dataclass
class Bench:
    """What every table shares: the device, the data, the time budget per measurement."""

    device: torch.device
    synthetic_size: str = "full"
    seconds: float = 4.0
    images: int = 2048
    batch_size: int = 0  # 0: each recipe's own
    workers: int = -1  # -1: what the trainer picks (0 on CPU, 2 on CUDA)
    progress: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def recipe(self, arch: str, **overrides) -> TrainConfig:
        config = get_recipe(arch, synthetic_size=self.synthetic_size, device=str(self.device))
        if self.batch_size:
            overrides.setdefault("batch_size", self.batch_size)
        return config.replace(**overrides) if overrides else config

    def loader_workers(self) -> int:
        return loader_workers(TrainConfig(workers=self.workers), self.device)

    def cache(self, config: TrainConfig, n: int, split: str = "train") -> ImageCache:
        return _cache(self.synthetic_size, split, config.img_size, config.filter, config.tol, n)


@cache
def _cache(synthetic_size: str, split: str, size: int, filter_name: str, tol: int, n: int):
    table = load_split("synthetic", split, synthetic_size=synthetic_size)
    if split == "train":
        table = subsample(table, n, seed=0)
    else:
        table = ImageTable(table.frame.iloc[:n].reset_index(drop=True), table.root, table.split,
                           table.report)  # fmt: skip
    config = TrainConfig(filter=filter_name, tol=tol)
    return build_cache(table, size, preprocess_for(config), progress=False)


@dataclass
class Setup:
    """A model ready to train the way ``fit`` trains it."""

    model: torch.nn.Module
    step_model: torch.nn.Module
    pipeline: DevicePipeline
    dev: Device
    loss_fn: object
    optimizer: torch.optim.Optimizer


def setup(b: Bench, config: TrainConfig, amp: str, channels_last: str, compile: bool = False):
    """``amp`` and ``channels_last`` as the settings spell them (``"auto"``, ``"bf16"``,
    ``"off"``...; ``"auto"``, ``"on"``, ``"off"``)."""
    torch.manual_seed(0)
    model, pipeline = model_and_pipeline(config.replace(channels_last=channels_last), b.device)
    optimizer, _ = make_optimizer(model, config, finetune=False)  # fused on CUDA, as trained
    mode = compile_mode(config.replace(compile=compile), b.device, distributed=False)
    step_model = model if mode is None else torch.compile(model, mode=mode)
    loss_fn = make_loss(config.loss, [0.6024, 2.9412], config.focal_gamma, b.device)
    return Setup(model, step_model, pipeline, Device.for_run(b.device, amp), loss_fn, optimizer)


def train_step(s: Setup, x: torch.Tensor, y: torch.Tensor) -> int:
    """One optimisation step as the engine runs it (no read-back: the engine reads the
    loss once every ``CHECK_EVERY`` steps, the timed loop synchronises every 8)."""
    with s.dev.autocast():
        loss = s.loss_fn(s.step_model(x), y)
    s.optimizer.zero_grad(set_to_none=True)
    if s.dev.scaler is not None:
        s.dev.scaler.scale(loss).backward()
        s.dev.scaler.step(s.optimizer)
        s.dev.scaler.update()
    else:
        loss.backward()
        s.optimizer.step()
    return len(y)


def device_batch(b: Bench, s: Setup, cache: ImageCache, batch_size: int):
    positions = np.arange(min(batch_size, len(cache)))
    images = torch.from_numpy(np.ascontiguousarray(cache[positions])).to(b.device)
    labels = torch.from_numpy(cache.labels[positions]).to(b.device)
    return s.pipeline(images, train=True), labels


def model_only(b: Bench, s: Setup, cache: ImageCache, batch_size: int) -> float:
    x, y = device_batch(b, s, cache, batch_size)
    return measure.timed_steps(lambda: train_step(s, x, y), b.device, b.seconds)


def arch_row(b: Bench, arch: str) -> dict:
    """Data pipeline alone, model step alone and the engine's end-to-end, at the recipe's
    image size, batch size, precision and memory format."""
    config = b.recipe(arch)
    bs, workers = config.batch_size, b.loader_workers()
    cache = b.cache(config, b.images)
    s = setup(b, config, config.amp, config.channels_last)
    model_ips = model_only(b, s, cache, bs)
    batches = int(min(400, max(8, math.ceil(b.seconds * model_ips / bs)))) + 2
    loader = P.cache_batches(cache, P.epoch_batches(len(cache), bs, batches), workers, b.device)
    data_ips, _, _ = measure.timed_iter(loader, P.cache_consumer(s.pipeline, b.device), b.device)
    marks: dict[int, tuple[int, float]] = {}

    def mark(index: int, seen: int, elapsed: float) -> None:
        marks[index] = (seen, elapsed)

    # the trainer's data path: the cache resident on the device where it fits, else the loader
    step_bytes = step_memory(s.model, s.pipeline, s.loss_fn, s.dev, config) if b.cuda else 0
    held = inputs.hold(config.resident_data, cache, cache.labels, b.device, step_bytes)
    timed = P.epoch_batches(len(cache), bs, batches, 1)
    loader = batch_source(held, cache, cache.labels, timed, workers, b.device)
    train_one_epoch(s.model, loader, s.pipeline, s.loss_fn, s.optimizer, s.dev, epoch=0,
                    progress=False, hooks=(mark,))  # fmt: skip
    # time between steps that read the device (CUDA's host runs ahead between them)
    synced = [i for i in sorted(marks) if (i + 1) % CHECK_EVERY == 0]
    first, last = (synced[0], synced[-1]) if len(synced) >= 2 else (1, max(marks))
    (seen0, t0), (seen1, t1) = marks[first], marks[last]
    e2e_ips = (seen1 - seen0) / (t1 - t0)
    return {
        "arch": arch, "px": config.img_size, "batch": bs, "amp": str(s.dev.amp_dtype or "fp32"),
        "channels_last": s.pipeline.channels_last, "workers": workers,
        "data path": "loader" if held is None else "resident",
        "data img/s": data_ips, "model img/s": model_ips, "end-to-end img/s": e2e_ips,
        "waiting on data": max(0.0, 1 - e2e_ips / model_ips),
        "epoch 50k s (end-to-end)": 50_000 / e2e_ips,
    }  # fmt: skip


def precision_rows(b: Bench, arch: str, compile: bool) -> list[dict]:
    """Model step alone: fp32, autocast, autocast + channels_last (+ torch.compile)."""
    config = b.recipe(arch)
    cache = b.cache(config, b.images)
    variants = [("fp32", "off", "off", False), ("amp", "auto", "off", False),
                ("amp + channels_last", "auto", "on", False)]  # fmt: skip
    if compile:
        variants.append(("amp + channels_last + compile", "auto", "on", True))
    rows = []
    for name, amp, cl, comp in variants:
        s = setup(b, config, amp, cl, comp)
        try:
            ips = model_only(b, s, cache, config.batch_size)
        except Exception as error:  # a compiler missing on this machine: say so, go on
            print(f"  {arch} {name} failed: {type(error).__name__}: {str(error)[:300]}")
            continue
        rows.append({"arch": arch, "px": config.img_size, "batch": config.batch_size,
                     "variant": name, "model img/s": ips})  # fmt: skip
    base = rows[0]["model img/s"]
    for row in rows:
        row["speed-up vs fp32"] = row["model img/s"] / base
        row["epoch 50k s (model)"] = 50_000 / row["model img/s"]
    return rows


# the CPU table's cells: (precision, memory format) as the settings spell them
CPU_VARIANTS = (
    ("fp32", "off", "contiguous", "off"),
    ("fp32", "off", "channels_last", "on"),
    ("bf16", "bf16", "contiguous", "off"),
    ("bf16", "bf16", "channels_last", "on"),
)


def cpu_rows(
    b: Bench, arch: str, px: int = 64, batch: int = 32, rounds: int = 3, steps: int = 3
) -> list[dict]:
    """A CPU's table: the training step and inference (no grad, eval mode) of ``arch`` at
    ``px`` and ``batch``, in float32 and bf16 autocast, contiguous (NCHW) and channels_last.

    The four cells are measured in turn, ``steps`` steps each, ``rounds`` times over, and
    each keeps its median round: on a machine others share, a burst of their work lands on
    every cell alike instead of on one. Random pixels through the recipe's pipeline (speed
    does not depend on the images), so the table needs no benchmark on disk.
    """
    config = b.recipe(arch, img_size=px, batch_size=batch)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch, px, px, 3), generator=g, dtype=torch.uint8)
    labels = torch.arange(batch) % 2
    rows = []
    for measured in ("train step", "inference"):
        cells = {}
        for precision, amp, layout, channels_last in CPU_VARIANTS:
            s = setup(b, config, amp, channels_last)
            x = s.pipeline(images.to(b.device), train=measured == "train step")
            if measured == "train step":
                cells[precision, layout] = (s, x, lambda s=s, x=x: train_step(s, x, labels))
            else:
                s.model.eval()
                cells[precision, layout] = (s, x, lambda s=s, x=x: _infer(s, x))
        speeds: dict[tuple[str, str], list[float]] = {key: [] for key in cells}
        for _ in range(rounds):
            for key, (_, _, step) in cells.items():
                speeds[key].append(measure.timed_steps(step, b.device, 0.0, warmup=1,
                                                       min_steps=steps))  # fmt: skip
        row = {"arch": arch, "px": px, "batch": batch, "threads": torch.get_num_threads(),
               "bf16 kernels": cpu_bf16() or "none", "measured": measured}  # fmt: skip
        for (precision, layout), values in speeds.items():
            row[f"{precision} {layout} img/s"] = float(np.median(values))
        best = max(speeds, key=lambda key: np.median(speeds[key]))
        row["fastest"] = " ".join(best)
        row["fastest / fp32 contiguous"] = (
            float(np.median(speeds[best])) / row["fp32 contiguous img/s"]
        )
        rows.append(row)
    return rows


def default_rows(b: Bench, arch: str, images: int = 0, px: int = 64, epochs: int = 2) -> list[dict]:
    """Whole ``fit()`` runs of ``arch`` at ``px`` on the benchmark (``images`` labelled ones,
    0 = all): the defaults (``amp`` and ``channels_last`` ``"auto"``) and the old CPU path
    (``amp="off"``, ``channels_last="off"``), one after the other in one process, each
    scored by its last epoch's images/s (the first warms up)."""
    rows = []
    for name, settings in (("defaults", {}), ("--amp off --channels-last off",
                                              {"amp": "off", "channels_last": "off"})):  # fmt: skip
        config = b.recipe(arch, img_size=px, epochs=epochs, train_images=images, **settings)
        with tempfile.TemporaryDirectory() as out:
            result = fit(config, out=out, progress=False)
            step = result.run.read_json("params").get("step", "")
        rows.append({"arch": arch, "px": px, "batch": config.batch_size, "settings": name,
                     "step": step, "images per epoch": len(result.data.train),
                     "last epoch img/s": float(result.history["images_per_s"].iloc[-1])})  # fmt: skip
    for row in rows:
        row["vs the old path"] = row["last epoch img/s"] / rows[-1]["last epoch img/s"]
    return rows


def thread_rows(b: Bench, arch: str, images: int = 0, px: int = 64, epochs: int = 2) -> list[dict]:
    """Whole ``fit()`` runs of ``arch`` with each count of intra-op threads (1 and every core
    this process may use) and of DataLoader workers (0, 1, 2), in one process, each scored
    by its last epoch's images/s: whether the cores are better spent on the model or on
    reading batches, and what the trainer's own choice (:func:`cpu_threads`,
    :func:`loader_workers`) gives."""
    before = torch.get_num_threads()
    chosen = (cpu_threads(), b.loader_workers())
    rows = []
    try:
        for threads in sorted({1, available_cores()}):
            for workers in (0, 1, 2):
                torch.set_num_threads(threads)
                config = b.recipe(arch, img_size=px, epochs=epochs, train_images=images,
                                  workers=workers)  # fmt: skip
                with tempfile.TemporaryDirectory() as out:
                    result = fit(config, out=out, progress=False)
                rows.append({"arch": arch, "px": px, "batch": config.batch_size,
                             "threads": threads, "workers": workers,
                             "trainer's choice": (threads, workers) == chosen,
                             "images per epoch": len(result.data.train),
                             "last epoch img/s": float(result.history["images_per_s"].iloc[-1])})  # fmt: skip
    finally:
        torch.set_num_threads(before)
    fastest = max(row["last epoch img/s"] for row in rows)
    for row in rows:
        row["vs the fastest"] = row["last epoch img/s"] / fastest
    return rows


def _infer(s: Setup, x: torch.Tensor) -> int:
    with torch.no_grad(), s.dev.autocast():
        s.model(x)
    return len(x)


def seed_vs_cache_rows(b: Bench, arch: str, seed_workers: int) -> list[dict]:
    """Same model, same images, same machine: the two pipelines alone and end to end."""
    config = b.recipe(arch, augment=("hflip",))
    bs = config.batch_size
    cache = b.cache(config, b.images)
    s = setup(b, config, config.amp, config.channels_last)
    cfg = s.model.default_cfg
    paths = [str(p) for p in cache.frame["path"]]
    seed = P.SeedStyleDataset(paths, cache.labels, config.img_size, cfg.mean, cfg.std,
                              filtered=config.filter not in ("", "none"))  # fmt: skip

    def seed_loader():
        return P.seed_style_loader(seed, bs, seed_workers, b.device)

    def cache_loader():
        order = P.epoch_batches(len(cache), bs, len(cache) // bs)
        return P.cache_batches(cache, order, b.loader_workers(), b.device)

    def seed_step(batch) -> int:
        x, y = (t.to(b.device, non_blocking=True) for t in batch)
        if s.pipeline.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return train_step(s, x, y)

    def cache_step(batch) -> int:
        images, y, _ = P.to_device(batch, b.device)
        return train_step(s, s.pipeline(images, train=True), y)

    runs = [
        ("seed-style (PIL + per-image filter, workers)", "data alone", seed_loader,
         P.seed_style_consumer(b.device)),
        ("dflib cache (memmap + device augment)", "data alone", cache_loader,
         P.cache_consumer(s.pipeline, b.device)),
        ("seed-style (PIL + per-image filter, workers)", "end-to-end", seed_loader, seed_step),
        ("dflib cache (memmap + device augment)", "end-to-end", cache_loader, cache_step),
    ]  # fmt: skip
    rows = []
    for name, what, loader, consume in runs:
        ips, images, seconds = measure.timed_iter(loader(), consume, b.device, budget=b.seconds)
        workers = seed_workers if name.startswith("seed") else b.loader_workers()
        rows.append({"pipeline": name, "measured": what, "arch": arch, "px": config.img_size,
                     "batch": bs, "workers": workers, "img/s": ips, "images timed": images})  # fmt: skip
    return rows


def predict_rows(b: Bench, arch: str, images: int) -> list[dict]:
    """Scoring a test set (the trainer's eval loader and ``evaluate``), with and without
    the flip test-time augmentation."""
    config = b.recipe(arch)
    cache = b.cache(config, images, split="test")
    s = setup(b, config, config.amp, config.channels_last)
    rows = []
    for tta in (False, True):
        loader = eval_loader(cache, cache.labels, np.arange(len(cache)), config.batch_size,
                             b.loader_workers(), b.device)  # fmt: skip
        evaluate(s.model, P.limited(loader, 2), s.pipeline, s.dev, tta=tta)  # warm-up
        measure.sync(b.device)
        with measure.Stopwatch() as watch:
            evaluate(s.model, loader, s.pipeline, s.dev, tta=tta)
            measure.sync(b.device)
        ips = len(cache) / watch.seconds
        rows.append({"arch": arch, "px": config.img_size,
                     "batch": eval_batch_size(config.batch_size, b.device),
                     "TTA": "flip" if tta else "none", "images scored": len(cache),
                     "seconds": watch.seconds, "img/s": ips, "10,000 images s": 10_000 / ips})  # fmt: skip
    return rows


def augment_sets(b: Bench, archs: list[str], px: int = 0) -> list[tuple[str, TrainConfig]]:
    """One recipe per distinct (augmentations, image size, batch size) among ``archs``."""
    seen, out = set(), []
    for arch in archs:
        config = b.recipe(arch, **({"img_size": px} if px else {}))
        key = (config.augment, config.img_size, config.batch_size)
        if config.augment and key not in seen:
            seen.add(key)
            out.append((arch, config))
    return out


def augment_rows(b: Bench, arch: str, config: TrainConfig) -> list[dict]:
    """Training augmentation alone, on float batches already on the device: kornia's
    pipeline (what DevicePipeline runs) and the batched formulations, the whole set and
    each op by itself, at the recipe's image size and batch size."""
    px, bs = config.img_size, config.batch_size
    g = torch.Generator(device=b.device).manual_seed(0)
    x = torch.randint(0, 256, (bs, 3, px, px), generator=g, device=b.device).float() / 255
    rows = []
    for op in ("all", *config.augment):
        names = config.augment if op == "all" else (op,)
        batched = BatchedAugment(names, px)
        batched.seed(0, 0, b.device)
        ops = {"kornia": build_augmentations(names, px).to(b.device), "batched": batched}
        for pipeline, module in ops.items():

            def step(module=module) -> int:
                with torch.no_grad():
                    module(x)
                return bs

            rows.append({"recipe": arch, "augment": "+".join(config.augment), "op": op,
                         "pipeline": pipeline, "px": px, "batch": bs,
                         "img/s": measure.timed_steps(step, b.device, b.seconds, 1, 2)})  # fmt: skip
    return rows


def epoch_rows(b: Bench, arch: str, compile: bool, images: int, epochs: int = 3) -> list[dict]:
    """Whole epochs of the trainer (``fit``) at the recipe: the first epoch (warm-up,
    CUDA-graph capture and compilation included) against the steady ones after it."""
    config = b.recipe(arch, epochs=epochs, train_images=images, compile=compile)
    with tempfile.TemporaryDirectory() as out:
        result = fit(config, out=out, progress=False)
        step = result.run.read_json("params").get("step", "")
    seconds = result.history["seconds"].to_numpy()
    steady = float(np.median(seconds[1:])) if len(seconds) > 1 else float("nan")
    n = len(result.data.train)
    return [{"arch": arch, "px": config.img_size, "batch": config.batch_size, "step": step,
             "images per epoch": n, "first epoch s": float(seconds[0]),
             "steady epoch s": steady, "first / steady": float(seconds[0]) / steady,
             "steady img/s": n / steady, "epoch 50k s (steady)": 50_000 * steady / n}]  # fmt: skip


def sync_rows(b: Bench, arch: str, steps: int = 8) -> list[dict]:
    """Host syncs left in the training step: ``steps`` steps of the engine at the recipe
    under ``torch.cuda.set_sync_debug_mode("warn")`` on each data path (the loader; the
    cache resident on the device), each warning traced to the dflib or kornia line that
    made it (one row per path and line, with its count). A CPU has no device to wait on:
    one row saying so."""
    config = b.recipe(arch)
    if not b.cuda:
        return [{"arch": arch, "steps": 0, "site": "none: not a CUDA device", "syncs": 0}]
    cache = b.cache(config, b.images)
    s = setup(b, config, config.amp, config.channels_last)
    batches = P.epoch_batches(len(cache), config.batch_size, steps)
    rows = []
    for path, held in (("loader", None),
                       ("resident", inputs.hold("on", cache, cache.labels, b.device))):  # fmt: skip
        loader = batch_source(held, cache, cache.labels, batches, b.loader_workers(), b.device)
        sites = _syncs(partial(train_one_epoch, s.model, loader, s.pipeline, s.loss_fn,
                               s.optimizer, s.dev, epoch=0, progress=False))  # fmt: skip
        row = {"arch": arch, "data path": path, "steps": steps}
        rows += [{**row, "site": site, "syncs": n} for site, n in sites.most_common()] or [
            {**row, "site": "none", "syncs": 0}]  # fmt: skip
    return rows


def _syncs(run) -> Counter[str]:
    """The host syncs ``run()`` makes, counted by the dflib or kornia line that made each."""
    sites: Counter[str] = Counter()

    def record(message, category, filename, lineno, file=None, line=None) -> None:
        ours = [f for f in traceback.extract_stack()[:-1]
                if "/dflib/" in f.filename or "/kornia/" in f.filename]  # fmt: skip
        where = ours[-1] if ours else None
        site = f"{Path(where.filename).name}:{where.lineno} {where.line}" if where else filename
        sites[site] += 1

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = record
        torch.cuda.set_sync_debug_mode("warn")
        try:
            run()
        finally:
            torch.cuda.set_sync_debug_mode(0)
    return sites
