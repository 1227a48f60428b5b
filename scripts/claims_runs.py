"""Train every run that the claims of ``docs/writeups.md#findings`` need (``dflib.study.claims``).

Each run is found or trained by ``dflib.train.plan`` (through ``scripts/campaign.py``) into ``<out-dir>/<name>`` (``claims-arch-freqnet-s42``,
``claims-median-freqnet-global_median-s43``, ...; a regime other than the short demo one,
64 px and 3 epochs, is in the name: ``claims-arch-freqnet-s42-full-196px-10e-20000``). A
run finished in ``<out-dir>`` or already in the ledger ``reports/runs/`` (same role, seed
and regime) is skipped and an unfinished one resumed from its ``last.pt``, so the script
can be started again after a time limit, on this machine or on a clean clone. ``--budget-min`` stops starting new runs once that much time has passed;
``--export DIR`` writes each finished run's ledger entry (``scripts/ledger.py``: json/csv
files, predictions gzipped, no weights) to ``DIR/<name>`` as soon as it ends, so it comes
back even when the machine is taken away (``--export reports/runs``: straight into the
ledger); ``--export FILE.tar.gz`` rewrites one archive of every finished run's entry after
each run instead (a machine that returns only a few files returns that one), which
``python scripts/ledger.py import FILE.tar.gz`` unpacks into ``reports/runs/``.

    python scripts/claims_runs.py --dry-run                           # the plan, nothing trained
    python scripts/claims_runs.py --out-dir runs --seeds 3 --epochs 10
    python scripts/claims_runs.py --only 'claims-median-*' 'claims-arch-freqnet-*'
    python scripts/claims_runs.py --epochs 30 --early-stopping 5 --early-stopping-metric auc
    python scripts/claims_runs.py --budget-min 8 --export "$OUT/claims_runs.tar.gz"  # rented GPU
    python scripts/claims_runs.py --jobs 2 --export "$OUT/claims_runs.tar.gz"        # 2 at once
    python scripts/ledger.py import claims_runs*.tar.gz && make results              # back here

Cost measured on one H100 (demo benchmark, 5,280 training images, 64 px, each recipe's batch,
bf16), seconds per epoch after the first: freqnet 4-5, resnet50 6, hybrid 7, xception_resnet50
11, deepfakenet 12, custom_resnet 14, rgb_fft 15, hrnet_artifact 23; each run adds 10-25 s
(first epoch: cuDNN autotuning, caches; validation and test predictions). One seed of the whole
plan (13 runs) is about 2 min per epoch plus 3 min; the freqnet/resnet50 comparisons alone
(7 runs per seed) about 35 s per epoch plus 1.5 min.

Then ``make results`` (``scripts/results.py``, the functions of notebook 15) reads the
ledger and writes ``reports/leaderboard.md`` and ``reports/claims.md``; notebook 15 reads
any runs folder (``-p runs_dir reports/runs``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from dflib.environment import output_dir, resolve_path
from dflib.study.claims import CLAIM_ARCH, arm_of, claims_plan
from dflib.train.config import STOP_METRICS
from dflib.train.plan import PlannedRun
from dflib.train.runs import ledger_root

from campaign import ARCHIVE_SUFFIXES, already_trained, train_plan


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--size", default="demo", help="embedded benchmark preset (demo: 6,000 at 64 px)"
    )
    p.add_argument("--img-size", type=int, default=64, help="px for every run (0: each recipe's)")
    p.add_argument("--epochs", type=int, default=10, help="main-stage epochs for every run")
    p.add_argument("--train-images", type=int, default=0, help="labelled images (0: the preset's)")
    p.add_argument("--early-stopping", type=int, default=0, metavar="N",
                   help="stop a run after N epochs without a better validation score "
                   "(0: off; --epochs is then every run's cap); part of the regime and the "
                   "run names (-es<N><metric>)")  # fmt: skip
    p.add_argument("--early-stopping-metric", choices=STOP_METRICS, default=None,
                   help="the validation score early stopping watches (default f1: F1 at 0.5; "
                   "auc: threshold-free, for sampler-trained models whose F1 at 0.5 sits at "
                   "the call-everything-fake level)")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=0, help="batch for every run (0: recipe's)")
    p.add_argument("--seeds", type=int, default=3, help="seeds 42, 43, ... (3 to decide a claim)")
    p.add_argument("--claim-arch", default=CLAIM_ARCH, help="model of the balance/median runs")
    p.add_argument("--archs", nargs="*", help="architectures of the arch group (default: all)")
    p.add_argument("--only", nargs="*", help="run-name globs or substrings to keep")
    p.add_argument("--out-dir", default="", help="runs folder (default: runs/ or $DFLIB_RUNS)")
    p.add_argument("--export", default="",
                   help="each finished run's ledger entry into this folder, or one .tar.gz")  # fmt: skip
    p.add_argument("--budget-min", type=float, default=0, help="start no run after this (0: off)")
    p.add_argument("--deadline-min", type=float, default=0,
                   help="start no run expected to end after this: as long as the longest of "
                   "its kind so far (0: off)")  # fmt: skip
    p.add_argument("--jobs", type=int, default=1,
                   help="train in this many processes at once, the runs still to train dealt "
                   "out in turn, each process with its own archive (FILE-<i>.tar.gz): several "
                   "small-batch runs on one GPU use more of it than one")  # fmt: skip
    p.add_argument("--share", type=int, default=-1, help=argparse.SUPPRESS)  # a --jobs process
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True,
                   help="mixed precision where native: bf16 or fp16 on a GPU, bf16 on a CPU with AMX or AVX512-BF16")  # fmt: skip
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True,
                   help="NHWC where it is faster: a GPU, a CPU with native bf16")  # fmt: skip
    p.add_argument("--compile", action="store_true", help="torch.compile every model")
    p.add_argument("--progress", action="store_true", help="tqdm bars")
    p.add_argument("--dry-run", action="store_true", help="print the plan, train nothing")
    args = p.parse_args(argv)
    if args.early_stopping_metric and not args.early_stopping:
        p.error(
            f"--early-stopping-metric {args.early_stopping_metric} needs --early-stopping N "
            "(N > 0: the epochs without a better score before a run stops)"
        )
    if args.early_stopping < 0:
        p.error(f"--early-stopping {args.early_stopping}: expected 0 (off) or a number of epochs")
    return args


def plan_from(args: argparse.Namespace):
    return claims_plan(
        args.seeds, size=args.size, img_size=args.img_size, epochs=args.epochs,
        train_images=args.train_images, batch_size=args.batch_size, archs=args.archs,
        early_stopping=args.early_stopping,
        early_stopping_metric=args.early_stopping_metric or "f1",
        claim_arch=args.claim_arch, only=args.only, device=args.device, amp=args.amp,
        channels_last=args.channels_last, compile=args.compile,
    )  # fmt: skip


def describe(plan: list[PlannedRun]) -> list[dict]:
    """One plain row per run (for ``--dry-run``)."""
    return [
        {"name": r.name, "arch": r.arch, "group": arm_of(r)["group"], "seed": r.seed,
         "changes": ", ".join(f"{k}={v}" for k, v in r.changes.items()) or "recipe",
         "filter": r.config.filter, "loss": r.config.loss + ("" if r.config.class_weighting
                                                             else " (unweighted)"),
         "sampler": "balanced" if r.config.balanced_sampler else "-",
         "px": r.config.img_size, "batch": r.config.batch_size, "epochs": r.config.total_epochs,
         "stop": (f"{r.config.early_stopping} on val {r.config.early_stopping_metric}"
                  if r.config.early_stopping else "-")}
        for r in plan
    ]  # fmt: skip


def print_plan(plan, root: Path) -> None:
    table = pd.DataFrame(describe(plan))
    ledger = ledger_root()
    done = [already_trained(r, root, ledger) for r in plan]
    table.insert(1, "state", ["finished" if d else "to train" for d in done])
    with pd.option_context("display.width", 250, "display.max_rows", 500,
                           "display.max_colwidth", 60):  # fmt: skip
        print(table.to_string(index=False))
    per_arch = Counter(r.arch for r in plan)
    print(f"\n{len(plan)} runs ({sum(done)} finished) into {root}:")
    for arch, n in sorted(per_arch.items(), key=lambda kv: -kv[1]):
        print(f"  {arch:34s} {n:3d} runs")
    if plan:
        c = plan[0].config
        images = c.train_images or "all"
        sizes = sorted({r.config.img_size for r in plan})
        px = (
            f"{sizes[0]} px"
            if len(sizes) == 1
            else f"each recipe's size ({sizes[0]}-{sizes[-1]} px)"
        )
        stop = (f" (at most; early stopping {c.early_stopping} on val "
                f"{c.early_stopping_metric})" if c.early_stopping else "")  # fmt: skip
        print(f"each run: {c.synthetic_size} benchmark, {images} labelled images, {px}, "
              f"{c.total_epochs} epochs{stop}")  # fmt: skip


def share_export(export: str, share: int) -> str:
    """A ``--jobs`` process's export: its own archive (``x.tar.gz`` -> ``x-1.tar.gz``), as
    two processes rewriting one would lose each other's runs; a folder is shared."""
    for suffix in ARCHIVE_SUFFIXES:
        if export.endswith(suffix):
            return f"{export.removesuffix(suffix)}-{share}{suffix}"
    return export


def run_jobs(args: argparse.Namespace, argv: list[str], plan, root: Path) -> int:
    """``args.jobs`` processes of this script at once, each on its share of the runs still
    to train, dealt out in turn so each share holds every kind; the worst exit code."""
    ledger = ledger_root()
    todo = [r.name for r in plan if not already_trained(r, root, ledger)]
    shares = [names for names in (todo[i :: args.jobs] for i in range(args.jobs)) if names]
    processes = []
    for i, names in enumerate(shares):
        command = [sys.executable, str(Path(__file__).resolve()), *argv, "--jobs", "1",
                   "--share", str(i), "--out-dir", str(root), "--only", *names]  # fmt: skip
        if args.export:
            command += ["--export", share_export(args.export, i)]
        print(f"process {i}: {len(names)} runs", flush=True)
        processes.append(subprocess.Popen(command))
    return max((p.wait() for p in processes), default=0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    root = resolve_path(args.out_dir) if args.out_dir else output_dir()
    plan = plan_from(args)
    if args.share < 0:
        print_plan(plan, root)
    if args.dry_run:
        return 0
    if args.jobs > 1:
        return run_jobs(args, argv, plan, root)
    start = time.perf_counter()
    export = resolve_path(args.export) if args.export else None
    states = train_plan(plan, root, budget_min=args.budget_min, deadline_min=args.deadline_min,
                        export=export, ledger=ledger_root(), progress=args.progress)  # fmt: skip
    failed = [s["name"] for s in states if s["state"] == "failed"]
    left = sum(s["state"] == "not started" for s in states)
    print(f"all done in {(time.perf_counter() - start) / 60:.1f} min; {left} not started; "
          f"{len(failed)} failed{': ' + ', '.join(failed) if failed else ''}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
