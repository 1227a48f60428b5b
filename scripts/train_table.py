"""Train every architecture at the same data size, image size and epochs; write the table.

The runs (``runs/table-<arch>``) are a plan of ``dflib.train.plan``: a run that already
finished at these settings is reused and an unfinished one resumed, so an interrupted
table continues where it stopped; each missing one is trained through its architecture's
training notebook (papermill), so the executed notebooks land in ``reports/training/``
beside the table ``reports/training.md``. Each finished run's ledger entry goes to
``reports/runs/`` (``--export``), so ``make results`` re-makes the table on any clone.

    python scripts/train_table.py                                  # CPU size: demo set, 64 px, 3 epochs
    python scripts/train_table.py --size full --train-images 20000 --img-size 0 --epochs 10  # GPU size
    python scripts/train_table.py --only xception_resnet50 resnet50
    python scripts/train_table.py --table-only                     # rebuild the table from runs/
    python scripts/train_table.py --table-only --runs reports/runs # from the ledger (make results)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import papermill

from dflib.environment import output_dir, project_root
from dflib.study.leaderboard import TABLE_PREFIX, runs_command, table_runs, write_table
from dflib.train import reference
from dflib.train.config import get_recipe, list_recipes
from dflib.train.plan import PlannedRun, ensure_planned
from dflib.train.runs import LEDGER, RunFolder

from ledger import write_entry

ROOT = project_root()


def notebook_for(arch: str) -> Path:
    return ROOT / "notebooks" / f"{reference(arch).notebook}.ipynb"


def table_plan(args: argparse.Namespace) -> list[PlannedRun]:
    """One run per architecture (``--only``'s, else every recipe's) at the table's size; a
    finished run of the name is reused only at the same settings."""
    settings = {"synthetic_size": args.size, "train_images": args.train_images,
                "epochs": args.epochs, "finetune_epochs": 0, "seed": args.seed}  # fmt: skip
    if args.img_size:
        settings["img_size"] = args.img_size
    return [PlannedRun(f"{args.prefix}-{arch}", get_recipe(arch, **settings), same=tuple(settings))
            for arch in args.only or list_recipes()]  # fmt: skip


def train_in_notebook(planned: PlannedRun, run: RunFolder, resume: bool, progress: bool) -> None:
    """Train ``planned`` by executing its architecture's training notebook into
    ``reports/training/`` (the notebook resumes an unfinished run itself)."""
    c = planned.config
    executed = ROOT / "reports" / "training" / f"{reference(c.arch).notebook}-{c.arch}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    parameters = {"arch": c.arch, "synthetic_size": c.synthetic_size,
                  "train_images": c.train_images, "img_size": c.img_size, "epochs": c.epochs,
                  "finetune_epochs": c.finetune_epochs, "out": str(run.root), "resume": True,
                  "seed": c.seed}  # fmt: skip
    start = time.perf_counter()
    print(f"{c.arch}: training ({notebook_for(c.arch).name} -> {executed})", flush=True)
    papermill.execute_notebook(str(notebook_for(c.arch)), str(executed), parameters=parameters,
                               cwd=str(ROOT / "notebooks"), progress_bar=False)  # fmt: skip
    print(f"{c.arch}: done in {(time.perf_counter() - start) / 60:.1f} min", flush=True)


def train_all(args: argparse.Namespace) -> None:
    ensure_planned(table_plan(args), train=train_in_notebook)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="demo", help="embedded benchmark preset")
    parser.add_argument("--train-images", type=int, default=6000, help="labelled images used")
    parser.add_argument(
        "--img-size", type=int, default=64, help="px for every model (0: each recipe's)"
    )
    parser.add_argument(
        "--epochs", type=int, default=3, help="epochs for every model (no fine-tuning)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--prefix", default=TABLE_PREFIX, help="run folders are runs/<prefix>-<arch>"
    )
    parser.add_argument("--only", nargs="*", help="these architectures only")
    parser.add_argument("--table-only", action="store_true", help="no training: table from runs")
    parser.add_argument("--runs", default="",
                        help="with --table-only: the runs folder or ledger read (default: runs/)")  # fmt: skip
    parser.add_argument("--export", default=LEDGER,
                        help="each finished run's ledger entry into this folder ('': none)")  # fmt: skip
    parser.add_argument("--out", default="reports/training.md", help="the table's file")
    args = parser.parse_args(argv)
    if not args.table_only:
        train_all(args)
    source = args.runs if args.table_only and args.runs else output_dir()
    runs = [r for r in table_runs(source, args.prefix)
            if not args.only or r.name.removeprefix(f"{args.prefix}-") in args.only]  # fmt: skip
    if not runs:
        print(f"train_table: no finished {args.prefix}-<arch> run in {source}; nothing written.",
              file=sys.stderr)  # fmt: skip
        return 1
    if not args.table_only and args.export:
        for run in runs:
            print(f"{run.root} -> {write_entry(run, args.export)}")
    print(write_table(runs, runs_command(runs, args.prefix), ROOT / args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
