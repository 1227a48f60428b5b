"""``reports/training.md``: every architecture trained at one size, one row each.

``scripts/train_table.py`` trains the runs (``table-<arch>``) through the training
notebooks and writes their ledger entries; ``make results`` re-renders the table from the
ledger alone, headed by the same command, so any clone re-makes it.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pandas as pd

from dflib.study.claims import RANKINGS
from dflib.train.config import list_recipes
from dflib.train.runs import RunFolder, finished_runs
from dflib.train.summary import runs_table, titles

PREFIX = "table"
# scripts/train_table.py's defaults: the CPU size (demo set, 64 px, 3 epochs, seed 42)
DEFAULTS = {"size": "demo", "train_images": 6000, "img_size": 64, "epochs": 3, "seed": 42,
            "prefix": PREFIX}  # fmt: skip
COLUMNS = titles("arch", "params", "train_images", "img_size", "epochs", "filter", "loss",
                 "val_f1", "val_f1_tuned", "val_recall", "val_auc", "test_f1", "test_f1_tuned",
                 "test_auc", "train_minutes", "images_per_s", "device", "reported_f1")  # fmt: skip
TOO_EASY = 0.97


def table_runs(runs_dir: str | os.PathLike | None, prefix: str = PREFIX) -> list[RunFolder]:
    """The finished ``<prefix>-<arch>`` runs of ``runs_dir`` (a runs folder or the ledger),
    in the recipes' order."""
    found = {r.name: r for r in finished_runs(runs_dir, prefix=f"{prefix}-")}
    return [found[f"{prefix}-{a}"] for a in list_recipes() if f"{prefix}-{a}" in found]


def runs_command(runs: list[RunFolder], prefix: str = PREFIX) -> str:
    """The ``scripts/train_table.py`` command that trains ``runs`` at their size: the flags
    whose value differs from the script's defaults (``--img-size 0``: each recipe's)."""
    params = [r.read_json("params") for r in runs]
    sizes = {p["img_size"] for p in params}
    first = params[0] if params else {}
    values = {
        "size": first.get("synthetic_size", DEFAULTS["size"]),
        "train_images": first.get("train_images", DEFAULTS["train_images"]),
        "img_size": sizes.pop() if len(sizes) == 1 else 0,
        "epochs": first.get("epochs", DEFAULTS["epochs"]),
        "seed": first.get("seed", DEFAULTS["seed"]),
        "prefix": prefix,
    }
    flags = [x for k, v in values.items() if v != DEFAULTS[k]
             for x in (f"--{k.replace('_', '-')}", str(v))]  # fmt: skip
    return shlex.join(["python", "scripts/train_table.py", *flags])


def rankings(table: pd.DataFrame) -> list[str]:
    """The measured order (hidden-test F1 at the tuned threshold) beside each write-up's
    (:data:`dflib.study.claims.RANKINGS`)."""
    lines = []
    score = table.set_index("arch")["test_f1_tuned"]
    for source, (order, _) in RANKINGS.items():
        present = [a for a in order if a in score.index and score[a] == score[a]]
        if not present:
            continue
        measured = sorted(present, key=lambda a: -score[a])
        same = "same order" if measured == present else "a different order"
        lines.append(f"- {source} ranks {' > '.join(present)}; measured: "
                     + " > ".join(f"{a} ({score[a]:.3f})" for a in measured) + f" - {same}.")  # fmt: skip
    best = score.max()
    if best > TOO_EASY:
        verdict = (f"the best model reaches {best:.3f} > {TOO_EASY}: at this size the benchmark "
                   "is too easy to rank architectures")  # fmt: skip
    else:
        verdict = (f"the best model reaches {best:.3f} <= {TOO_EASY}: at this size the benchmark "
                   "is not saturated; whether the full set at each recipe's size saturates "
                   "needs the GPU-size run")  # fmt: skip
    lines.append(f"- Difficulty: {verdict}.")
    epochs = int(table["epochs"].max())
    lines.append(f"- After {epochs} epochs the order says how fast each model learns from "
                 f"{int(table['train_images'].max()):,} images, not where it converges: the "
                 "write-ups trained 20-30 epochs.")  # fmt: skip
    return lines


def write_table(runs: list[RunFolder], command: str, out: str | os.PathLike) -> str:
    """Write the table of ``runs`` to ``out``, headed by ``command``; returns its text.

    Raises:
        ValueError: no run has finished (an empty table would replace the committed one).
    """
    if not runs:
        raise ValueError("no finished table run: nothing to write")
    raw = runs_table(runs)
    table = raw[list(COLUMNS)].rename(columns=COLUMNS)
    table = table.sort_values("test F1 tuned", ascending=False, na_position="last")
    body = "\n".join([
        "# Every architecture at one size", "", "Made by:", "", "```bash", command, "```", "",
        "Executed notebooks in `reports/training/`; the runs' small files in the ledger "
        "`reports/runs/` (`table-<arch>`). *train min* and *img/s* are wall-clock on the "
        "device named.", "",
        "Validation: the stratified 12% split; test: the benchmark's hidden test labels "
        "(never trained on). F1 of the fake class; *tuned* = at the threshold with the "
        "highest validation F1 (ties to higher recall).", "",
        table.to_markdown(index=False, floatfmt=".3f"), "",
        "What the table shows (single seed, measured by the same run):", *rankings(raw), "",
    ])  # fmt: skip
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return body
