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
# # 12 · Ensembles: soft voting, weights, rank averaging, flip TTA, greedy selection
#
# The write-ups propose soft voting (`docs/writeups.md#decisions`): averaging the probabilities of models with
# different architectures. An average helps only where the models err differently, so
# this notebook measures every variant against the single runs on the same images:
#
# - the correlation of the models' validation scores;
# - the plain mean, weights fitted on validation (non-negative, summing to 1, highest
#   log-likelihood), rank averaging (ignores how each model's probabilities are scaled)
#   and greedy forward selection (Caruana et al., 2004);
# - test-time augmentation (horizontal flip), measured on validation;
# - a threshold tuned on validation for each, scored on the hidden test labels of the
#   embedded benchmark when they are known, and the final `submission.csv`.
#
# Everything fitted here (weights, selection, thresholds, the choice of method) is fitted
# on validation, so validation scores flatter the ensembles; the hidden-test columns are
# the fair comparison. The runs must share their data and split (same data folder,
# `train_images` and seed).
#
# ```bash
# papermill notebooks/12_ensemble.ipynb out.ipynb -p runs demo-freqnet,demo-rgb_fft
# python -m dflib predict --run runs/demo-freqnet --run runs/demo-rgb_fft --tta --size demo
# ```

# %% tags=["parameters"] nbmake={"mock": {"runs": "smoke-freqnet,smoke-rgb_fft", "make_missing": true, "make_size": "smoke", "make_train_images": 0, "make_epochs": 1, "out": "smoke-ensemble", "expect_val_auc_min": 0.7, "expect_test_f1_over_best_run": [-0.03, null]}}
runs = "demo-freqnet,demo-rgb_fft"  # upstream runs: comma-separated names under runs/ (or paths)
selection_metric = "auc"  # greedy selection by validation "auc" or "f1" (at each bag's tuned threshold)
min_recall = 0.0  # recall of fakes every tuned threshold must keep (0: plain highest F1)
tta = True  # re-score every run with and without the horizontal flip (one extra pass per image)
method = "auto"  # what the submission uses: "auto" (highest validation F1), a method or a run name
out = "ensemble"  # folder under studies/ensemble/ (or a path) for submission.csv, predictions_test.csv and ensemble.json
make_missing = False  # train missing runs now, with the settings below (fine-tuning off)
make_archs = "freqnet,rgb_fft"  # architectures of runs made here, in the order of `runs`
make_size = "demo"  # benchmark size of runs made here ("demo": the settings of make demo)
make_train_images = 0  # labelled images of runs made here (0: all of them)
make_img_size = 64  # image side in px of runs made here
make_epochs = 3  # epochs of runs made here
expect_val_auc_min = None  # checks: least validation AUC of the chosen method (None: not checked)
expect_test_f1_over_best_run = None  # checks: [low, high] of the chosen method's tuned test F1 minus the best single run's (None: not checked)
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
import numpy as np
import pandas as pd
from IPython.display import display

from dflib import decide
from dflib.checks import Checks
from dflib.viz import decisions as figures
from dflib.viz.plotting import save

sources = decide.ensure_runs(
    runs, make_archs, make_missing=make_missing, synthetic_size=make_size,
    train_images=make_train_images, img_size=make_img_size, epochs=make_epochs, finetune_epochs=0,
)
val = decide.load_predictions(sources, "val")
test = decide.load_predictions(sources, "test")
print(f"{len(val.names)} runs; validation: {len(val.labels)} images, {int(val.labels.sum())} fakes; "
      f"test: {len(test.labels)} images, labels {'known' if test.has_labels else 'unknown'}")

# %% [markdown]
# ## How differently do the models err?
#
# Spearman correlation of the validation scores: close to 1, the models rank images
# alike and averaging them gains little; lower values leave room for an ensemble.

# %%
corr = decide.correlation(val.probs)
fig_corr = figures.correlation_heatmap(corr)

# %% [markdown]
# ## Single runs and ensembles
#
# One row per run and per combination. `threshold` is tuned on validation for each row
# (rank averaging's scores are validation ranks, so its threshold is on that scale);
# `test_f1_tuned` applies that threshold to the hidden test labels.

# %%
comparison = decide.compare_methods(val, test, selection_metric=selection_metric,
                                    min_recall=min_recall or None)  # fmt: skip
display(comparison.table.round(4))
display(comparison.weights.round(3))

# %% [markdown]
# ## Test-time augmentation (flip), measured on validation
#
# Each run's saved weights re-score its validation and test images, plain and averaged
# with their mirror image, through the training engine's evaluation. A run with a
# fine-tuning stage has trained on its validation images (`val_seen`): judge it on the
# test columns.

# %%
if tta:
    tta_gain, rescored = decide.flip_tta_runs(sources, progress=False)
    display(tta_gain.round(4))
    tta_comparison = decide.compare_methods(rescored["val_tta"], rescored.get("test_tta"),
                                            selection_metric=selection_metric,
                                            min_recall=min_recall or None)  # fmt: skip
    comparison = decide.merge({"": comparison, " + flip": tta_comparison})
    display(tta_comparison.table.round(4))

# %%
fig_bars = figures.comparison_bars(comparison.table)

# %% [markdown]
# ## The submission
#
# `method="auto"` takes the row with the highest validation F1 at its tuned threshold.
# That choice is itself fitted on validation; when the hidden-test column disagrees,
# prefer the simpler ensemble (the plain mean) unless its test score is clearly lower.

# %%
chosen = comparison.best("val_f1_tuned") if method == "auto" else method
path = decide.write_ensemble(out, comparison, chosen, runs=[str(s.root) for s in sources],
                             min_recall=min_recall or None)  # fmt: skip
display(comparison.table.loc[[chosen]].round(4))
print(f"method {chosen!r}: wrote {path}")
print(decide.submission_summary(path, comparison.table.loc[chosen, "threshold"]))
save(fig_corr, path.parent / "figures" / "correlation.png")
save(fig_bars, path.parent / "figures" / "comparison.png");

# %% [markdown]
# How to read it: an ensemble earns its place when its hidden-test F1 beats the best
# single run's by more than the spread between seeds (notebook 15 measures that spread);
# the fitted weights show which runs carry it, and a greedy bag that keeps one run says
# the others add nothing. The same soft voting is available without the notebook:
# `python -m dflib predict --run <a> --run <b> [--tta]`.

# %% [markdown]
# ## Checks
#
# This notebook's answers, asserted: every method's validation and test scores lie in
# [0, 1] (rank averages too), the weights of a fitted ensemble add up to 1, and - where the
# `expect_*` parameters are set (the CI size sets them) - the chosen method against the best
# single run on the hidden test labels, which chose nothing (an ensemble that helps only on
# validation fails here), and the chosen method's validation AUC, above what label-shuffled
# predictions reach (the floor must clear that too).

# %%
checks = Checks()
scores = pd.concat([comparison.val, comparison.test])
checks.true("every method's scores in [0, 1]", bool(((scores >= 0) & (scores <= 1)).all().all()))
checks.true("each ensemble's weights add up to 1", bool(np.allclose(comparison.weights.sum(axis=1), 1)))
best_run = comparison.table.loc[val.names, "test_f1_tuned"].max() if test.has_labels else float("nan")
checks.expect(f"test F1 of {chosen} - the best single run's", comparison.table.loc[chosen, "test_f1_tuned"] - best_run,
              *(expect_test_f1_over_best_run or (None, None)))  # fmt: skip
checks.learned_auc(f"val AUC of {chosen}", val.labels.loc[comparison.val.index], comparison.val[chosen], expect_val_auc_min)
checks.done();
