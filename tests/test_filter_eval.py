"""Filter scoring against clean copies, the verdict and the recommendation."""

import numpy as np
import pandas as pd
import pytest

from dflib.filters import evaluation as filter_eval
from dflib.filters import filter_set
from dflib.filters.evaluation import filter_scores


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    clean = rng.integers(60, 200, (3, 32, 32, 3), dtype=np.uint8)
    truth = rng.random(clean.shape) < 0.03
    noisy = np.where(truth, np.where(rng.random(clean.shape) < 0.5, 5, 250), clean).astype(np.uint8)
    regions = np.zeros(clean.shape[:3], dtype=np.float32)
    regions[:, 8:24, 8:24] = 1
    return noisy, clean, truth, regions


def test_perfect_and_untouched_filters(pair):
    noisy, clean, truth, regions = pair
    perfect = filter_scores(clean, noisy, clean, truth, regions)
    assert perfect["noise_repaired"] == 1.0 and perfect["genuine_changed"] == 0.0
    assert perfect["speckle_left"] == 0.0 and perfect["fake_hf_correlation"] == pytest.approx(1.0)
    assert perfect["psnr_db"] == float("inf") or perfect["psnr_db"] > 90
    untouched = filter_scores(noisy, noisy, clean, truth, regions)
    assert untouched["noise_repaired"] == 0.0 and untouched["fake_hf_energy_ratio"] > 1.0


def test_selective_filter_repairs_without_touching_genuine(pair):
    noisy, clean, truth, regions = pair
    filters = filter_set("none, global_median, selective_median", tol=30)
    table, outputs = filter_eval.compare_filters(filters, noisy, clean, truth, regions)
    assert list(table.index) == ["none", "global_median", "selective_median"]
    assert table.loc["selective_median", "genuine_changed"] == 0.0
    assert table.loc["global_median", "genuine_changed"] > 0.3
    assert table.loc["selective_median", "psnr_db"] > table.loc["none", "psnr_db"] + 5
    assert outputs["none"] is not None and table["ms_per_image"].gt(0).all()


def test_without_clean_copies_only_groundless_columns(pair):
    noisy, _, truth, regions = pair
    scores = filter_scores(noisy, noisy, None, truth, regions)
    assert scores == {"genuine_changed": 0.0}


def test_verdict_and_recommendation():
    probe = pd.DataFrame(
        {"auc": [0.80, 0.60, 0.85, 0.845]}, index=["none", "global_median", "selective", "coherent"]
    )
    assert filter_eval.median_verdict(probe).startswith("Yes")
    assert filter_eval.median_verdict(probe.assign(auc=[0.8, 0.81, 0.8, 0.8])).startswith(
        "No measurable"
    )
    quality = pd.DataFrame({"psnr_db": [20, 30, 38, 40]}, index=probe.index)
    assert (
        filter_eval.recommend(quality, probe)[0] == "coherent"
    )  # within 0.01 of the best, better PSNR


def test_region_masks_from_metadata():
    rows = pd.DataFrame({"region_cx": [16.0, np.nan], "region_cy": [16.0, np.nan], "region_rx": [6.0, np.nan],
                         "region_ry": [8.0, np.nan], "region_angle": [0.0, np.nan], "feather": [0.2, np.nan]})  # fmt: skip
    masks = filter_eval.fake_region_masks(rows, (32, 32))
    assert masks[0, 16, 16] == 1.0 and masks[0, 0, 0] == 0.0 and masks[1].sum() == 0
    assert filter_eval.fake_region_masks(pd.DataFrame({"id": [1]}), (8, 8)).sum() == 0


def test_changed_outside_flags_holds_each_filter_to_its_rule():
    from dflib import filters
    from dflib.filters.evaluation import changed_outside_flags

    rng = np.random.default_rng(0)
    noisy = rng.integers(40, 215, (2, 24, 24, 3), dtype=np.uint8)
    spots = rng.random(noisy.shape) < 0.05
    noisy[spots] = rng.choice([3, 250], size=int(spots.sum())).astype(np.uint8)
    named = filters.filter_set("selective_median,coherent_noise_filter,global_median", 30)
    out = {name: fn(noisy) for name, fn in named.items()}
    assert changed_outside_flags(noisy, out["selective_median"], 30, whole_pixel=False) == 0
    assert changed_outside_flags(noisy, out["coherent_noise_filter"], 30, whole_pixel=True) == 0
    assert changed_outside_flags(noisy, out["coherent_noise_filter"], 30, whole_pixel=False) > 0
    assert changed_outside_flags(noisy, out["global_median"], 30, whole_pixel=True) > 0
