"""Measure how hard the embedded synthetic benchmark is, with the small CNN probes.

Two targets (issue 2), each on a freshly generated (or cached) benchmark:

- ``smoke``: the small CNN, trained 2 minutes on CPU on the smoke preset (2,000 images at
  64 px), must reach a validation AUC >= 0.75 (learnable);
- ``f1``: the small residual CNN, trained <= 20 minutes on CPU on 10,000 images at 96 px,
  must land a validation F1 between 0.80 and 0.95 (not trivial), with the class-weighted
  loss ``total / (2 * count)`` and the plain 0.5 threshold (the tuned one is also shown).

Validation is the benchmark's held-out test split (hidden labels from
``test_labels.csv``), never seen in training. The probes see the raw noisy images: no
filter, no resize (the data is generated at the probe's resolution).

    python scripts/calibrate_benchmark.py smoke              # ~2.5 minutes
    python scripts/calibrate_benchmark.py f1                 # ~25 minutes
    python scripts/calibrate_benchmark.py f1 --minutes 3     # a quick look
    python scripts/calibrate_benchmark.py timing --size full # full-size generation time
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from dflib import probes
from dflib.environment import num_workers
from dflib.runtime import seed_everything
from dflib.synthetic import SyntheticConfig, ensure_dataset, get_config

TARGETS: dict[str, dict[str, Any]] = {
    "smoke": {"config": lambda: get_config("smoke"), "probe": "small_cnn", "width": 16,
              "minutes": 2.0, "lr": 3e-3, "batch": 64},
    "f1": {"config": lambda: get_config("full", n_train=10_000, n_test=2_000, image_size=96),
           "probe": "small_resnet", "width": 12, "minutes": 20.0, "lr": 2e-3, "batch": 64},
}  # fmt: skip


def load_split(root: Path, split: str) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """All images of a split as uint8 NxHxWx3, their labels and the metadata table."""
    table = pd.read_csv(root / ("train.csv" if split == "train" else "test_labels.csv"))
    x = np.stack(
        [np.asarray(Image.open(root / split / f"{i}.png").convert("RGB")) for i in table["id"]]
    )
    return x, table["label"].to_numpy(), table


def global_stats_auc(x_train, y_train, x_val, y_val) -> float:
    """AUC of a logistic regression on global colour statistics (per-channel mean and std).

    A sanity check that the fake evidence is not something trivial such as a brightness
    or colour shift of the whole image: this should stay near 0.5.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def feats(x: np.ndarray) -> np.ndarray:
        f = x.reshape(len(x), -1, 3).astype(np.float32)
        return np.concatenate([f.mean(1), f.std(1)], 1)

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    clf.fit(feats(x_train), y_train)
    return float(roc_auc_score(y_val, clf.predict_proba(feats(x_val))[:, 1]))


def machine() -> str:
    """One line describing where the numbers were measured."""
    return (
        f"{platform.processor() or platform.machine()}, {num_workers()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}"
    )


def run_target(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Generate (or reuse) the benchmark, train the probe for the budget, score it."""
    spec = TARGETS[name]
    config: SyntheticConfig = spec["config"]()
    if args.strength:
        config = get_config(config, strength=tuple(args.strength))
    start = time.time()
    root = ensure_dataset(config, workers=args.workers, progress=not args.quiet)
    gen_s = time.time() - start
    x_train, y_train, _ = load_split(root, "train")
    x_val, y_val, val_table = load_split(root, "test")
    seed_everything(args.seed)
    model = probes.make_probe(spec["probe"], width=args.width or spec["width"], seed=args.seed)
    minutes = args.minutes if args.minutes is not None else spec["minutes"]
    result = probes.fit_probe(
        model, x_train, y_train, x_val, y_val, time_budget_s=minutes * 60,
        batch_size=args.batch or spec["batch"], lr=args.lr or spec["lr"], seed=args.seed,
        eval_every_epoch=not args.no_history,
    )  # fmt: skip
    fakes = val_table["label"] == 1
    per_family = {
        fam: float((result.val_prob[(val_table["family"] == fam).to_numpy()] >= 0.5).mean())
        for fam in config.families
    }
    strength = val_table.loc[fakes, "strength"].to_numpy()
    prob_fake = result.val_prob[fakes.to_numpy()]
    low = strength <= np.median(strength)
    return {
        "target": name, "config_key": config.key, "image_size": config.image_size,
        "n_train": config.n_train, "n_val": config.n_test, "strength": list(config.strength),
        "probe": spec["probe"], "width": args.width or spec["width"],
        "params": sum(p.numel() for p in model.parameters()),
        "budget_minutes": minutes, "train_seconds": round(result.train_seconds, 1),
        "epochs": round(result.epochs, 2), "steps": result.steps,
        "generation_seconds": round(gen_s, 1), "metrics": result.metrics,
        "recall_by_family": per_family,
        "recall_low_vs_high_strength": [float((prob_fake[low] >= 0.5).mean()),
                                        float((prob_fake[~low] >= 0.5).mean())],
        "global_stats_auc": round(global_stats_auc(x_train, y_train, x_val, y_val), 4),
        "history": result.history, "machine": machine(),
    }  # fmt: skip


def time_generation(args: argparse.Namespace) -> dict[str, Any]:
    """Wall time of generating a preset from scratch into a temporary folder."""
    config = get_config(args.size)
    tmp = Path(tempfile.mkdtemp(prefix="dflib-timing-", dir=args.tmp))
    try:
        start = time.time()
        root = ensure_dataset(
            config, root=tmp / "bench", workers=args.workers, progress=not args.quiet
        )
        seconds = time.time() - start
        size_mb = sum(p.stat().st_size for p in root.rglob("*")) / 2**20
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"target": "timing", "size": args.size, "images": config.n_train + config.n_test,
            "seconds": round(seconds, 1), "disk_mb": round(size_mb), "workers": num_workers(args.workers),
            "machine": machine()}  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=[*TARGETS, "timing"], help="what to measure")
    parser.add_argument("--minutes", type=float, default=None, help="training budget")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads; 1 is fastest for these small probes on a busy CPU",
    )
    parser.add_argument("--workers", type=int, default=None, help="generation processes")
    parser.add_argument("--width", type=int, default=None, help="probe width")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate")
    parser.add_argument("--batch", type=int, default=None, help="batch size")
    parser.add_argument(
        "--strength",
        type=float,
        nargs=2,
        default=None,
        help="override the fakes' strength range (for tuning)",
    )
    parser.add_argument("--size", default="full", help="preset for `timing`")
    parser.add_argument("--tmp", default=None, help="scratch folder for `timing`")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-history", action="store_true", help="skip per-epoch validation")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = time_generation(args) if args.target == "timing" else run_target(args.target, args)
    summary = {k: v for k, v in result.items() if k != "history"}
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
