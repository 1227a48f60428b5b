"""dflib's speed benchmarks: one command, one table per question, ratios measured side
by side in the same run.

    python bench/run.py                     # measure on this machine, then write the report
    python bench/run.py --quick             # a smoke run of every table (minutes)
    python bench/run.py --render-only       # rebuild reports/benchmarks.md from saved results
    python bench/run.py --sections cpu,defaults --size smoke --merge
                                            # a CPU's precision x memory format table and
                                            # fit() with the defaults against the old path

Each run saves its numbers to ``reports/benchmarks/<device>.json``; the report puts the
results of every device measured (the CPU, a GPU) side by side and marks the targets
met or not met. Run it alone: other jobs on the same cores change every number.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import torch

from dflib.environment import cpu_name, split_names
from dflib.models import list_models
from dflib.runtime import resolve_device

import cost
import report
import tables as T

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "reports" / "benchmarks"
DEFAULT_OUT = str(ROOT / "reports" / "benchmarks.md")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 (default auto)")
    p.add_argument("--size", default="full", help="benchmark preset whose PNGs are read (full)")
    p.add_argument("--archs", default="", help="comma-separated (default: every architecture)")
    p.add_argument("--seconds", type=float, default=0, help="time per measurement (CPU 6, GPU 4)")
    p.add_argument("--images", type=int, default=2048, help="cached images per measurement")
    p.add_argument("--batch-size", type=int, default=0, help="0: each recipe's batch size")
    p.add_argument("--workers", type=int, default=-1, help="cache loader workers (-1: trainer's)")
    p.add_argument("--seed-workers", type=int, default=2, help="seed-style DataLoader workers")
    p.add_argument("--seed-arch", default="freqnet", help="model of the pipeline comparison")
    p.add_argument("--predict-archs", default="xception_resnet50,freqnet")
    p.add_argument("--predict-images", type=int, default=0, help="0: 10,000 on GPU, 1,000 on CPU")
    p.add_argument("--compile-archs", default="xception_resnet50", help="torch.compile on GPU")
    p.add_argument("--cost-arch", default="xception_resnet50")
    p.add_argument("--cost-sizes", default="1000,5000,20000,50000")
    p.add_argument("--augment-archs", default="", help="augment section (default: every recipe)")
    p.add_argument("--augment-px", type=int, default=0, help="augment image size (0: recipe's)")
    p.add_argument("--epochs-archs", default="xception_resnet50",
                   help="epochs section: whole fit() epochs, eager and compiled")  # fmt: skip
    p.add_argument("--epochs-images", type=int, default=0, help="0: 5,000 on GPU, 256 on CPU")
    p.add_argument("--sections", default="arch,precision,cpu,seed,predict,cost,augment",
                   help="comma-separated; epochs (first vs steady epoch of fit), defaults "
                   "(fit() with the defaults against the old CPU path) and threads (threads x "
                   "loader workers on a CPU) on request")  # fmt: skip
    p.add_argument("--cpu-px", type=int, default=64, help="cpu section: image size (64)")
    p.add_argument("--cpu-batch", type=int, default=32, help="cpu section: batch size (32)")
    p.add_argument("--cpu-rounds", type=int, default=3, help="cpu section: rounds per cell")
    p.add_argument("--cpu-steps", type=int, default=3, help="cpu section: steps per round")
    p.add_argument("--defaults-arch", default="freqnet",
                   help="defaults and threads sections (on request): fit() with the "
                   "defaults against --amp off --channels-last off, and with 1 or every "
                   "core's threads x 0-2 loader workers (CPU), 2 epochs at 64 px on --size")  # fmt: skip
    p.add_argument("--defaults-images", type=int, default=0, help="0: the whole --size")
    p.add_argument("--quick", action="store_true", help="2 archs, short timings, small curves")
    p.add_argument("--dry", action="store_true",
                   help="run the GPU-only tables (precision) on any device: the GPU call's "
                   "sections checked on a CPU")  # fmt: skip
    p.add_argument("--goals", action="store_true",
                   help="print the GPU-speed goals' figures from the saved results, then stop")  # fmt: skip
    p.add_argument("--sync-steps", type=int, default=8, help="syncs section: steps watched")
    p.add_argument("--tag", default="", help="results file name (default: cpu or the GPU)")
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--results", default=str(RESULTS), help="folder of the saved results")
    p.add_argument("--render-only", action="store_true")
    p.add_argument(
        "--merge",
        action="store_true",
        help="replace only the measured architectures' rows in the saved results "
        "(re-measure one row that other work disturbed)",
    )
    p.add_argument("--cost-child", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:  # defaults of a smoke run; explicit options win
        given = {a.split("=")[0] for a in (sys.argv[1:] if argv is None else argv)}
        quick = {"--archs": ("archs", "freqnet,rgb_fft"), "--seconds": ("seconds", 1.5),
                 "--images": ("images", 256), "--predict-images": ("predict_images", 256),
                 "--predict-archs": ("predict_archs", "freqnet"),
                 "--cost-sizes": ("cost_sizes", "200,800"), "--size": ("size", "smoke"),
                 "--augment-archs": ("augment_archs", "deepfakenet,hrnet_artifact")}  # fmt: skip
        for option, (name, value) in quick.items():
            if option not in given:
                setattr(args, name, value)
    return args


def bench_from(args: argparse.Namespace) -> T.Bench:
    device = resolve_device(args.device)
    seconds = args.seconds or (4.0 if device.type == "cuda" else 6.0)
    return T.Bench(device, args.size, seconds, args.images, args.batch_size, args.workers)


def environment(b: T.Bench) -> dict:
    gpu = torch.cuda.get_device_name(b.device) if b.cuda else None
    return {
        "device": gpu or f"CPU ({cpu_name()})", "device_type": b.device.type,
        "torch": torch.__version__, "cores": len(os.sched_getaffinity(0)),
        "torch_threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "benchmark": b.synthetic_size, "seconds_per_measurement": b.seconds,
    }  # fmt: skip


def measure_all(args: argparse.Namespace, b: T.Bench, save) -> dict:
    """Every table asked for; ``save(results)`` after each, so a run stopped by a time
    limit keeps the tables it finished."""
    archs = split_names(args.archs) or list_models()
    sections = set(split_names(args.sections))
    results: dict = {"environment": environment(b), "sections": {}}
    say = lambda text: print(text, flush=True)  # noqa: E731

    def done(key: str, rows: list[dict]) -> None:
        results["sections"][key] = rows
        save(results)

    if "augment" in sections:  # first: quick, and what the GPU run most needs
        say("training augmentation alone: kornia against the batched formulations")
        names = split_names(args.augment_archs) or list_models()
        rows = []
        for arch, config in T.augment_sets(b, names, args.augment_px):
            rows += _logged_all(T.augment_rows(b, arch, config), say)
            done("augment", rows)
    if "arch" in sections:
        say("per architecture: data alone, model alone, end to end")
        done("arch", [_logged(T.arch_row(b, a), say) for a in archs])
    if "seed" in sections:
        say("cache pipeline against the seed-style pipeline")
        done("seed", _logged_all(T.seed_vs_cache_rows(b, args.seed_arch, args.seed_workers), say))
    if "predict" in sections:
        n = args.predict_images or (10_000 if b.cuda else 1_000)
        say(f"prediction over {n} test images")
        archs_p = split_names(args.predict_archs)
        done("predict", [r for a in archs_p for r in _logged_all(T.predict_rows(b, a, n), say)])
    if "cost" in sections:
        say("cost curves")
        sizes = [int(s) for s in split_names(args.cost_sizes)]
        base = ["--device", str(b.device), "--size", b.synthetic_size, "--cost-arch", args.cost_arch,
                "--workers", str(args.workers), "--batch-size", str(args.batch_size)]  # fmt: skip
        rows = []
        for n in sizes:
            rows += cost.cost_rows(base, [n], timeout=3600)
            done("cost", rows)
    if "epochs" in sections:
        n = args.epochs_images or (5_000 if b.cuda else 256)
        say(f"whole epochs of fit() on {n} images: first against steady, eager and compiled")
        rows = []
        for a in split_names(args.epochs_archs):
            for compiled in (False, True):
                rows += _logged_all(T.epoch_rows(b, a, compiled, n), say)
                done("epochs", rows)
    if "syncs" in sections:
        say(f"host syncs left in {args.sync_steps} training steps (sync debug mode)")
        done(
            "syncs",
            [r for a in archs for r in _logged_all(T.sync_rows(b, a, args.sync_steps), say)],
        )
    if "cpu" in sections and b.device.type == "cpu":
        say(f"CPU: precision x memory format at {args.cpu_px} px, batch {args.cpu_batch}")
        rows = []
        for a in archs:
            rows += _logged_all(T.cpu_rows(b, a, args.cpu_px, args.cpu_batch, args.cpu_rounds,
                                           args.cpu_steps), say)  # fmt: skip
            done("cpu", rows)
    if "defaults" in sections:
        say(
            f"fit() with the defaults against the old path: {args.defaults_arch}, {b.synthetic_size}"
        )
        done(
            "defaults",
            _logged_all(T.default_rows(b, args.defaults_arch, args.defaults_images), say),
        )
    if "threads" in sections and b.device.type == "cpu":
        say(f"fit() with each count of threads and loader workers: {args.defaults_arch}")
        done(
            "threads",
            _logged_all(T.thread_rows(b, args.defaults_arch, args.defaults_images), say),
        )
    if "precision" in sections and (b.cuda or args.dry):
        say("precision and memory format (model step alone)")
        compiled = set(split_names(args.compile_archs))
        rows = []
        for a in archs:
            rows += _logged_all(T.precision_rows(b, a, a in compiled), say)
            done("precision", rows)
    return results


def _logged(row: dict, say) -> dict:
    say(
        "  "
        + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
    )
    return row


def _logged_all(rows: list[dict], say) -> list[dict]:
    return [_logged(r, say) for r in rows]


def merged(previous: dict, new: dict, command: str) -> dict:
    """``previous`` with each new row put in place of the row of the same architecture
    (the cost curve, one architecture, is replaced whole); the commands are kept."""
    sections = dict(previous["sections"])
    for key, rows in new["sections"].items():
        redone = {r.get("arch") for r in rows}
        old = sections.get(key, [])
        kept = [r for r in old if key != "cost" and r.get("arch") not in redone]
        by_arch = [r.get("arch") for r in old]
        sections[key] = sorted(kept + rows, key=lambda r: _position(by_arch, r.get("arch")))
    commands = previous.get("command", "")
    return {**previous, "sections": sections, "command": f"{commands}; {command}"}


def _position(order: list, arch) -> int:
    return order.index(arch) if arch in order else len(order)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    warnings.filterwarnings("ignore", message=".*TF32.*")
    if args.cost_child:
        print(json.dumps(cost.cost_row(bench_from(args), args.cost_arch, args.cost_child)))
        return 0
    # a quick run checks that every table runs; its numbers stay out of the report
    folder = Path(args.results) / "quick" if args.quick else Path(args.results)
    if args.quick and args.out == DEFAULT_OUT:
        args.out = ""
    if args.goals:
        print(report.goals([json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]))
        return 0
    if not args.render_only:
        b = bench_from(args)
        # a thread count set from outside changes every CPU number: the command says it
        threads = [f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS",) if k in os.environ]
        command = " ".join(
            [*threads, "python bench/run.py", shlex.join(sys.argv[1:] if argv is None else argv)]
        ).strip()
        tag = args.tag or ("cpu" if not b.cuda else torch.cuda.get_device_name(b.device))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{report.slug(tag)}.json"

        previous = json.loads(path.read_text()) if args.merge and path.is_file() else None

        def save(results: dict) -> None:
            if previous is not None:
                results = merged(previous, results, command)
            path.write_text(json.dumps({"command": command, **results}, indent=1))

        measure_all(args, b, save)
        print(f"results: {path}")
    text = report.render(sorted(folder.glob("*.json")))
    if args.out:
        Path(args.out).write_text(text)
        print(f"report: {args.out}")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
