"""Every plotting function draws a figure with the expected panels, without a display."""

import numpy as np
import pandas as pd

from dflib.viz import plotting


def test_figures_draw(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 24, 24, 3), dtype=np.uint8)
    sweep = pd.DataFrame({"tol": [0, 10], "noise_caught": [0, 1], "genuine_flagged": [0.01, 0.1],
                          "pixel_noise_caught": [0, 1], "pixel_genuine_flagged": [0.02, 0.2]})  # fmt: skip
    figures = {
        "balance": (plotting.class_balance([830, 170]), 1),
        "grid": (plotting.image_grid(images, ["a", "b", "c", "d"], ncols=3), 6),
        "zoom": (plotting.zoom_compare(list(images[:2]), ["x", "y"], (2, 2, 8)), 4),
        "hist": (plotting.channel_histograms(np.ones((256, 3))), 3),
        "density": (plotting.density_by_class(rng.random(20), np.arange(20) % 2), 1),
        "tolerance": (plotting.tolerance_curve(sweep, 10), 2),
        "bars": (
            plotting.metric_bars(sweep.set_index("tol"), ["noise_caught", "ssim"], "t", ncols=2),
            2,
        ),
    }
    for name, (fig, panels) in figures.items():
        assert len(fig.axes) == panels, name
        assert plotting.save(fig, tmp_path / f"{name}.png").stat().st_size > 1000
    assert "4.88" in figures["balance"][0].axes[0].get_title()


def test_metric_bars_one_panel_per_present_column():
    table = pd.DataFrame({"auc": [0.9, 0.5], "f1": [0.8, 0.1], "x": [1, 2]}, index=["a", "b"])
    fig = plotting.metric_bars(table, ["auc", "f1", "missing"], "scores", ncols=3)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles == ["auc", "f1"]
