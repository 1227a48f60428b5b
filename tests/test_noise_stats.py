"""Noise statistics: flags, density, single-channel share, the tolerance sweep."""

import numpy as np
import pandas as pd
import pytest

from dflib import data, synthetic
from dflib.filters import noise_stats


@pytest.fixture
def noisy_pair():
    rng = np.random.default_rng(0)
    clean = rng.integers(40, 216, (4, 32, 32, 3), dtype=np.uint8)
    clean[0, :8] = 20  # a genuinely dark band: tol >= 20 flags it wrongly
    truth = rng.random(clean.shape) < 0.03
    noisy = clean.copy()
    salt = rng.random(clean.shape) < 0.5
    noisy[truth & salt] = 250
    noisy[truth & ~salt] = 5
    return noisy, truth


def test_sweep_counts_caught_and_collateral(noisy_pair):
    noisy, truth = noisy_pair
    sweep = noise_stats.tolerance_sweep(noisy, truth, [0, 4, 5, 10, 25]).set_index("tol")
    assert sweep.loc[0, "noise_caught"] == 0 and sweep.loc[4, "noise_caught"] == 0
    assert sweep.loc[5, "noise_caught"] == 1.0 and sweep.loc[5, "genuine_flagged"] == 0
    assert sweep.loc[25, "genuine_flagged"] > 0  # the dark band
    assert sweep["pixel_noise_caught"].is_monotonic_increasing  # more tolerance, more caught
    assert noise_stats.recommend_tolerance(sweep.reset_index()) == 5


def test_single_channel_share():
    masks = np.zeros((1, 2, 2, 3), dtype=bool)
    masks[0, 0, 0, 0] = True  # one channel
    masks[0, 1, 1] = True  # all three
    assert noise_stats.single_channel_share(masks) == 0.5


def test_density_histograms_and_values(noisy_pair):
    noisy, truth = noisy_pair
    density = noise_stats.noise_density(noisy, tol=12)
    assert density.shape == (4,) and density[1] == pytest.approx(truth[1].mean())
    hist = noise_stats.channel_histograms(list(noisy))
    assert (
        hist.shape == (256, 3)
        and hist.sum() == noisy.size
        and hist[250].sum() == (noisy == 250).sum()
    )
    values = noise_stats.noise_values(noisy, truth)
    assert values.loc["pepper", "min"] == 5 and values.loc["salt", "max"] == 250
    assert values["at_0_or_255"].sum() == 0


def test_estimated_truth_finds_isolated_impulses(noisy_pair):
    noisy, truth = noisy_pair
    estimate = np.stack(noise_stats.estimate_noise_truth(noisy, tol=12))
    recall = (estimate & truth).sum() / truth.sum()
    assert recall > 0.9 and (estimate & ~truth).sum() < 0.01 * truth.sum()


def test_ground_truth_needs_a_benchmark_folder(tmp_path):
    with pytest.raises(ValueError, match="not a synthetic benchmark"):
        noise_stats.synthetic_ground_truth(tmp_path, ["train_00000"])


def test_ground_truth_rerenders_benchmark_images(tmp_path):
    root = synthetic.ensure_dataset("tiny", root=tmp_path / "b", progress=False)
    table = data.load_split(root)
    images, rows = data.sample_images(table, 3, seed=0)
    clean, masks = noise_stats.synthetic_ground_truth(root, rows["id"])
    for image, c, m in zip(images, clean, masks, strict=True):
        assert np.array_equal(image[~m], c[~m]) and (image[m] != c[m]).mean() > 0.5
    assert isinstance(noise_stats.tolerance_sweep(images, masks, [10]), pd.DataFrame)
