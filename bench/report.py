"""``reports/benchmarks.md`` from the saved results of every device measured.

The targets come from the issue that asked for the benchmarks; each is marked met, not
met, or open (when the device it needs was not measured), with the numbers beside it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

TITLES = {
    "arch": ("Per architecture: data pipeline alone, model step alone, end to end",
             "At each recipe's image size, batch size, precision and memory format. *Data* = "
             "cache -> device-ready augmented batch; *model* = one optimisation step on a batch "
             "already on the device; *end-to-end* = the engine's `train_one_epoch` on cache "
             "batches. *Waiting on data* = 1 - end-to-end / model."),
    "precision": ("Precision, memory format and torch.compile (GPU, model step alone)", ""),
    "cpu": ("CPU: float32 and bf16 autocast, contiguous and channels_last",
            "Each architecture at 64 px, batch 32: the training step (forward, loss, backward, "
            "AdamW) and inference (eval mode, no grad), images/s. *bf16 kernels*: the CPU's "
            "native bf16 instructions (`dflib.runtime.cpu_bf16`: AMX, AVX512-BF16, or none, "
            "where bf16 is emulated). The four cells are timed in turn, a few steps each, "
            "three rounds, each keeping its median round. `amp=\"auto\"` and "
            "`channels_last=\"auto\"` on a CPU follow this table "
            "(`dflib.train.machine.uses_channels_last`)."),
    "defaults": ("The defaults against the old path: whole `fit()` runs",
                 "`fit()` of `--defaults-arch` at 64 px on the `--size` benchmark, 2 epochs, with "
                 "the defaults (`amp` and `channels_last` `\"auto\"`), then with `--amp off "
                 "--channels-last off` (float32, NCHW: the CPU's path before bf16), in one "
                 "process; *last epoch img/s* = the second epoch's (the first warms up). Target on "
                 "a CPU with native bf16: >= 1.5x."),
    "threads": ("CPU threads and loader workers: whole `fit()` runs",
                "`fit()` of `--defaults-arch` at 64 px on the `--size` benchmark, 2 epochs, with "
                "1 intra-op thread and with every core this process may use, each with 0, 1 "
                "and 2 DataLoader workers, in one process; *last epoch img/s* = the second "
                "epoch's. *trainer's choice* marks what `fit()` picks by itself "
                "(`dflib.train.machine.cpu_threads`, `loader_workers`)."),
    "syncs": ("Host syncs left in the training step",
              "A few engine steps under `torch.cuda.set_sync_debug_mode(\"warn\")`, each "
              "synchronising call traced to its dflib or kornia line (kornia draws its random "
              "parameters on the host). The engine's own read once per 16 steps is expected."),
    "seed": ("The cache pipeline against the seed-style pipeline",
             "Seed-style = PIL decode + Resize + per-image scipy coherent filter + flip + "
             "ToTensor + Normalize in DataLoader workers, every epoch. Same model, images, batch "
             "and machine."),
    "predict": ("Prediction throughput (test set, with and without flip TTA)",
                "The trainer's eval loader and `evaluate`, untrained weights (speed does not "
                "depend on them)."),
    "cost": ("Cost curves: cache build, epoch and resident memory against data size",
             "Each size in a fresh process; the cache is built from the PNGs into an empty "
             "folder. *Peak anonymous* is what the process allocates; *peak RSS incl. mapped "
             "cache* also counts the memory-mapped cache's pages, which are the kernel's page "
             "cache (dropped under memory pressure, not held by the process)."),
    "augment": ("Training augmentation alone: kornia against the batched formulations",
                "Float batches already on the device, at each recipe's image size and batch "
                "size: the whole set and each op by itself. *kornia* = what `DevicePipeline` "
                "runs; *batched* = `bench/batched_augment.py` (one grid_sample for crop + "
                "flip, per-sample colour factors, one grouped convolution for blur, one blend "
                "for sharpness), not wired into training until these rows show it pays."),
    "epochs": ("Whole epochs: the first (warm-up, capture, compilation) against the steady ones",
               "`fit()` at the recipe on a subset of the training images (`--epochs-images`), "
               "eager and with `compile=True` (`reduce-overhead`: CUDA graphs on one GPU); "
               "*steady* = the median of the epochs after the first. Target: first <= 1.3x "
               "steady."),
}  # fmt: skip


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def render(paths: list[Path]) -> str:
    results = [json.loads(p.read_text()) for p in paths]
    lines = ["# Benchmarks", ""]
    if not results:
        return "\n".join([*lines, "No results yet: run `python bench/run.py`."])
    lines += ["Produced by `python bench/run.py` on each device below (`--render-only` rebuilds "
              "this page from `reports/benchmarks/*.json`).", "",
              "| device | torch | cores | threads | benchmark | measured | command |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in results:
        e = r["environment"]
        lines.append(f"| {e['device']} | {e['torch']} | {e['cores']} | {e['torch_threads']} | "
                     f"{e['benchmark']} | {e['date']} | `{r.get('command', '')}` |")  # fmt: skip
    lines += ["", "## Targets", "", *targets(results), ""]
    for key, (title, note) in TITLES.items():
        frames = [pd.DataFrame(r["sections"][key]).assign(device=r["environment"]["device"])
                  for r in results if r["sections"].get(key)]  # fmt: skip
        lines += [f"## {title}", ""]
        if note:
            lines += [note, ""]
        if not frames:
            needs = {"precision": " (needs a GPU)", "cpu": " (needs a CPU run)"}.get(key, "")
            lines += [f"Not measured{needs}.", ""]
            continue
        frame = pd.concat(frames, ignore_index=True)
        frame = frame[["device", *[c for c in frame.columns if c != "device"]]]
        lines += [frame.to_markdown(index=False, floatfmt=".3g"), "", *_gaps(results, key)]
    return "\n".join(lines)


def _gaps(results: list[dict], key: str) -> list[str]:
    """Architectures a device measured in the first table but not in this one (a run
    stopped by its time limit keeps the tables it finished)."""
    if key not in ("precision",):
        return []
    out = []
    for r in results:
        if r["environment"]["device_type"] != "cuda":
            continue
        every = [row["arch"] for row in r["sections"].get("arch", [])]
        done = {row["arch"] for row in r["sections"].get(key, [])}
        missing = [a for a in every if a not in done]
        if missing:
            out += [f"Not measured on {r['environment']['device']}: {', '.join(missing)} (the run "
                    "ended before them).", ""]  # fmt: skip
    return out


def _rows(results: list[dict], section: str, device_type: str) -> list[tuple[str, dict]]:
    return [(r["environment"]["device"], row) for r in results
            if r["environment"]["device_type"] == device_type
            for row in r["sections"].get(section, [])]  # fmt: skip


def targets(results: list[dict]) -> list[str]:
    out = ["| target | measured | verdict |", "|---|---|---|"]
    # 1. cache >= 5x seed-style on a CPU
    seed = {(row["pipeline"].split(" ")[0], row["measured"]): row["img/s"]
            for _, row in _rows(results, "seed", "cpu")}  # fmt: skip
    if ("dflib", "data alone") in seed and ("seed-style", "data alone") in seed:
        ratio = seed[("dflib", "data alone")] / seed[("seed-style", "data alone")]
        e2e = seed.get(("dflib", "end-to-end"), 0) / max(
            seed.get(("seed-style", "end-to-end"), 0), 1e-9
        )
        out.append(f"| cache pipeline >= 5x the seed-style pipeline's images/s (CPU) | data "
                   f"alone {ratio:.1f}x ({seed[('dflib', 'data alone')]:.0f} vs "
                   f"{seed[('seed-style', 'data alone')]:.0f} img/s); end to end with the model "
                   f"{e2e:.1f}x | {'met' if ratio >= 5 else 'not met'} |")  # fmt: skip
    else:
        out.append("| cache pipeline >= 5x the seed-style pipeline's images/s (CPU) | - | open |")
    # 2. GPU end-to-end within 10% of model-only
    rows = _rows(results, "arch", "cuda")
    if rows:
        slow = [f"{row['arch']} {row['end-to-end img/s'] / row['model img/s']:.2f}" for _, row in rows
                if row["end-to-end img/s"] < row["model img/s"] / 1.10]  # fmt: skip
        worst = min(row["end-to-end img/s"] / row["model img/s"] for _, row in rows)
        out.append(f"| GPU end-to-end epoch within 10% of the model-only time, every architecture "
                   f"| end-to-end / model from {worst:.2f} ({len(rows)} archs){'; below 0.91: ' + ', '.join(slow) if slow else ''} "
                   f"| {'met' if not slow else 'not met'} |")  # fmt: skip
    else:
        out.append(
            "| GPU end-to-end epoch within 10% of the model-only time | no GPU measured | open |"
        )
    # 3. XceptionResNet50 epoch over 50,000 images at 196 px < 30 s on an H100-class GPU
    epochs = [(dev, row) for dev, row in _rows(results, "cost", "cuda")
              if row["arch"] == "xception_resnet50" and row["images"] >= 50_000]  # fmt: skip
    if epochs:
        dev, row = epochs[0]
        out.append(f"| XceptionResNet50 epoch, 50,000 images at {row['px']} px, < 30 s (H100-class) "
                   f"| {row['epoch s']:.1f} s on {dev} | {'met' if row['epoch s'] < 30 else 'not met'} |")  # fmt: skip
    else:
        out.append(
            "| XceptionResNet50 epoch, 50,000 images at 196 px, < 30 s (H100-class) | no GPU measured | open |"
        )
    # 4. resident memory flat in data size
    for r in results:
        cost = r["sections"].get("cost") or []
        if len(cost) >= 2:
            small, large = cost[0], cost[-1]
            growth = large["peak anonymous MiB"] / small["peak anonymous MiB"]
            data = large["images"] / small["images"]
            out.append(f"| resident memory flat in data size ({r['environment']['device']}) | peak "
                       f"anonymous {small['peak anonymous MiB']:.0f} MiB at {small['images']:,} images, "
                       f"{large['peak anonymous MiB']:.0f} MiB at {large['images']:,} ({growth:.2f}x for "
                       f"{data:.0f}x the data) | {'met' if growth <= 1.25 else 'not met'} |")  # fmt: skip
    # 5. augmentation >= 20,000 img/s at 256 px on a GPU (write-up 2's sets), the faster pipeline
    best: dict[tuple[str, str], float] = {}
    for dev, row in _rows(results, "augment", "cuda"):
        if row["op"] == "all" and row["px"] >= 256:
            key = (dev, row["augment"])
            best[key] = max(best.get(key, 0.0), row["img/s"])
    if best:
        worst = min(best.values())
        out.append(f"| augmentation >= 20,000 img/s at 256 px (GPU) | slowest set {worst:,.0f} img/s "
                   f"({len(best)} sets, faster of kornia and batched) | "
                   f"{'met' if worst >= 20_000 else 'not met'} |")  # fmt: skip
    else:
        out.append("| augmentation >= 20,000 img/s at 256 px (GPU) | no GPU measured | open |")
    # 6. FreqNet's defaults >= 1.5x the old float32 NCHW path on a CPU with native bf16
    for dev, row in _rows(results, "defaults", "cpu"):
        if row["settings"] == "defaults":
            # with native bf16: 1.5x; without, the defaults are the old path (noise aside)
            bf16 = "bfloat16" in row["step"]
            goal, floor = ("1.5x", 1.5) if bf16 else ("not slower than", 0.95)
            verdict = "met" if row["vs the old path"] >= floor else "not met"
            out.append(f"| {row['arch']} defaults {goal} `--amp off --channels-last off`, 2nd "
                       f"epoch (CPU {'with' if bf16 else 'without'} native bf16) | "
                       f"{row['vs the old path']:.2f}x ({row['last epoch img/s']:.0f} img/s; "
                       f"{row['step']}) on {dev} | {verdict} |")  # fmt: skip
    return out


def goals(results: list[dict]) -> str:
    """The figures the GPU-speed goals need, from every device's results, in one table:
    XceptionResNet50 end to end at its recipe (196 px, batch 32), end-to-end / model per
    architecture, augmentation img/s at 256 px and the first / steady epoch."""
    rows = []
    for dev, row in _rows(results, "arch", "cuda") + _rows(results, "arch", "cpu"):
        ratio = row["end-to-end img/s"] / row["model img/s"]
        rows.append((dev, f"{row['arch']} end to end at {row['px']} px / batch {row['batch']}",
                     f"{row['end-to-end img/s']:,.0f} img/s, {ratio:.2f} of model-only"))  # fmt: skip
    for dev, row in _rows(results, "augment", "cuda") + _rows(results, "augment", "cpu"):
        if row["op"] == "all":
            rows.append((dev, f"augmentation {row['augment']} ({row['pipeline']}) at {row['px']} "
                         f"px", f"{row['img/s']:,.0f} img/s"))  # fmt: skip
    for dev, row in _rows(results, "epochs", "cuda") + _rows(results, "epochs", "cpu"):
        rows.append((dev, f"{row['arch']} first / steady epoch ({row['step']})",
                     f"{row['first / steady']:.2f} ({row['first epoch s']:.1f} s / "
                     f"{row['steady epoch s']:.1f} s)"))  # fmt: skip
    lines = ["| device | figure | value |", "|---|---|---|"]
    lines += [f"| {dev} | {what} | {value} |" for dev, what, value in rows]
    return "\n".join(lines if rows else [*lines, "| - | nothing measured yet | - |"])
