# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,nbmake,-all
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 15 · Leaderboard and claims: every run in one table, every finding with a verdict
#
# Two questions, answered from finished run folders only (their json/csv files: runs
# trained on a rented GPU and copied back without their weights work):
#
# 1. **Leaderboard**: every run in `runs_dir` with its architecture, parameters, FLOPs,
#    image size, epochs, filter, validation F1 / recall / AUC, F1 on the hidden test
#    labels, training time, images/s and device, beside the F1 the write-up reported for
#    the same model; seeds of one configuration are aggregated (mean ± sd). Plots: F1
#    against parameters and against training time.
# 2. **Claims**: each finding of `docs/writeups.md#findings` (and `#noise-filters`' global median) as one
#    row: what the write-up reported and in which regime (image size, epochs, training
#    images), what the runs of `scripts/claims_runs.py` measured and in which regime, and a
#    verdict: *reproduced*, *refuted*, *inconclusive* or, for a level measured in another
#    regime than its own, *not comparable*; a ranking or comparison that involves a model
#    that has not learned is *not decided*. One seed decides nothing; a comparison decides
#    only when the 95% interval of its per-seed differences excludes 0; a comparison or a
#    ranking names the regime it was decided in.
#
# The claims runs are made by one script (3 seeds of every recipe, plus the unweighted,
# oversampled, global-median, unfiltered and selectively blurred controls; `--dry-run`
# prints the plan), best on a GPU; this notebook can also train missing ones
# (`-p make_missing True`):
#
# ```bash
# python scripts/claims_runs.py --dry-run
# python scripts/claims_runs.py --size demo --img-size 64 --epochs 10 --seeds 3 --out-dir runs
# papermill notebooks/15_leaderboard.ipynb reports/15_leaderboard.ipynb -p reports_dir reports
# ```
#
# The committed reports are made from the run ledger `reports/runs/` (each cited run's
# small files, kept in the repository): `make results`, or this notebook with
# `-p runs_dir reports/runs`.

# %% tags=["parameters"] nbmake={"mock": {"runs_dir": "runs/smoke-claims", "make_missing": true, "make_only": "claims-arch-freqnet-*", "make_seeds": 2, "make_size": "smoke", "make_train_images": 0, "make_epochs": 1, "expect_val_auc_min": 0.7, "expect_verdicts": "class weights:reproduced;freqnet:not comparable;pseudo-label probe:not comparable;tuning the decision threshold:not measured"}}
runs_dir = "runs"  # folder of run folders, relative to the project root
include = ""  # comma-separated run-name globs of the leaderboard, e.g. "claims-*,table-*" ("": all)
prefix = "claims"  # the claims runs are named <prefix>-<group>-<arch>[-<variant>]-s<seed>
reports_dir = ""  # where leaderboard.md and claims.md go, e.g. "reports" ("": nowhere, shown only)
score = "test_f1"  # the score of the plots: "test_f1" (hidden test labels, at 0.5) or "val_f1"
make_missing = False  # train the missing runs of the claims plan now, with the settings below
make_only = ""  # comma-separated run-name globs of the plan to train ("": the whole plan)
make_seeds = 3  # seeds 42, 43, ... of runs made here
make_size = "demo"  # benchmark size of runs made here
make_train_images = 0  # labelled images of runs made here (0: all of them)
make_img_size = 64  # image side in px of runs made here
make_epochs = 10  # epochs of runs made here
expect_val_auc_min = None  # checks: least validation AUC of the plan's first finished run (None: not checked; the CI size sets one)
expect_verdicts = ""  # checks: "finding:verdict;..." pairs, the start of a finding suffices ("": not checked)
dflib_source = ""  # where the setup cell installs dflib from when it is missing: a git URL, a folder or a wheel ("": found by itself)

# %%
# Setup, the same in every notebook: where `import dflib` fails (a notebook opened alone on
# Colab or Kaggle), install dflib into this kernel (a regular install: no restart) from the
# first source found - `dflib_source`, a wheels dataset attached on Kaggle, a clone under
# /content or above this folder - keeping the platform's torch; then say where runs go.
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import dflib
except ModuleNotFoundError:
    dflib = None
if dflib is None:
    inputs = Path(os.environ.get("DFLIB_KAGGLE_INPUT", "/kaggle/input"))
    wheels = sorted({w.parent for depth in ("*", "*/*", "*/*/*") for w in inputs.glob(f"{depth}/dflib-*.whl")})
    here = Path.cwd().resolve()
    clones = [d for d in (*sorted(Path(os.environ.get("DFLIB_COLAB_CONTENT", "/content")).glob("*")), here, *here.parents)
              if (d / "pyproject.toml").is_file() and (d / "dflib" / "__init__.py").is_file()]
    source = ([dflib_source] if dflib_source else ["--no-index", "--find-links", str(wheels[0]), "dflib"] if wheels
              else [str(clones[0])] if clones else None)
    if source is None:
        raise RuntimeError(
            "dflib is not installed and no source was found. Either: attach the wheels dataset "
            "(`make wheelhouse`) to this Kaggle notebook; or clone the repository first "
            "(Colab: !git clone <repository URL> in a cell above); or set the parameter "
            "dflib_source to anything pip installs (a git URL, a folder, a wheel).")
    work = Path(tempfile.mkdtemp(prefix="dflib-setup-"))
    keep = [f"{n}=={importlib.metadata.version(n)}\n" for n in ("torch", "torchvision") if importlib.util.find_spec(n)]
    (work / "keep.txt").write_text("".join(keep))  # pip may not replace the platform's torch
    imported_before = set(sys.modules)
    print("installing dflib:", "pip install", " ".join(source))
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--constraint", str(work / "keep.txt"),
                          "--report", str(work / "report.json"), *source], capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError(f"pip could not install dflib from {' '.join(source)}:\n{pip.stderr[-4000:]}")
    importlib.invalidate_caches()
    from dflib.environment import check_install

    print("installed:", ", ".join(check_install(work / "report.json", imported_before)))
from dflib.environment import where_outputs_go

print(where_outputs_go())

# %%
import pandas as pd
from IPython.display import Markdown, display

from dflib.checks import Checks
from dflib.environment import resolve_path, split_names
from dflib.study import leaderboard as lb
from dflib.study.claims import (
    CURVES_FILE,
    VERDICTS,
    base_verdict,
    claim_runs,
    claims,
    claims_plan,
    expected_verdicts,
    make_command,
    missing_runs,
    regimes_section,
    training_command,
    verdicts_of,
    write_reports,
)
from dflib.train.plan import ensure_planned
from dflib.train.runs import RunFolder, is_finished, run_checks, runs_root
from dflib.viz.leaderboard import converged_curves, score_vs_cost
from dflib.viz.plotting import save

root = runs_root(runs_dir)
expected = expected_verdicts(expect_verdicts)  # a malformed pair stops here, before training
plan = claims_plan(
    make_seeds, size=make_size, img_size=make_img_size, epochs=make_epochs,
    train_images=make_train_images, prefix=prefix,
    only=split_names(make_only) or None,
)  # fmt: skip
missing = missing_runs(plan, runs_dir)
print(f"claims plan: {len(plan)} runs, {len(missing)} missing in {root}")
if make_missing:
    ensure_planned(plan, root=root)
elif missing:
    print("not trained here (make_missing is False); the claims they decide read 'not measured'. "
          f"Make them with:\n  {make_command(plan, runs_dir)}   (or -p make_missing True)")

# %% [markdown]
# ## Leaderboard
#
# One row per configuration (architecture, data size, image size, epochs, filter, loss,
# sampler), seeds aggregated: `mean ± sd` over them. F1 is the fake class's at 0.5;
# *test* is the benchmark's hidden test labels (never trained on), *tuned* the threshold
# with the best validation F1. The write-up's F1 was measured on its own data after 20-30
# epochs at 196-256 px: a gap to it says as much about the setting as about the model.

# %%
table = lb.leaderboard(runs_dir, include=include)
board = lb.by_config(table)
print(f"{len(table)} finished runs in {root}, {len(board)} configurations")
display(Markdown(lb.leaderboard_markdown(board)))

# %% [markdown]
# ## F1 against cost
#
# Each point is one configuration (bars: one sd over seeds), a colour per architecture,
# labelled once in the column on the right (what differs from the architecture's recipe
# in brackets); hollow diamonds mark what the write-up reported for the same architecture. A model above and to the left of another
# buys its score with fewer parameters or less training time.

# %%
fig_params = score_vs_cost(board, "params", score)

# %%
fig_time = score_vs_cost(board, "train_minutes", score)

# %% [markdown]
# ## The findings of `docs/writeups.md#findings`, one row each
#
# *measured* is `mean ± sd (n seeds)` beside the baselines of the same split (calling
# every image fake; shuffled-label AUC); for a comparison it is the mean of the per-seed
# differences, for a ranking each model's mean on F1 at 0.5, AUC and tuned F1.
# *reported_at* is the write-up's regime, *measured_at* the runs'; a level is judged only
# by runs of its own regime. *why* says which part of the rule decided the verdict;
# *command* makes the runs behind the row.

# %%
findings = claims(runs_dir, prefix)
with pd.option_context("display.max_colwidth", 160):
    display(findings[["finding", "reported", "reported_at", "measured", "measured_at",
                      "verdict", "why"]])  # fmt: skip
print(findings["verdict"].str.split(" at ").str[0].value_counts().to_string())

# %% [markdown]
# ## Learning speed and convergence, side by side
#
# The write-ups' rankings are judged in every regime their models were trained in, one row
# each above: a fixed 3 epochs ranks how fast each model learns; the early-stopped runs of
# `make campaign` (64 px, up to 30 epochs, stopped once validation AUC has not improved for
# 5) rank them at convergence. Below, each architecture's recipe runs in every regime, then
# their validation AUC per epoch in the converged one: seeds as thin lines, a dot where a run
# stopped, the dotted line where the 3-epoch runs stop.

# %%
arch_runs, _ = claim_runs(runs_dir, prefix)
display(Markdown(regimes_section(arch_runs) or "_No architecture runs._"))
fig_curves = converged_curves(arch_runs, runs_dir)

# %% [markdown]
# ## The reports
#
# With `reports_dir` set, `leaderboard.md`, `claims.md` and the learning curves are written there, each table headed
# by the commands that made it (this notebook's and the runs'), the runs folder, the data
# size and the devices.

# %%
command = "\n".join([
    lb.notebook_command("notebooks/15_leaderboard.ipynb", "out.ipynb", runs_dir=runs_dir,
                        include=include, prefix=prefix, reports_dir=reports_dir or "reports"),
    "# the runs: " + training_command(runs_dir, prefix),
    *(["# the table-* runs: python scripts/train_table.py (one per architecture, seed 42)"]
      if not table.empty and table["run"].str.startswith("table-").any() else []),
])  # fmt: skip
written = write_reports(reports_dir, table, findings, runs_dir, command, prefix)
if reports_dir:
    written.append(save(fig_curves, resolve_path(reports_dir) / CURVES_FILE, dpi=100))
print("\n".join(f"wrote {p}" for p in written) or "reports_dir is empty: nothing written")

# %% [markdown]
# ## Checks
#
# This notebook's answers, asserted: one row per finished run and each run in one
# configuration, every verdict one of the six (`dflib.study.claims.VERDICTS`), the plan's first finished run's own
# checks (`dflib.train.runs.run_checks`: where `expect_val_auc_min` is set, a validation AUC
# above what label-shuffled predictions reach), and - where `expect_verdicts` is set - the
# verdicts expected of the runs at this size.

# %%
finished = [RunFolder(root / r.name) for r in plan if is_finished(RunFolder(root / r.name))]
checks = run_checks(finished[0], expect_val_auc_min) if finished else Checks()
checks.true("a run of the plan finished (its run checks above)", bool(finished))
checks.expect("runs in the configurations", int(board["n"].sum()) if "n" in board else 0, equals=len(table))
words = findings["verdict"].map(base_verdict)
checks.true("every verdict is one of the six", bool(words.isin(VERDICTS).all()))
checks.expect("verdicts expected at this size", verdicts_of(findings, expected), equals=expected or None)
checks.done();
