"""Spectral figures draw the expected panels and colour bars, on shared colour scales."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from dflib.viz import plotting
from dflib.viz import residuals as pr
from dflib.viz import spectra as ps


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def images_of(fig):
    """The image artists of each axes that has one (colour bars excluded)."""
    return [ax.images[0] for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def colourbars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_class_spectra_share_one_scale_and_label_the_frequency_axes(tmp_path):
    rng = np.random.default_rng(0)
    real, fake = rng.normal(0, 1, (2, 16, 16))
    fig = ps.class_spectra(real, fake)
    assert len(fig.axes) == 5 and len(colourbars(fig)) == 2
    first, second, diff = images_of(fig)
    assert first.get_clim() == second.get_clim()
    low, high = diff.get_clim()
    assert low == -high > -np.inf
    assert "cycles/pixel" in fig.axes[0].get_xlabel()
    assert first.get_extent()[0] < -0.49 and first.get_extent()[1] > 0.46
    assert plotting.save(fig, tmp_path / "spectra.png").stat().st_size > 1000


def test_profile_bands_draws_mean_std_and_difference():
    rng = np.random.default_rng(1)
    profiles = rng.normal(0, 1, (20, 9))
    labels = np.arange(20) % 2
    fig = ps.profile_bands(profiles, labels, np.arange(9) / 16)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[0].collections) >= 2  # 2 std bands
    assert all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in fig.axes)


def test_difference_maps_one_symmetric_scale_and_markers():
    rng = np.random.default_rng(2)
    maps = {"tconv": rng.normal(0, 1, (16, 16)), "nearest": rng.normal(0, 3, (16, 16)),
            "bilinear": rng.normal(0, 1, (16, 16))}  # fmt: skip
    grid = pd.DataFrame({"fy": [0.25], "fx": [0.0]})
    peaks = pd.DataFrame({"group": ["tconv"], "fy": [0.25], "fx": [0.0]})
    fig = ps.difference_maps(maps, "title", markers=grid, peaks=peaks, ncols=2)
    assert len(images_of(fig)) == 3 and len(colourbars(fig)) == 1
    assert len(fig.axes) == 2 * 2 + 1  # the fourth panel is blank
    clims = {im.get_clim() for im in images_of(fig)}
    assert len(clims) == 1 and next(iter(clims))[0] == -next(iter(clims))[1]
    assert [ax.get_title() for ax in fig.axes[:3]] == ["tconv", "nearest", "bilinear"]
    assert len(fig.axes[0].collections) == 2  # grid rings and peak crosses


def test_family_filter_residual_and_probe_figures():
    rng = np.random.default_rng(3)
    fig = ps.family_profiles({"tconv": rng.normal(0, 1, (16, 16))})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 2  # profile and zero line
    index = pd.Index(np.arange(9) / 16, name="cycles_per_pixel")
    frame = pd.DataFrame(rng.normal(0, 1, (9, 2)), index=index, columns=["none", "global_median"])
    summary = pd.DataFrame({"probe_auc": [0.8, 0.6]}, index=["none", "global_median"])
    fig = ps.filter_effect(frame, frame, summary)
    assert len(fig.axes) == 3 and len(fig.axes[2].patches) == 2
    examples = {"image": rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8),
                "highpass": rng.normal(0, 0.1, (2, 8, 8, 3)).astype(np.float32),
                "npr": rng.normal(0, 0.1, (2, 8, 8, 3)).astype(np.float32)}  # fmt: skip
    fig = pr.residual_grid(examples, ["real", "fake"], 0.5)
    assert len(fig.axes) == 2 * 3 + 2 and len(colourbars(fig)) == 2
    grey = [im for im in images_of(fig) if im.get_array().ndim == 2]
    assert len(grey) == 4 and len({im.get_clim() for im in grey[::2]}) == 1
    y = np.arange(40) % 2
    prob = np.clip(y * 0.6 + rng.random(40) * 0.4, 0, 1)
    fig = pr.probe_result(
        y, prob, {"auc": 0.9, "accuracy": 0.8, "f1": 0.8}, np.ones(9), index.to_numpy()
    )
    assert len(fig.axes) == 3 and "AUC 0.900" in fig.axes[0].get_legend().get_texts()[0].get_text()
