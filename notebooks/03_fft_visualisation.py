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
# # 03 · The frequency view: where fakes differ, and which filter keeps it
#
# Generators rebuild images through up-sampling layers, and those leave traces in the fine
# detail: periodic peaks and checkerboards in the spectrum, a distorted high-frequency
# tail (Durall et al., "Watch your Up-Convolution", CVPR 2020). This notebook looks for
# them, on the embedded benchmark by default or on your data (`-p data_dir path/to/data`):
#
# 1. **Class-mean spectra**: the mean log-spectrum of real and fake images, their
#    difference, and the azimuthally averaged 1-D profile with its spread.
# 2. **Generator families** (when the metadata names them): each family's fingerprint
#    against real images, at the frequencies where up-sampling puts its peaks.
# 3. **Filters**: the spectrum after each noise filter, and how much of the fake signal
#    each one leaves, the question behind the finding "a global median erases the traces" (`docs/writeups.md#findings`).
# 4. **Residual images**: FFT high-pass and NPR (neighbouring-pixel) residuals of real and
#    fake crops, the inputs frequency-aware detectors learn from.
# 5. **A linear probe** on the 1-D profile: how far a Durall-style detector gets.
#
# Every conclusion at the end is computed from the numbers above it.

# %% tags=["parameters"] nbmake={"mock": {"synthetic_size": "smoke", "n_images": 150, "expect_strongest_family": "tconv", "expect_grid_contrast_min": 0.1, "expect_probe_auc_min": 0.62}}
data_dir = "synthetic"  # "synthetic" for the embedded benchmark, or your data folder (relative to the project root)
synthetic_size = "full"  # benchmark size: "full" (50,000 + 10,000 at 256 px), "smoke" (CI) or "tiny"
labels_csv = ""  # name of the labels CSV if not train.csv / labels.csv (empty: detect)
classes = ""  # folder names / label values of each class where their names do not say, e.g. "real:nature fake:ai" (empty: detect)
n_images = 2000  # images sampled per class for every analysis below
crop_size = 0  # side of the centre crop giving all images one size (0: the smallest side in the sample)
filter_tol = 30  # tolerance of the selective, coherent, adaptive and Wiener filters (the write-up's 30)
high_band = 0.25  # start of the high-frequency band in cycles per pixel (0.5 is Nyquist)
upsampling = 4  # total up-sampling factor of the generators: peaks expected at multiples of 1/4 cycle per pixel
n_peaks = 4  # strongest peaks marked per generator family
highpass_cutoff = 0.5  # FFT high-pass cutoff as a share of the Nyquist radius
residual_crop = 48  # side in pixels of the residual crops
residual_filter = "coherent_noise_filter"  # filter run before the second residual figure ("none" repeats the raw one)
n_residual_examples = 3  # crops per class in the residual figure
probe_folds = 5  # cross-validation folds of the linear probe
probe_normalize = True  # min-max scale each profile to [0, 1] as Durall et al. do
seed = 42  # sampling and cross-validation seed
expect_strongest_family = ""  # checks: the generator family with the strongest up-sampling grid ("": not checked)
expect_grid_contrast_min = None  # checks: least grid contrast of that family, log units
expect_probe_auc_min = None  # checks: least AUC of the linear profile probe, unfiltered
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

from dflib import data, filters, spectral
from dflib.checks import Checks
from dflib.runtime import seed_everything
from dflib.viz import residuals as residual_plots
from dflib.viz import spectra as spectrum_plots

seed_everything(seed)
train = data.load_split(data_dir, "train", synthetic_size=synthetic_size, labels_csv=labels_csv or None,
                        classes=classes or None)
real_images, real_rows = data.sample_images(train, n_images, seed=seed, label=0)
fake_images, fake_rows = data.sample_images(train, n_images, seed=seed, label=1)
rows = pd.concat([real_rows, fake_rows], ignore_index=True)
batch, offsets = spectral.stack_images(real_images + fake_images, crop_size or None)
del real_images, fake_images  # the batch holds the pixels now
labels = rows["label"].to_numpy()
groups = spectral.family_groups(rows)
size = batch.shape[1]
print(f"data folder: {train.root}")
print(f"sampled {np.sum(labels == 0):,} real and {np.sum(labels == 1):,} fake images, analysed as {size}x{size} px")

# %% [markdown]
# One pass computes every spectrum the notebook uses: the grey log-magnitude spectrum of
# each image, unfiltered (`none`) and after each filter of `dflib.filters`, reduced to
# class means, per-family means and one 1-D azimuthal profile per image.

# %%
spectra = spectral.filter_spectra(batch, labels, filters.list_filters(), filter_tol, groups=groups)
none = spectra["none"]
freq = spectral.frequencies(none.profiles.shape[1], size)
print("filters:", ", ".join(spectra))

# %% [markdown]
# ## 1. Real vs fake: class-mean spectra
#
# Left and middle: the mean log-spectrum of each class on one colour scale; the bright
# centre is the image content (low frequencies), the outer area the fine detail and the
# noise. Right: fake minus real. Look for red away from the centre: energy the fakes have
# and real images lack, and for isolated dots, the periodic traces of up-sampling.

# %%
spectrum_plots.class_spectra(none.means[0], none.means[1]);

# %% [markdown]
# The azimuthal profile averages each ring of the spectrum (one frequency) into one
# number. Left: mean and ±1 std per class: the spread shows how much single images
# overlap, which bounds what a detector on this profile can do. Right: the difference of
# the means with ±2 standard errors: where the band leaves zero, the classes differ for
# sure; the shaded area is the high band.

# %%
spectrum_plots.profile_bands(none.profiles, labels, freq, high_band);
band = freq >= high_band
class_diff = none.profiles[labels == 1].mean(0) - none.profiles[labels == 0].mean(0)
class_se = np.sqrt(none.profiles[labels == 1].var(0) / max(np.sum(labels == 1), 1)
                   + none.profiles[labels == 0].var(0) / max(np.sum(labels == 0), 1))  # fmt: skip
significant = np.abs(class_diff) > 2 * class_se
print(f"high band (>= {high_band} cycles/pixel): mean fake minus real {class_diff[band].mean():+.4f} log units; "
      f"{significant[band].mean():.0%} of its radii differ by more than 2 standard errors")  # fmt: skip

# %% [markdown]
# ## 2. Generator families: the fingerprints
#
# The benchmark records which decoder re-synthesised each fake (`tconv`: transposed
# convolutions, `nearest` / `bilinear`: resize then convolve). A decoder that up-samples
# 4x in two stride-2 steps repeats its kernels every 2 and 4 pixels, so its traces sit
# on a grid of frequencies, multiples of 1/4 cycle per pixel (rings in the maps). A
# transposed convolution is known for its checkerboard, so `tconv` should light up there;
# an interpolating up-sampler smooths instead, so it should show little. The table's
# `grid_contrast` is the mean excess at those grid frequencies over the map's median:
# positions fixed in advance, so it is not inflated by picking maxima of a noisy map
# (the crosses, the strongest local maxima, are). On data without this metadata the
# section is skipped.

# %%
family_diffs, fingerprints, strongest = {}, pd.DataFrame(), None
if none.group_means is None:
    print("No generator family metadata here (a 'family' column naming each fake's generator): "
          "the family section is skipped.")  # fmt: skip
else:
    family_diffs = spectral.family_differences(none.group_means)
    fingerprints = spectral.family_fingerprints(family_diffs, upsampling)
    strongest = fingerprints["grid_contrast"].idxmax()
    display(pd.Series(groups).value_counts().rename("images").to_frame())
    display(fingerprints.round(3))
    display(spectral.peak_table(family_diffs, n_peaks).round(3))
    spectrum_plots.difference_maps(family_diffs, "Family minus real: mean log-spectrum",
                                   markers=spectral.grid_frequencies((size, size), upsampling),
                                   peaks=spectral.peak_table(family_diffs, n_peaks))  # fmt: skip
    spectrum_plots.family_profiles(family_diffs, high_band)

# %% [markdown]
# ## 3. Before and after each filter
#
# Every filter removes the salt-and-pepper noise, which is white: it raises the whole
# high band of every image alike. What matters is what else goes. Left: how much each
# filter lowers the spectrum (after minus before, both classes pooled). Middle: what is
# left of the fake-minus-real difference. Right: the same linear probe as in section 5,
# retrained on each filter's output. Table columns: `high_band_change` (what the filter
# removes above the band start), `hf_diff_rms` / `hf_diff_kept` (how much fake-vs-real
# structure is left in the high band, and its share of the unfiltered one),
# `hf_pattern_corr` (is it the same pattern as before filtering), `grid_<family>` (the
# family's fingerprint at the up-sampling grid after the filter), probe scores and the
# filter's time per image on one CPU thread.
#
# Differences are in log units, so removing the white noise floor lowers the reference
# too: a fingerprint can stand out *more* after a filter than before (ratios above 1 in
# the conclusion). A filter erases it when the ratio falls towards 0.

# %%
summary, removed, difference = spectral.filter_summary(
    spectra, labels, high_band, probe_normalize, probe_folds, seed, upsampling
)
display(summary.round(3))
spectrum_plots.filter_effect(removed, difference, summary, high_band);

# %% [markdown]
# The same comparison in 2-D: fake minus real after each filter on one colour scale, and,
# where the families are known, the strongest fingerprint family minus real after each
# filter. A filter that keeps the fake's high frequencies keeps the dots on the grid; one
# that erases them leaves a smooth map.

# %%
grid = spectral.grid_frequencies((size, size), upsampling)
spectrum_plots.difference_maps(spectral.filter_difference_maps(spectra), "Fake minus real after each filter",
                               markers=grid, ncols=3);  # fmt: skip

# %%
if strongest is None:
    print("No family metadata: the per-filter fingerprint maps are skipped.")
else:
    spectrum_plots.difference_maps(spectral.group_difference_maps(spectra, strongest),
                                   f"'{strongest}' minus real after each filter", markers=grid, ncols=3)  # fmt: skip

# %% [markdown]
# ## 4. High-pass residual images
#
# What frequency-aware detectors look at: the FFT high-pass residual (everything below
# `highpass_cutoff` x Nyquist removed; FreqNet's layers do this inside the network) and
# the NPR residual `x - up(down(x))` (Tan et al., CVPR 2024), which is zero on a nearest
# 2x up-sampled image and so isolates the local pixel correlations an up-sampler leaves.
# Crops of fakes are centred on the re-synthesised region where the metadata records it.
# One grey scale per residual column, shared by all rows. First on the images as they
# come: the bright isolated dots are the salt-and-pepper noise, which dominates any
# residual of a noisy image. Then after `residual_filter`: look for a regular, grid-like
# texture in the fake crops (the `tconv` checkerboard above all) that the real ones lack.

# %%
picks, titles = spectral.example_indices(labels, groups, n_residual_examples)
centres = spectral.region_centres(rows.iloc[picks], size, offsets[picks])
examples = spectral.residual_examples(batch[picks], centres, residual_crop, highpass_cutoff)
residual_plots.residual_grid(examples, titles, highpass_cutoff, "Residuals of the noisy images");

# %%
examples = spectral.residual_examples(batch[picks], centres, residual_crop, highpass_cutoff, residual_filter, filter_tol)
residual_plots.residual_grid(examples, titles, highpass_cutoff, f"Residuals after {residual_filter}");

# %% [markdown]
# ## 5. A linear probe on the 1-D spectral profile
#
# Durall et al. show that a logistic regression on the azimuthal profile already finds
# many GAN images. Here: the unfiltered profiles (min-max scaled when `probe_normalize`),
# standardised, an L2 logistic regression with balanced class weights, scored on
# out-of-fold predictions of a stratified k-fold split. The sample is balanced (the same
# number of images per class), so accuracy is meaningful here; F1 is that of the fake
# class at probability 0.5. Right panel: which frequencies the probe leans on.

# %%
features = spectral.normalize_profiles(none.profiles) if probe_normalize else none.profiles
probe = spectral.fit_profile_probe(features, labels, probe_folds, seed)
print(probe.note or f"{probe.n_splits}-fold cross-validation on {len(labels):,} profiles of {features.shape[1]} radii")
display(pd.Series(probe.metrics).round(4).to_frame("linear profile probe"))
residual_plots.probe_result(labels, probe.prob, probe.metrics, probe.coef, freq, high_band);

# %% [markdown]
# ## Conclusion

# %%
others = summary.drop(index="none")
best_probe = others["probe_auc"].idxmax() if others["probe_auc"].notna().any() else None
reliable = significant[band].mean() >= 0.5  # most high-band radii beyond 2 standard errors
direction = "more" if class_diff[band].mean() > 0 else "less"
print(f"Class means: above {high_band} cycles/pixel fakes carry {direction} energy than real images "
      f"({class_diff[band].mean():+.4f} log units on average; {significant[band].mean():.0%} of those radii "
      f"differ by more than 2 standard errors, n {np.sum(labels == 0)} + {np.sum(labels == 1)}): "
      + ("a reliable difference." if reliable else "not a reliable difference at this sample size."))  # fmt: skip
print(f"Linear profile probe, unfiltered: accuracy {probe.metrics['accuracy']:.3f}, "
      f"F1 (fake) {probe.metrics['f1']:.3f}, AUC {probe.metrics['auc']:.3f} "
      f"({probe.n_splits}-fold, chance 0.5).")  # fmt: skip
if strongest is not None:
    print(f"Fingerprints: '{strongest}' stands out on the {upsampling}x up-sampling grid "
          f"(grid contrast {fingerprints.loc[strongest, 'grid_contrast']:+.3f} log units; others: "
          + ", ".join(fingerprints.index.drop(strongest) + " " + fingerprints["grid_contrast"].drop(strongest).map("{:+.3f}".format))
          + ").")  # fmt: skip
    kept = summary[f"grid_{strongest}"] / summary.loc["none", f"grid_{strongest}"]
    print(f"'{strongest}' fingerprint after each filter, as a share of the unfiltered one: "
          + ", ".join(kept.index + " " + kept.map("{:.2f}".format)) + ".")  # fmt: skip
    print(f"Keeps it best: {kept.drop('none').idxmax()}; erases most: {kept.drop('none').idxmin()}.")
if "hf_diff_kept" in summary:
    print("High-band fake-vs-real structure kept (hf_diff_kept): "
          + ", ".join(summary.index + " " + summary["hf_diff_kept"].map("{:.2f}".format)) + ".")  # fmt: skip
if best_probe is not None:
    print("Probe AUC after each filter: " + ", ".join(summary.index + " " + summary["probe_auc"].map("{:.3f}".format))
          + f"; best filter for this probe: {best_probe}; global median "
          f"{summary.loc['global_median', 'probe_auc'] - summary.loc['none', 'probe_auc']:+.3f} AUC against no filter.")  # fmt: skip

# %% [markdown]
# ## Checks
#
# This notebook's answers, asserted: every sampled image analysed once, the probe's
# probabilities in [0, 1], and - where the `expect_*` parameters are set (the CI size
# sets them) - the family whose up-sampling grid stands out, how far, and a profile probe
# that beats the AUC label-shuffled predictions reach (the floor must clear that too).

# %%
checks = Checks()
checks.expect("images analysed", len(labels), equals=batch.shape[0])
checks.true("probe probabilities in [0, 1]", bool(((probe.prob >= 0) & (probe.prob <= 1)).all()))
checks.learned_auc("profile-probe AUC, unfiltered", labels, probe.prob, expect_probe_auc_min)
checks.expect("family with the strongest up-sampling grid", strongest, equals=expect_strongest_family or None)
checks.expect("its grid contrast (log units)",
              fingerprints.loc[strongest, "grid_contrast"] if strongest is not None else float("nan"),
              low=expect_grid_contrast_min)  # fmt: skip
checks.done();
