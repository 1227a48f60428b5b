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
# # 13 · Explanations: does the model look where the fake is, and at which frequencies?
#
# Both write-ups argue from what fakes *should* carry (`docs/writeups.md#task-and-data`): fine detail,
# up-sampling traces of the generator, blending seams, in the swapped region. A detector
# can score well for other reasons (image statistics that happen to differ, a region's
# colour). The embedded benchmark records where each fake's region is, so this
# notebook can check, on a finished run:
#
# 1. **class-activation maps** (Grad-CAM, through captum) of real and fake validation
#    images, with the fake region's outline drawn from the benchmark's metadata;
# 2. **one number**: the share of CAM mass inside the fake region over the region's
#    share of the image, averaged over the fakes (1: no preference; above 1: the model
#    looks where the fake is), also for detected vs missed fakes and per generator family;
# 3. **frequency-band occlusion**: zero one radial band of every image's spectrum and
#    measure how much the fakes' probability and the AUC drop (which frequencies the
#    decision depends on);
# 4. the **worst errors**, with their maps.
#
# ```bash
# papermill notebooks/13_explain.ipynb out.ipynb -p run demo-freqnet -p layer stages.2
# ```

# %% tags=["parameters"] nbmake={"mock": {"run": "smoke-freqnet", "make_missing": true, "make_size": "smoke", "make_train_images": 0, "make_epochs": 1, "n_show": 3, "expect_val_auc_min": 0.7, "expect_cam_ratio": [1.2, null]}}
run = "demo-freqnet"  # upstream run of a convolutional model: a name under runs/ or a path
max_images = 500  # validation images explained (a stratified subset; 0: all of them)
layer = ""  # Grad-CAM layer as a module path such as "stages.2" ("": found automatically)
min_side = 8  # automatic layer: the deepest map at least this many cells wide (0: the deepest map)
n_show = 6  # images per class in the galleries (and worst errors per kind)
n_bands = 8  # radial frequency bands of the occlusion, evenly from 0 to Nyquist
seed = 42  # seed of the subset and of the images shown
device = "auto"  # "auto", "cpu", "cuda", ...
make_missing = False  # train the run now if it is missing, with the settings below
make_arch = "freqnet"  # architecture of a run made here
make_size = "demo"  # benchmark size of a run made here ("demo": the settings of make demo)
make_train_images = 0  # labelled images of a run made here (0: all of them)
make_img_size = 64  # image side in px of a run made here
make_epochs = 3  # epochs of a run made here
expect_val_auc_min = None  # checks: least validation AUC of the run (None: not checked)
expect_cam_ratio = None  # checks: [low, high] of the fakes' CAM mass inside the fake region over the region's share of the image (None: not checked)
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
from IPython.display import display

from dflib.decide import ensure_run
from dflib.environment import study_folder
from dflib.study import explain
from dflib.study.explain import load_explained, mass_share_summary
from dflib.train.runs import run_checks
from dflib.viz import explain as figures
from dflib.viz.plotting import save
from dflib.viz.training import worst_errors

source = ensure_run(
    run, make_arch, make_missing=make_missing, synthetic_size=make_size,
    train_images=make_train_images, img_size=make_img_size, epochs=make_epochs,
)
ex = load_explained(source, max_images=max_images, seed=seed, layer=layer, min_side=min_side,
                    device=device)  # fmt: skip
labels = ex.labels
has_regions = bool(ex.masks.max() > 0)
print(f"{len(ex.frame)} validation images ({int(labels.sum())} fakes) at {ex.config.img_size} px; "
      f"Grad-CAM layer {ex.layer.name!r} ({ex.layer.shape[0]} channels of {ex.layer.shape[1]}x"
      f"{ex.layer.shape[2]} cells); fake regions {'known' if has_regions else 'unknown (no region metadata)'}")

# %% [markdown]
# ## Class-activation maps
#
# Grad-CAM weights each channel of the chosen layer's map by the mean gradient of the
# log-odds of "fake" and keeps the positive evidence (ReLU), upsampled to the image. Its
# resolution is the layer's: the automatic choice is the deepest map at least `min_side`
# cells wide (at 64 px the last stage of a ResNet-like model is 2x2, too coarse to say
# "where"; `min_side 0` takes it anyway, `layer` names any other). Each map is scaled to
# its own maximum: compare where, not how much. Images are drawn at random per class
# (fakes above, reals below), titled with their probability of fake; the green outline
# is the swapped region from the benchmark's metadata.

# %%
cams = ex.cams()
shown = ex.pick(n_show, seed)
order = np.concatenate([shown["fake"], shown["real"]])
fig_gallery = figures.cam_gallery(
    ex.images[order], cams[order], ex.masks[order],
    [f"{'fake' if labels[i] else 'real'} p={ex.frame['prob'].iloc[i]:.2f}" for i in order],
    ncols=max(n_show, 1), suptitle="Grad-CAM: fakes (top rows), reals (bottom rows)",
)

# %% [markdown]
# ## Does the model look where the fake is?
#
# For each fake: `inside` is the share of its map's mass inside the region (every pixel
# the swap changed, soft seam included), `area` the region's share of the image, and
# `ratio = inside / area`. A map spread evenly gives exactly 1, whatever the region's
# size; 2 means the region holds twice the evidence its size predicts. `share_above_1`
# is the share of fakes whose map favours the region. A ratio is a correlation, not a
# cause: the occlusion below intervenes.

# %%
shares = explain.cam_mass_share(cams, ex.masks)
summary = mass_share_summary(shares, ex.frame, ex.threshold)
display(summary.round(3))
overall = summary.loc["all fakes"]
print(f"fakes: {overall['inside']:.1%} of the CAM mass lies inside the fake region, which covers "
      f"{overall['area']:.1%} of the image: ratio {overall['ratio']:.2f} (1 = no preference); "
      f"{overall['share_above_1']:.0%} of {int(overall['n'])} fakes above 1")
fig_ratio = figures.mass_ratio(shares, labels)

# %% [markdown]
# ## Which frequencies does the decision depend on?
#
# Every image (as the model sees it: cached and filtered) loses one radial band of its
# spectrum, `low <= |f| < high` in units of the Nyquist frequency (the mean brightness
# is kept; the last band takes the diagonal corners up to sqrt(2)), and is scored again.
# `drop_fake` is how much the fakes' mean probability falls, `drop_auc` how much the AUC
# falls; `energy_share` is the band's share of the images' spectral energy. The
# write-ups' argument predicts large drops in the high bands, where the up-sampling
# traces live, out of proportion to their small energy. A negative drop means the band
# hurt the decision (salt-and-pepper noise lives in the high bands of unfiltered runs).

# %%
bands = explain.band_occlusion(ex.scorer(), ex.floats(), labels, explain.band_edges(n_bands))
display(bands.round(4))
fig_bands = figures.band_occlusion(bands)

# %% [markdown]
# ## The worst errors
#
# The most confident misses (fakes scored lowest) and false alarms (reals scored
# highest), then their maps: a miss whose map avoids the outline did not find the
# region; one whose map covers it found the region but not enough evidence in it.

# %%
worst = ex.worst(n_show)
fig_worst = worst_errors(ex.images, ex.frame["id"].to_numpy(), labels, ex.frame["prob"].to_numpy(), n=n_show)
fig_worst_cams = figures.cam_gallery(
    ex.images[worst], cams[worst], ex.masks[worst],
    [f"{'FN' if labels[i] else 'FP'} p={ex.frame['prob'].iloc[i]:.2f}" for i in worst],
    ncols=max(n_show, 1), suptitle="Grad-CAM of the worst misses (first) and false alarms",
)
figures_dir = study_folder("explain", source.name) / "figures"  # the run folder is only read
saved = [save(fig, figures_dir / f"explain_{name}.png") for name, fig in
         {"cams": fig_gallery, "mass_ratio": fig_ratio, "bands": fig_bands, "worst": fig_worst,
          "worst_cams": fig_worst_cams}.items()]  # fmt: skip
print("figures:", ", ".join(p.name for p in saved), "in", figures_dir)

# %% [markdown]
# How to read it: a ratio well above 1, higher for detected than for missed fakes,
# says the model found the swapped region rather than a global statistic; similar
# ratios across generator families say it found what they share (the seam, the colour
# and scale mismatch) rather than one family's up-sampling pattern. Large drops in the
# high bands back the write-ups' case against early pooling and blur
# (`docs/writeups.md#task-and-data`); drops concentrated in the low bands would mean the
# model decides on coarse content. One run, one seed: compare architectures by running this notebook on each
# (`-p run ...`) before drawing a general conclusion.

# %% [markdown]
# ## Checks
#
# This notebook's answers, asserted: the upstream run's (`dflib.train.runs.run_checks`),
# one CAM per image, and - where `expect_cam_ratio` is set (the CI size sets it) - how much
# more of the fakes' CAM mass lies inside the fake region than the region's share of the
# image (1: the model looks anywhere). Grad-CAM's sign and the mass share's range hold by
# construction and are tested with the library.

# %%
checks = run_checks(source, expect_val_auc_min)
checks.expect("CAMs (one per image)", len(cams), equals=len(ex.frame))
checks.expect("fakes' CAM mass inside the region / its share of the image", overall["ratio"], *(expect_cam_ratio or (None, None)))
checks.done();
