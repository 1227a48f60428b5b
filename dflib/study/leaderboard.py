"""What every finished run scored: one run's row (:func:`run_row`, beside the write-up's
number: :func:`versus_reference`), the leaderboard (seeds aggregated) and its
``leaderboard.md``, and ``reports/training.md`` (every architecture at one size).

Reads only the small files of each run folder (``params.json``, ``metrics.json``; no
weights), so runs trained elsewhere and copied back without their ``.pt`` files work.
FLOPs are counted once per architecture and image size (:func:`dflib.models.cost.arch_flops`).
Each markdown file starts with what made it (the notebook or script command and the
training command of its runs), the runs folder, the data size and the devices, so a
table is never separated from its provenance.

The training table's runs (``table-<arch>``) are trained by ``scripts/train_table.py``
through the training notebooks, which writes their ledger entries; ``make results``
re-renders the table from the ledger alone, headed by the same command, so any clone
re-makes it. It prints the write-ups' rankings (:data:`RANKINGS`, which the claims judge
in :mod:`dflib.study.claims`) beside its own order.
"""

from __future__ import annotations

import functools
import os
import platform
import shlex
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dflib.environment import project_root
from dflib.metrics import all_fake_f1, learning
from dflib.models.cost import arch_flops
from dflib.train.config import list_recipes, reference
from dflib.train.plan import ROLE
from dflib.train.runs import RunFolder, finished_runs, run_folder, runs_root

# how every table names the columns of :func:`run_row` (and of the leaderboard's extras)
TITLES = {
    "run": "run", "arch": "architecture", "params": "params", "gflops": "GFLOPs",
    "train_images": "images", "img_size": "px", "epochs": "epochs", "filter": "filter",
    "loss": "loss", "n": "seeds", "val_f1": "val F1", "val_f1_tuned": "val F1 tuned",
    "val_recall": "val recall", "val_auc": "val AUC", "test_f1": "test F1",
    "test_f1_tuned": "test F1 tuned", "test_auc": "test AUC", "train_minutes": "train min",
    "images_per_s": "img/s", "device": "device", "precision": "precision",
    "reported_f1": "write-up F1",
    "stopping": "early stopping", "learned": "learned",
    "test_all_fake_f1": "test F1 all-fake", "test_auc_floor": "test AUC chance",
    "val_all_fake_f1": "val F1 all-fake", "val_auc_floor": "val AUC chance",
}  # fmt: skip


def titles(*keys: str) -> dict[str, str]:
    """``{key: title}`` for the given columns, in that order."""
    return {key: TITLES[key] for key in keys}


def run_row(run: RunFolder | str | os.PathLike) -> dict[str, Any]:
    """The numbers of one run: settings, validation and hidden-test scores, cost."""
    run = run_folder(run)
    params, metrics = run.read_json("params"), run.read_json("metrics")
    env = metrics.get("environment", {})
    test = metrics.get("test") or {}
    test_tuned = metrics.get("test_tuned") or {}
    try:
        reported = reference(params["arch"]).f1
    except ValueError:
        reported = None
    return {
        "run": run.name,
        "arch": params["arch"],
        "params": metrics["params"],
        "train_images": params["n_train"] + params["n_val"],
        "img_size": params["img_size"],
        "epochs": metrics["epochs_run"],
        "filter": params["filter"],
        "loss": params["loss"],
        "val_f1": metrics["val"]["f1"],
        "val_f1_tuned": metrics["val_tuned"]["f1"],
        "val_recall": metrics["val"]["recall"],
        "val_auc": metrics["val"].get("auc"),
        "test_f1": test.get("f1"),
        "test_f1_tuned": test_tuned.get("f1"),
        "test_auc": test.get("auc"),
        "threshold": metrics["threshold"],
        "train_minutes": metrics["train_seconds"] / 60,
        "images_per_s": metrics["images_per_s"],
        "device": env.get("device_name") or env.get("device"),
        "precision": env.get("precision"),
        "reported_f1": reported,
    }


def runs_table(runs) -> pd.DataFrame:
    """:func:`run_row` of several runs as a table."""
    return pd.DataFrame([run_row(r) for r in runs])


def versus_reference(run: RunFolder | str | os.PathLike) -> pd.DataFrame:
    """This run's headline numbers beside what the write-up reported for the model."""
    row = run_row(run)
    arch = row["arch"]
    note = reference(arch).note if arch else ""
    return pd.DataFrame(
        {
            "this run": [row["val_f1"], row["val_f1_tuned"], row["val_recall"], row["val_auc"],
                         row["test_f1"], row["test_f1_tuned"]],
            "write-up": [row["reported_f1"], None, None, None, None, None],
        },
        index=["val F1 @0.5", "val F1 @tuned", "val recall @0.5", "val AUC",
               "hidden-test F1 @0.5", "hidden-test F1 @tuned"],
    ).rename_axis(note)  # fmt: skip


# the settings that make runs "the same configuration" (seeds of one experiment), with the
# device and the precision it trained in (bf16 or float32 on a CPU, by its instructions);
# ``epochs`` is the configured number (with early stopping: the cap), not the epochs a run ran
CONFIG_KEYS = ["arch", "data", "train_images", "img_size", "epochs", "stopping", "filter",
               "loss", "class_weighting", "sampler", "device", "precision"]  # fmt: skip
# the keys above that are not TrainConfig fields themselves: the fields each is read from
# (tests/test_config_fields.py checks both lists against TrainConfig)
KEY_FIELDS = {"data": ("data_dir", "synthetic_size"), "sampler": ("balanced_sampler",),
              "stopping": ("early_stopping", "early_stopping_metric"),
              "precision": ("amp", "device")}  # fmt: skip
SCORES = ["val_f1", "val_f1_tuned", "val_recall", "val_auc", "test_f1", "test_f1_tuned",
          "test_auc"]  # fmt: skip
# what a model that learned nothing scores on the same split (:func:`baselines`)
BASELINES = ["val_all_fake_f1", "val_auc_floor", "test_all_fake_f1", "test_auc_floor"]
COLUMNS = titles("arch", "params", "gflops", "img_size", "epochs", "stopping", "filter", "loss",
                 "n", "learned", "val_f1", "val_recall", "val_auc", "val_auc_floor", "test_f1",
                 "test_all_fake_f1", "test_f1_tuned", "test_auc", "test_auc_floor",
                 "train_minutes", "images_per_s", "device", "precision", "reported_f1")  # fmt: skip


def leaderboard(
    runs_dir: str | os.PathLike | None = None,
    prefix: str = "",
    flops: bool = True,
    include: str = "",
) -> pd.DataFrame:
    """One row per finished run: :func:`run_row` plus seed, class
    weighting, sampler, data, early stopping, the trivial baselines of its splits and
    whether it learned (:func:`baselines`), and GFLOPs of one image at the run's size.
    ``epochs`` is the configured number (the cap, with early stopping); ``epochs_run``
    the epochs it ran."""
    rows = []
    for run in finished_runs(runs_dir, prefix, include):
        params = run.read_json("params")
        row = run_row(run)
        stop = int(params.get("early_stopping", 0))
        metric = params.get("early_stopping_metric", "f1")
        row.update({
            "epochs_run": row["epochs"],
            "epochs": int(params["epochs"]),
            "early_stopping": stop,
            "early_stopping_metric": metric,
            "stopping": f"{stop} on val {metric}" if stop else "-",
            **baselines(run),
            "seed": params.get("seed"),
            "subsample": int(params.get("train_images", 0)),
            "test_recall": (run.read_json("metrics").get("test") or {}).get("recall"),
            "class_weighting": bool(params.get("class_weighting", True)),
            "sampler": "balanced" if params.get("balanced_sampler") else "-",
            # a data folder by its name only: no machine path reaches a report
            "data": (params.get("synthetic_size") if params.get("data_dir") == "synthetic"
                     else Path(str(params.get("data_dir"))).name),
            "role": params.get(ROLE, ""),
            "gflops": arch_flops(row["arch"], int(row["img_size"])) / 1e9 if flops else np.nan,
        })  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def baselines(run: RunFolder) -> dict[str, Any]:
    """What a model that learned nothing scores on the run's own splits: the F1 of calling
    every image fake (``<split>_all_fake_f1``) and the 99th percentile of the AUC under
    shuffled labels (``<split>_auc_floor``; NaN where a split has no labels of both
    classes), and ``learned``: the validation AUC clears that percentile
    (:func:`dflib.metrics.learning`, the notebooks' rule; ``None`` where it cannot tell).

    Computed once per version of the run's prediction files: the shuffles cost about 0.1 s
    a run, and ``make results`` reads the ledger's runs several times (the leaderboard,
    each claims table, the curves)."""
    stamp = []
    for path in (run.predictions_val, run.predictions_test):
        stat = path.stat() if path.is_file() else None
        stamp.append(stat and (stat.st_mtime_ns, stat.st_size))
    return dict(_baselines(run.root.resolve(), tuple(stamp)))


@functools.lru_cache(maxsize=4096)
def _baselines(root: Path, stamp: tuple) -> dict[str, Any]:
    run = RunFolder(root)
    out: dict[str, Any] = {key: np.nan for key in BASELINES} | {"learned": None}
    for split in ("val", "test"):
        try:
            pred = run.read_predictions(split)
        except FileNotFoundError:
            continue
        if set(pred["label"].unique()) != {0, 1}:  # hidden or one-class labels
            continue
        found = learning(pred["label"], pred["prob"])
        out[f"{split}_all_fake_f1"] = all_fake_f1(pred["label"])
        out[f"{split}_auc_floor"] = found.floor
        if split == "val":
            out["learned"] = found.learned
    return out


def by_config(table: pd.DataFrame) -> pd.DataFrame:
    """Seeds of the same configuration in one row: mean and standard deviation (ddof 1)
    of every score, ``n`` seeds, mean cost; sorted by hidden-test F1 (else val F1)."""
    if table.empty:
        return table
    frame = table.copy()
    frame[["device", "precision"]] = frame[["device", "precision"]].fillna("?")
    grouped = frame.groupby(CONFIG_KEYS, dropna=False, sort=False)
    out = grouped.agg(
        n=("run", "size"), runs=("run", lambda s: ", ".join(s)), params=("params", "first"),
        gflops=("gflops", "first"), train_minutes=("train_minutes", "mean"),
        images_per_s=("images_per_s", "mean"), reported_f1=("reported_f1", "first"),
        learned=("learned", _learned_count), **{k: (k, "mean") for k in BASELINES},
        **{k: (k, "mean") for k in SCORES}, **{f"{k}_std": (k, "std") for k in SCORES},
    ).reset_index()  # fmt: skip
    key = "test_f1" if out["test_f1"].notna().any() else "val_f1"
    return out.sort_values(key, ascending=False, na_position="last").reset_index(drop=True)


def _learned_count(values: pd.Series) -> str:
    """``3/3``, or ``0/3 NOT LEARNED`` when most seeds did not learn (the seeds whose
    validation AUC clears the shuffled-label 99th percentile, of those that could tell)."""
    known = [bool(v) for v in values if v is not None and v == v]
    if not known:
        return "?"
    yes = sum(known)
    return f"{yes}/{len(known)}" + (" NOT LEARNED" if 2 * yes < len(known) else "")


def cell_text(mean, std, n) -> str:
    """``0.912 ± 0.032`` over ``n`` seeds, ``0.912`` for one, ``-`` for none."""
    if mean is None or pd.isna(mean):
        return "-"
    return f"{mean:.3f}" if n < 2 or pd.isna(std) else f"{mean:.3f} ± {std:.3f}"


def leaderboard_markdown(agg: pd.DataFrame) -> str:
    """The aggregated table as markdown (``mean ± sd`` over seeds)."""
    if agg.empty:
        return "_No finished runs._"
    rows = []
    for _, r in agg.iterrows():
        cells = {}
        for key, title in COLUMNS.items():
            if key in SCORES:
                cells[title] = cell_text(r[key], r[f"{key}_std"], r["n"])
            elif key == "params":
                cells[title] = f"{int(r[key]):,}"
            elif key in BASELINES:
                cells[title] = "-" if pd.isna(r[key]) else f"{r[key]:.3f}"
            elif key in ("gflops", "reported_f1", "train_minutes"):
                cells[title] = (
                    "-" if pd.isna(r[key]) else f"{r[key]:.{2 if key != 'gflops' else 3}f}"
                )
            elif key == "images_per_s":
                cells[title] = f"{r[key]:.0f}"
            elif key == "loss":
                extra = "" if r["class_weighting"] else " unweighted"
                cells[title] = (
                    r[key] + extra + (" + balanced sampler" if r["sampler"] != "-" else "")
                )
            else:
                cells[title] = str(r[key])
        rows.append(cells)
    return pd.DataFrame(rows).to_markdown(index=False)


def shown_path(runs_dir) -> str:
    """The runs folder as a report prints it: relative to the project root when inside it
    (the same text on every machine), else as given."""
    root = runs_root(runs_dir)
    try:
        return root.resolve().relative_to(project_root().resolve()).as_posix()
    except ValueError:
        return str(runs_dir) if runs_dir else root.name


def provenance(table: pd.DataFrame, runs_dir, command: str) -> list[str]:
    """Markdown lines: the command, the runs folder, data sizes, devices, and one line
    with the date and machine that wrote the tables (the only line that differs between
    two renderings of the same runs)."""
    settings = "none" if table.empty else "; ".join(sorted({
        f"{r.data} benchmark, {r.train_images:,} labelled images, {r.img_size} px, {r.epochs} epochs"
        + (f" (early stopping {r.stopping})" if getattr(r, "stopping", "-") != "-" else "")
        for r in table.itertuples()}))  # fmt: skip
    devices = "none" if table.empty else ", ".join(sorted(set(table["device"].fillna("?"))))
    return [
        "Made by:", "", "```bash", command, "```", "",
        f"- Runs folder: `{shown_path(runs_dir)}` ({len(table)} finished runs).",
        f"- Settings: {settings}.",
        f"- Precision: {precisions(table)}.",
        f"- Trained on: {devices}; tables written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} "
        f"UTC on {platform.node() or 'this machine'}.",
    ]  # fmt: skip


def precisions(table: pd.DataFrame) -> str:
    """The precision the runs trained in, or that they mix (with the runs of each): a
    configuration's seeds are grouped within one precision (:data:`CONFIG_KEYS`), but a
    comparison of two configurations of different precisions measures the precision too."""
    if table.empty or "precision" not in table:
        return "none"
    counts = table["precision"].fillna("?").value_counts().sort_index()
    if len(counts) == 1:
        return f"every run in {counts.index[0]}"
    mix = ", ".join(f"{name} ({n} run{'s' if n != 1 else ''})" for name, n in counts.items())
    return f"the runs mix {mix}; a comparison across them measures the precision too"


def write_leaderboard(
    path, table: pd.DataFrame, runs_dir, command: str, sections: tuple[str, ...] = ()
) -> Path:
    """``leaderboard.md``: provenance, the seed-aggregated table, ``sections`` (markdown
    the caller adds, such as the architectures per regime) and the per-run table."""
    agg = by_config(table)
    per_run = "_No finished runs._"
    if not table.empty:
        cols = ["run", "arch", "seed", "filter", "epochs_run", "val_auc", "val_auc_floor",
                "learned", "val_f1", "val_f1_tuned", "test_f1", "test_f1_tuned", "test_auc",
                "train_minutes", "images_per_s", "device", "precision"]  # fmt: skip
        shown = table[cols].assign(learned=table["learned"].map(
            {True: "yes", False: "NOT LEARNED"}).fillna("?"))  # fmt: skip
        per_run = shown.to_markdown(index=False, floatfmt=".3f")
    text = "\n".join([
        "# Leaderboard", "", *provenance(table, runs_dir, command), "",
        "F1 of the fake class at threshold 0.5; *test* = the benchmark's hidden test labels "
        "(never trained on), *tuned* = at the threshold with the best validation F1. "
        "`mean ± sd` over the seeds of one configuration (sd with ddof 1). GFLOPs of one "
        "image at the run's size (`dflib.models.cost`); *write-up F1* = what the write-up "
        "reported for the model (docs/writeups.md#findings), on its own data and recipe length.", "",
        "Baselines beside the scores, on the same split: *F1 all-fake* = the F1 of calling "
        "every image fake (what a model that learned nothing reaches by always answering "
        "fake); *AUC chance* = the 99th percentile of the AUC under shuffled labels "
        "(`dflib.metrics.shuffled_floor`). *learned* = the seeds whose validation AUC clears "
        "that percentile (`dflib.metrics.learning`, the rule of the notebooks' checks); a "
        "configuration most of whose seeds do not is marked NOT LEARNED, and the claims "
        "never count it for or against a ranking. *epochs* = the configured number (with "
        "early stopping, the cap); *epochs_run* = what a run ran.", "",
        "## By configuration", "", leaderboard_markdown(agg), "", *sections,
        "## Every run", "", per_run, "",
    ])  # fmt: skip
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def notebook_command(notebook: str, out: str = "out.ipynb", **parameters) -> str:
    """``papermill <notebook> <out> -p name value ...`` for the given parameters."""
    args = ["papermill", notebook, out]
    for name, value in parameters.items():
        args += ["-p", name, str(value)]
    return shlex.join(args)


# the write-ups' rankings (docs/writeups.md#findings): who, the order best first, in its words
# (the claims judge them; the training table, reports/training.md, prints them beside its own)
RANKINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "write-up 1": (("xception_resnet50", "resnet50", "hybrid_xception_freq_transformer", "freqnet"),
                   "XceptionResNet50 > ResNet-50 > hybrid > FreqNet"),
    "write-up 2": (("hrnet_artifact", "custom_resnet", "rgb_fft"), "HRNet > custom ResNet > RGB+FFT"),
}  # fmt: skip

TABLE_PREFIX = "table"
# scripts/train_table.py's defaults: the CPU size (demo set, 64 px, 3 epochs, seed 42)
TABLE_DEFAULTS = {"size": "demo", "train_images": 6000, "img_size": 64, "epochs": 3, "seed": 42,
            "prefix": TABLE_PREFIX}  # fmt: skip
TABLE_COLUMNS = titles("arch", "params", "train_images", "img_size", "epochs", "filter", "loss",
                 "val_f1", "val_f1_tuned", "val_recall", "val_auc", "test_f1", "test_f1_tuned",
                 "test_auc", "train_minutes", "images_per_s", "device", "reported_f1")  # fmt: skip
TOO_EASY = 0.97


def table_runs(runs_dir: str | os.PathLike | None, prefix: str = TABLE_PREFIX) -> list[RunFolder]:
    """The finished ``<prefix>-<arch>`` runs of ``runs_dir`` (a runs folder or the ledger),
    in the recipes' order."""
    found = {r.name: r for r in finished_runs(runs_dir, prefix=f"{prefix}-")}
    return [found[f"{prefix}-{a}"] for a in list_recipes() if f"{prefix}-{a}" in found]


def runs_command(runs: list[RunFolder], prefix: str = TABLE_PREFIX) -> str:
    """The ``scripts/train_table.py`` command that trains ``runs`` at their size: the flags
    whose value differs from the script's defaults (``--img-size 0``: each recipe's)."""
    params = [r.read_json("params") for r in runs]
    sizes = {p["img_size"] for p in params}
    first = params[0] if params else {}
    values = {
        "size": first.get("synthetic_size", TABLE_DEFAULTS["size"]),
        "train_images": first.get("train_images", TABLE_DEFAULTS["train_images"]),
        "img_size": sizes.pop() if len(sizes) == 1 else 0,
        "epochs": first.get("epochs", TABLE_DEFAULTS["epochs"]),
        "seed": first.get("seed", TABLE_DEFAULTS["seed"]),
        "prefix": prefix,
    }
    flags = [x for k, v in values.items() if v != TABLE_DEFAULTS[k]
             for x in (f"--{k.replace('_', '-')}", str(v))]  # fmt: skip
    return shlex.join(["python", "scripts/train_table.py", *flags])


def rankings(table: pd.DataFrame) -> list[str]:
    """The measured order (hidden-test F1 at the tuned threshold) beside each write-up's
    (:data:`RANKINGS`)."""
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
    table = raw[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)
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
