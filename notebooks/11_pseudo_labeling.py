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
# # 11 · Pseudo-labelling: how pure are the confident test predictions, and do they help?
#
# The first write-up probed pseudo-labelling on its 10,000 unlabeled test images
# (`docs/writeups.md#findings`, `#decisions`): 95.5% of them (9,553) passed its confidence cut-off, with
# mean confidence 0.987 and classes 85:15 like train, and it *expected* a label purity
# above 97%. It never trained on them. This notebook does both steps on a finished run
# and measures what the write-up could only expect:
#
# 1. keep the confident test predictions with **per-class cut-offs**, so that the kept
#    classes keep train's ratio (one cut-off keeps the surer majority class more easily
#    and a retrained model would learn an even stronger "real" prior);
# 2. report share kept, count, mean confidence and class ratio beside the write-up's,
#    and the **true purity** on the embedded benchmark, whose hidden test labels are known;
# 3. retrain the run's own recipe (same seed, from scratch, resumable) on its training
#    images plus the pseudo-labelled ones, and compare validation and hidden-test F1
#    before and after.
#
# ```bash
# papermill notebooks/11_pseudo_labeling.ipynb out.ipynb -p run demo-freqnet -p min_confidence 0.95
# ```

# %% tags=["parameters"] nbmake={"mock": {"run": "smoke-freqnet", "make_missing": true, "make_size": "smoke", "make_train_images": 0, "make_epochs": 1, "per_class": true, "min_confidence": 0.55, "retrain_epochs": 1, "expect_val_auc_min": 0.7, "expect_purity_gain": [0.02, null]}}
run = "demo-freqnet"  # upstream run: a name under runs/ or a path (relative to the project root)
min_confidence = 0.9  # a test image is a candidate when max(p, 1 - p) reaches this
per_class = True  # per-class cut-offs keeping train's class ratio (False: one cut-off, the write-up's probe)
retrain = True  # retrain on train + pseudo-labels, compare before / after (False: report only)
retrain_epochs = 0  # main epochs of the retrained run (0: the upstream run's own)
hold_out_val = True  # keep the upstream run's validation images out of the retraining data
out = ""  # the retrained run's folder under runs/ ("": <run>-pseudo-<hash of the selection>)
make_missing = False  # train the upstream run now if it is missing, with the settings below
make_arch = "freqnet"  # architecture of a run made here
make_size = "demo"  # benchmark size of a run made here ("demo": the settings of make demo)
make_train_images = 0  # labelled images of a run made here (0: all of them)
make_img_size = 64  # image side in px of a run made here
make_epochs = 3  # epochs of a run made here
expect_val_auc_min = None  # checks: least validation AUC of the run (None: not checked)
expect_purity_gain = None  # checks: [low, high] of the kept pseudo-labels' true purity minus the run's accuracy at 0.5 on every test image (None: not checked)
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
from IPython.display import display

from dflib import decide
from dflib.environment import study_folder
from dflib.train.runs import run_checks
from dflib.viz import decisions as figures
from dflib.viz.plotting import save

source = decide.ensure_run(
    run, make_arch, make_missing=make_missing, synthetic_size=make_size,
    train_images=make_train_images, img_size=make_img_size, epochs=make_epochs,
)
test = source.read_predictions("test")
train_share = decide.train_fake_share(source)
hidden = test[["id", "label"]] if (test["label"] >= 0).all() else None
print(f"{len(test)} test images; train's share of fakes {train_share:.3f}; hidden test labels "
      f"{'known (the embedded benchmark)' if hidden is not None else 'unknown: no purity can be measured'}")

# %% [markdown]
# ## The selection beside the write-up's probe
#
# Two selections from the same predictions: one symmetric cut-off (every image with
# `max(p, 1 - p) >= min_confidence`, what the write-up did) and per-class cut-offs
# (the larger class trimmed to its most confident images until the kept ratio is
# train's). `purity` is the share of kept images whose pseudo-label equals the hidden
# label: the write-up's "expected > 97%", measured. It is an estimate of what a user
# with unlabeled test data would get only if their model is as good as this one.

# %%
selections = {
    "per-class cut-offs": decide.select_pseudo(test["id"], test["prob"], train_share, min_confidence),
    "one cut-off": decide.select_pseudo(test["id"], test["prob"], None, min_confidence),
}
reports = {name: s.report(train_share, hidden) for name, s in selections.items()}
display(decide.versus_writeup(reports).round(4))
chosen_name = "per-class cut-offs" if per_class else "one cut-off"
pseudo = selections[chosen_name]
report = pd.Series(reports[chosen_name], name=chosen_name)
display(report.to_frame().round(4))
print(f"{chosen_name}: {int(report['n_kept'])} of {int(report['n_test'])} kept ({report['share_kept']:.1%}), "
      f"mean confidence {report['mean_confidence']:.3f}, fake share {report['pseudo_fake_share']:.3f} "
      f"vs train {train_share:.3f}; "
      + (f"true purity {report['purity']:.2%} (write-up expected > 97%)" if "purity" in report
         else "true purity unknown (no hidden test labels)"))
if not len(pseudo.kept):
    print("no test image passed the cut-offs (per-class cut-offs keep nothing when one class has "
          "no confident image): the retrained run below gets no pseudo-labels and is only a control "
          "(the same recipe retrained; its difference from the upstream run is run-to-run noise). "
          "Lower min_confidence, or train the upstream run longer.")
fig_cutoffs = figures.pseudo_cutoffs(test["prob"], pseudo.cutoff_fake, pseudo.cutoff_real,
                                     test["label"] if hidden is not None else None)  # fmt: skip

# %% [markdown]
# ## Retraining on train + pseudo-labels
#
# The retrained run uses the upstream run's `params.json` (architecture, image size,
# filter, loss, seed) with `data_dir` pointed at a new data folder (written into the
# retrained run's folder as `pseudo_data/`): the upstream run's training images plus
# every kept test image with its pseudo-label. It trains from scratch, with the same
# seed, and resumes from its `last.pt` if interrupted; run this cell again to continue.
#
# What the comparison measures. A run trained on that folder draws its own stratified
# validation split from it, pseudo-labelled images included, so its own validation F1
# would partly score agreement with the labels the upstream model chose, on other
# images than the upstream run's. With `hold_out_val` the upstream run's validation
# images are left out of the new folder, and both runs' final weights score exactly
# those images: the `val_*` columns are a like-for-like comparison on images neither
# run trained on (the upstream run picked its best epoch on them, a small advantage to
# "before"). The hidden test labels are the other yardstick, with a caveat: the
# pseudo-labels come from the test images themselves, so the retrained model has
# trained on the kept ones (`test_kept_*`, labelled by its predecessor); the
# `test_unseen_*` columns are the test images it never saw, the harder ones by
# construction (they were not confident). Thresholds are tuned on the validation
# images for each run.

# %%
if retrain:
    out = out or decide.pseudo_run_name(source, pseudo, hold_out_val)
    retrained = decide.retrain_with_pseudo(source, pseudo, out, epochs=retrain_epochs,
                                           hold_out_val=hold_out_val)  # fmt: skip
    own_val = retrained.read_predictions("val")
    print(f"retrained run {retrained.root}: {retrained.read_json('params')['n_train']} training "
          f"images; its own validation split holds {int(own_val['id'].str.startswith('pseudo-').sum())} "
          f"pseudo-labelled of {len(own_val)} images (used only to pick its best epoch)")
    comparison = decide.before_after(source, retrained, pseudo)
    display(comparison.round(4))
    fig_bars = figures.comparison_bars(
        comparison, ["val_f1_tuned", "test_f1_tuned", "test_unseen_f1_tuned", "val_auc", "test_auc"],
        title="Before and after pseudo-labelling",
    )
    figures_dir = study_folder("pseudo", retrained.name) / "figures"
    save(fig_bars, figures_dir / "pseudo_before_after.png")
    print("figures:", save(fig_cutoffs, figures_dir / "pseudo_cutoffs.png").parent)

# %% [markdown]
# How to read it: the pseudo-labels are worth having when the purity is high *and* the
# retrained run beats the upstream one on the validation images and on the unseen test
# images by more than the spread between seeds (notebook 15 measures that spread; one
# seed each here). A purity below the upstream model's own precision means the kept
# set repeats its errors with confidence; a higher `test_kept` F1 with no gain on
# `test_unseen` means the retrained model learned its predecessor's answers, not more
# about fakes. On a user's real test set the purity cannot be measured: only the
# validation columns remain.

# %% [markdown]
# ## Checks
#
# This notebook's answers, asserted: the upstream run's (`dflib.train.runs.run_checks`),
# every kept pseudo-label at least `min_confidence`, train's class ratio kept to within one
# image where per-class cut-offs are asked, the true purity reported only where true labels
# exist, and - where `expect_purity_gain` is set (the CI size sets it) - how much purer the
# kept pseudo-labels are than the run's answers on every test image.

# %%
checks = run_checks(source, expect_val_auc_min)
kept = pseudo.kept
checks.expect("least confidence kept", kept["confidence"].min() if len(kept) else 1.0, low=min_confidence)
if per_class:
    checks.expect("kept fakes - train's share of the kept (images)", report["n_fake"] - train_share * report["n_kept"], low=-1, high=1)
accuracy = float(((test["prob"] >= 0.5) == test["label"]).mean()) if hidden is not None else float("nan")
checks.expect("true purity - accuracy at 0.5 on every test image", report.get("purity", float("nan")) - accuracy,
              *(expect_purity_gain or (None, None)))  # fmt: skip
checks.true("purity reported only against true labels", ("purity" in report) == (hidden is not None))
checks.done();
