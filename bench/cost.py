"""Cost curves: how cache building, an epoch and resident memory grow with the data.

Each size runs in a fresh process (``run.py --cost-child N``) so that its peak memory is
its own. The cache is built into a temporary folder, timed from nothing, and deleted
afterwards. On a GPU the epoch is a full training epoch of the recipe (the engine's
``train_one_epoch``); on a CPU, where a 196 px model epoch over 50,000 images takes
hours, it is the data pipeline's epoch (cache -> device-ready augmented batches).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from dflib.data import load_split
from dflib.data.cache import build_cache
from dflib.environment import cache_dir
from dflib.train.inputs import preprocess_for, subsample
from dflib.train.loop import train_one_epoch

import measure
import pipelines as P
import tables as T


def cost_row(b: T.Bench, arch: str, n: int) -> dict:
    """Build the cache of ``n`` images from the PNGs, then run one epoch over them."""
    config = b.recipe(arch)
    table = subsample(load_split("synthetic", "train", synthetic_size=b.synthetic_size), n, 0)
    root = cache_dir() / "bench"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp, measure.PeakMemory() as memory:
        with measure.Stopwatch() as build:
            cache = build_cache(table, config.img_size, preprocess_for(config), root=tmp,
                                progress=b.progress)  # fmt: skip
        batches = P.epoch_batches(len(cache), config.batch_size, len(cache) // config.batch_size)
        loader = P.cache_batches(cache, batches, b.loader_workers(), b.device)
        s = T.setup(b, config, config.amp, config.channels_last)
        with measure.Stopwatch() as epoch:
            if b.cuda:
                stats = train_one_epoch(s.model, loader, s.pipeline, s.loss_fn, s.optimizer,
                                        s.dev, epoch=0, progress=b.progress)  # fmt: skip
                images = stats["images"]
            else:
                _, images, _ = measure.timed_iter(loader, P.cache_consumer(s.pipeline, b.device),
                                                  b.device, warmup=0)  # fmt: skip
            measure.sync(b.device)
        cache_gib = cache.array.nbytes / 2**30
        del cache, loader
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "arch": arch, "px": config.img_size, "images": len(table),
        "epoch": "training (model)" if b.cuda else "data pipeline only",
        "cache build s": build.seconds, "build img/s": len(table) / build.seconds,
        "epoch s": epoch.seconds, "epoch img/s": images / epoch.seconds,
        "cache GiB": cache_gib, "peak anonymous MiB": memory.anon_mib,
        "peak RSS incl. mapped cache MiB": measure.PeakMemory.total_mib(),
        "largest worker MiB": children,
    }  # fmt: skip


def cost_rows(argv_base: list[str], sizes: list[int], timeout: float) -> list[dict]:
    """Each size in its own process (this script with ``--cost-child``)."""
    rows = []
    for n in sizes:
        command = [sys.executable, str(Path(__file__).with_name("run.py")), *argv_base,
                   "--cost-child", str(n)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-4000:], file=sys.stderr)
            raise RuntimeError(f"the cost-curve process for {n} images failed")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  cost curve {n:>6} images: build {row['cache build s']:.1f} s, epoch "
              f"{row['epoch s']:.1f} s, peak anonymous {row['peak anonymous MiB']:.0f} MiB",
              flush=True)  # fmt: skip
        rows.append(row)
    return rows
