"""The spectral probe and the helpers of notebook 03: separable profiles are found, random
ones are not, fingerprints show where they were put, metadata gaps degrade gracefully."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from dflib.spectral import filter_effects as fe
from dflib.spectral import fingerprints as sf
from dflib.spectral import profile_probe as sp
from dflib.spectral import residuals as rx

torch.set_num_threads(1)


def profiles(n: int, bins: int = 33, shift: float = 0.0, seed: int = 0):
    """Noisy decaying profiles; fakes get ``shift`` added to their upper half."""
    rng = np.random.default_rng(seed)
    base = -np.linspace(0, 3, bins)
    y = np.r_[np.zeros(n), np.ones(n)].astype(int)
    x = base + rng.normal(0, 0.3, (2 * n, bins))
    x[y == 1, bins // 2 :] += shift
    return x, y


def test_probe_finds_separable_profiles():
    x, y = profiles(80, shift=0.5)
    probe = sp.fit_profile_probe(x, y, n_splits=5, seed=1)
    assert probe.n_splits == 5 and not probe.note
    assert probe.metrics["auc"] > 0.98
    assert probe.metrics["accuracy"] > 0.9 and probe.metrics["f1"] > 0.9
    assert probe.prob.shape == (160,) and np.all((probe.prob >= 0) & (probe.prob <= 1))
    # the shifted (upper) radii carry the positive weights
    assert probe.coef[17:].mean() > 0 > probe.coef[:16].mean() - 0.1


def test_probe_is_at_chance_on_random_profiles():
    x, y = profiles(100, shift=0.0, seed=3)
    probe = sp.fit_profile_probe(x, y, seed=0)
    assert 0.35 < probe.metrics["auc"] < 0.65


def test_probe_lowers_folds_and_explains_when_it_cannot_run():
    x, y = profiles(3, shift=1.0)
    assert sp.fit_profile_probe(x, y, n_splits=5).n_splits == 3
    lonely = sp.fit_profile_probe(x[:4], np.array([0, 0, 0, 1]))
    assert lonely.n_splits == 0 and "too few" in lonely.note
    assert math.isnan(lonely.metrics["auc"]) and np.isnan(lonely.prob).all()
    with pytest.raises(ValueError, match="profiles"):
        sp.fit_profile_probe(x[:, 0], y)


def test_stack_images_centre_crops_mixed_sizes():
    a = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    b = np.zeros((8, 8, 4), dtype=np.uint8)  # RGBA: alpha dropped
    batch, offsets = sp.stack_images([a, b])
    assert batch.shape == (2, 8, 8, 3) and batch.dtype == np.uint8
    assert offsets.tolist() == [[1, 2], [0, 0]]
    np.testing.assert_array_equal(batch[0], a[1:9, 2:10])
    with pytest.raises(ValueError, match="smaller than the crop"):
        sp.stack_images([a], size=11)


def test_family_groups_and_graceful_absence():
    rows = pd.DataFrame({"label": [0, 1, 1, 0], "family": [np.nan, "tconv", "nearest", ""]})
    assert sf.family_groups(rows).tolist() == ["real", "tconv", "nearest", "real"]
    assert sf.family_groups(rows.drop(columns="family")) is None
    assert sf.family_groups(rows.assign(family="")) is None


def test_grid_frequencies_are_unique_and_on_the_grid():
    grid = sf.grid_frequencies((64, 64), 4)
    assert len(grid) == 9  # 15 non-DC points of a 4x4 grid: 3 self-conjugate + 6 pairs
    assert set(np.round(grid["fy"] * 4).astype(int)) <= {-2, -1, 0, 1}
    np.testing.assert_array_equal(grid["row"], 32 + np.rint(grid["fy"] * 64))
    assert len(sf.grid_frequencies((64, 64), 2)) == 3


def test_grid_contrast_and_peaks_see_a_planted_checkerboard():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.05, (64, 64))
    planted = noise.copy()
    planted[32 + 16, 32] += 1.0  # fy = +0.25
    planted[32 - 16, 32] += 1.0  # its conjugate
    planted[0, 0] += 1.0  # (-0.5, -0.5): the Nyquist checkerboard
    assert abs(sf.grid_contrast(noise)) < 0.05
    assert sf.grid_contrast(planted) > 0.15
    peaks = sf.spectral_peaks(planted, k=2)
    assert peaks[["fy", "fx"]].to_numpy().tolist() in (
        [[0.25, 0], [-0.5, -0.5]],
        [[-0.5, -0.5], [0.25, 0]],
    )
    # on a point-symmetric map (any real image's spectrum) each +-f pair is listed once
    symmetric = noise + np.roll(np.flip(noise), 1, axis=(0, 1))
    listed = sf.spectral_peaks(symmetric, k=200)[["fy", "fx"]].to_numpy()
    conjugates = {(round(-a, 4) % 1, round(-b, 4) % 1) for a, b in listed}
    own = [(round(a, 4) % 1, round(b, 4) % 1) for a, b in listed]
    assert len(listed) > 20 and all(
        (a, b) not in conjugates or (a, b) in {(0, 0.5), (0.5, 0), (0.5, 0.5)} for a, b in own
    )
    table = sf.family_fingerprints({"tconv": planted, "bilinear": noise})
    assert table.loc["tconv", "grid_contrast"] > table.loc["bilinear", "grid_contrast"]
    assert table.loc["tconv", "+0.25,+0.00"] > 0.9


def noisy_batch(n: int = 12, size: int = 32, seed: int = 0) -> np.ndarray:
    """Smooth images with salt-and-pepper noise near 5 and 250."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    base = 128 + 60 * np.sin(2 * np.pi * (xx + rng.random((n, 1, 1)))) * np.cos(np.pi * yy)
    img = np.repeat(base[..., None], 3, -1) + rng.normal(0, 3, (n, size, size, 3))
    hits = rng.random(img.shape) < 0.04
    img[hits] = rng.choice([5, 250], hits.sum())
    return np.clip(img, 0, 255).astype(np.uint8)


def test_filter_spectra_and_summary():
    batch = noisy_batch()
    labels = np.r_[np.zeros(6), np.ones(6)].astype(int)
    groups = np.array(["real"] * 6 + ["tconv", "nearest"] * 3)
    spectra = fe.filter_spectra(batch, labels, ["none", "global_median", "coherent_noise_filter"],
                                tol=30, groups=groups, chunk=5)  # fmt: skip
    assert list(spectra) == ["none", "global_median", "coherent_noise_filter"]
    none = spectra["none"]
    assert none.profiles.shape == (12, 17) and set(none.means) == {0, 1}
    assert set(none.group_means) == {"real", "tconv", "nearest"}
    summary, removed, difference = fe.filter_summary(spectra, labels, n_splits=3)
    assert list(summary.index) == list(spectra) and list(removed.columns) == list(spectra)
    assert summary.loc["none", "high_band_change"] == 0 and summary.loc["none", "hf_diff_kept"] == 1
    # a median removes the white impulse noise: the high band drops
    assert summary.loc["global_median", "high_band_change"] < -0.2
    assert {"grid_tconv", "grid_nearest", "probe_auc", "ms_per_image"} <= set(summary.columns)
    assert removed.index.name == "cycles_per_pixel" and removed.index[-1] == 0.5
    assert set(fe.group_difference_maps(spectra, "tconv")) == set(spectra)
    assert fe.filter_difference_maps(spectra)["none"].shape == (32, 32)
    with pytest.raises(ValueError, match="none"):
        fe.filter_summary({"global_median": spectra["global_median"]}, labels)


def test_filter_spectra_none_matches_dflib_spectral():
    from dflib import spectral

    batch = noisy_batch(4)
    spectra = fe.filter_spectra(batch, np.array([0, 0, 1, 1]), ["none"])
    np.testing.assert_allclose(spectra["none"].profiles, spectral.radial_profiles(batch), atol=1e-5)
    assert spectra["none"].group_means is None


def test_region_centres_examples_and_residuals():
    rows = pd.DataFrame({"label": [0, 1, 1], "region_cy": [np.nan, 10.0, 100.0],
                         "region_cx": [np.nan, 12.0, 5.0]})  # fmt: skip
    centres = rx.region_centres(rows, 32, np.array([[0, 0], [2, 4], [0, 0]]))
    np.testing.assert_array_equal(centres, [[16, 16], [8, 8], [16, 16]])  # outside: centre
    np.testing.assert_array_equal(rx.region_centres(rows.drop(columns="region_cx"), 20), 10.0)
    labels = np.array([0, 0, 1, 1, 1, 1])
    groups = np.array(["real", "real", "tconv", "tconv", "nearest", "nearest"])
    picks, titles = rx.example_indices(labels, groups, 2)
    assert picks.tolist() == [0, 1, 4, 2]
    assert titles == ["real", "real", "fake (nearest)", "fake (tconv)"]
    assert rx.example_indices(labels, None, 1)[1] == ["real", "fake"]
    examples = rx.residual_examples(noisy_batch(3), np.array([[0, 0], [16, 16], [40, 40]]), 10)
    assert examples["image"].shape == (3, 10, 10, 3) and examples["image"].dtype == np.uint8
    assert examples["highpass"].shape == examples["npr"].shape == (3, 10, 10, 3)
    assert abs(examples["highpass"].mean()) < 0.1  # the DC term is gone
    centres = np.array([[0, 0], [16, 16], [40, 40]])
    filtered = rx.residual_examples(noisy_batch(3), centres, 10, noise_filter="global_median")
    assert np.abs(filtered["npr"]).mean() < np.abs(examples["npr"]).mean()  # impulses removed
