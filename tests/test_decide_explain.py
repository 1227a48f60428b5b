"""Explanations: Grad-CAM for every convolutional model, the fake-region masks and the
CAM-mass ratio, frequency-band occlusion, and their figures.

Toy inputs with known answers: a uniform map (ratio exactly 1), a map inside the region
(ratio 1 / area), images whose spectrum is empty in a band (zeroing it changes nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from dflib.models import create_model, list_models
from dflib.study import explain
from dflib.study.explain import mass_share_summary
from dflib.synthetic.fake import region_mask


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# --- Grad-CAM ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list_models())
def test_grad_cam_shape_and_sign_for_every_model(name):
    model = create_model(name).eval()
    layer = explain.cam_layer(model, 64)
    assert min(layer.shape[1:]) >= 2 and layer.calls == 1
    x = torch.randn(2, 3, 64, 64)
    cams = explain.grad_cam(model, x, layer.module)
    assert cams.shape == (2, 64, 64) and np.isfinite(cams).all() and (cams >= 0).all()
    signed = explain.grad_cam(model, x, layer.module, relu=False)
    assert np.abs(signed).max() > 0  # the layer is on the path to the logit
    assert (signed < 0).any() or np.allclose(signed, cams)  # relu drops only the negatives
    sharp = explain.cam_layer(model, 64, min_side=8)
    assert min(sharp.shape[1:]) >= 8


def test_cam_layer_by_name_and_its_errors():
    model = create_model("xception_resnet50").eval()
    assert explain.cam_layer(model, 64).name == "stages"  # the deepest map
    named = explain.cam_layer(model, 64, name="stages.2")
    assert named.module is model.stages[2] and named.shape[1:] == (4, 4)
    with pytest.raises(ValueError, match="does not output one spatial map"):
        explain.cam_layer(model, 64, name="fc")
    with pytest.raises(ValueError, match="min_side"):
        explain.cam_layer(model, 64, min_side=128)


def test_resnet_bottleneck_internals_are_not_chosen():
    """At 64 px ResNet-50's layer3 strides 8 -> 4 inside its first block: the sharp
    choice is the whole of layer2, not the block's first 1x1 conv."""
    model = create_model("resnet50").eval()
    assert explain.cam_layer(model, 64, min_side=8).name == "layer2"


# --- fake regions and the CAM-mass ratio --------------------------------------------------


def _ellipse_frame(tmp_path, native=64):
    path = tmp_path / "fake.png"
    Image.fromarray(np.zeros((native, native, 3), np.uint8)).save(path)
    real = tmp_path / "real.png"
    Image.fromarray(np.zeros((native, native, 3), np.uint8)).save(real)
    params = {"region_cx": 30.0, "region_cy": 22.0, "region_rx": 12.0, "region_ry": 16.0,
              "region_angle": 20.0, "feather": 0.25}  # fmt: skip
    frame = pd.DataFrame([{"path": str(path), "label": 1, **params},
                          {"path": str(real), "label": 0, **dict.fromkeys(params, np.nan)}])  # fmt: skip
    return frame, params


def test_region_masks_follow_the_metadata_at_any_size(tmp_path):
    frame, params = _ellipse_frame(tmp_path)
    native = explain.region_masks(frame, 64)
    expected = region_mask((64, 64), *params.values()) > 0
    np.testing.assert_array_equal(native[0] > 0.5, expected)
    assert native[1].max() == 0  # a real image has no region
    half = explain.region_masks(frame, 32)[0]
    assert half.mean() == pytest.approx(expected.mean(), abs=0.01)
    ys, xs = np.mgrid[0:32, 0:32]
    centre = ((xs * half).sum() / half.sum(), (ys * half).sum() / half.sum())
    assert centre == pytest.approx(((30 + 0.5) / 2 - 0.5, (22 + 0.5) / 2 - 0.5), abs=0.3)
    assert explain.region_masks(frame[["path", "label"]], 32).max() == 0  # no metadata


def test_cam_mass_share_uniform_concentrated_and_empty():
    rng = np.random.default_rng(0)
    masks = (rng.random((4, 16, 16)) < 0.3).astype(float)
    uniform = explain.cam_mass_share(np.ones((4, 16, 16)), masks)
    np.testing.assert_allclose(uniform["inside"], uniform["area"])
    np.testing.assert_allclose(uniform["ratio"], 1.0)
    inside = explain.cam_mass_share(masks * rng.random((4, 16, 16)), masks)
    np.testing.assert_allclose(inside["inside"], 1.0)
    assert (inside["ratio"] > 1).all()
    np.testing.assert_allclose(inside["ratio"], 1 / masks.reshape(4, -1).mean(axis=1))
    outside = explain.cam_mass_share(1 - masks, masks)
    np.testing.assert_allclose(outside["ratio"], 0.0)
    empty = explain.cam_mass_share(np.zeros((1, 16, 16)), masks[:1])
    assert empty["ratio"].isna().all()
    no_region = explain.cam_mass_share(np.ones((1, 16, 16)), np.zeros((1, 16, 16)))
    assert no_region["ratio"].isna().all()
    anywhere = explain.cam_mass_share(rng.random((4, 16, 16)), masks)  # Grad-CAM is >= 0
    assert anywhere["inside"].between(0, 1).all()


def test_mass_share_summary_groups():
    shares = pd.DataFrame({"inside": [0.5, 0.2, 0.9, np.nan], "area": [0.25, 0.25, 0.3, np.nan],
                           "ratio": [2.0, 0.8, 3.0, np.nan]})  # fmt: skip
    frame = pd.DataFrame({"label": [1, 1, 1, 0], "prob": [0.9, 0.1, 0.7, 0.2],
                          "family": ["tconv", "nearest", "tconv", ""]})  # fmt: skip
    summary = mass_share_summary(shares, frame, threshold=0.5)
    assert summary.loc["all fakes", "n"] == 3
    assert summary.loc["all fakes", "ratio"] == pytest.approx(29 / 15)
    assert summary.loc["detected", "ratio"] == pytest.approx(2.5)
    assert summary.loc["missed", "ratio"] == pytest.approx(0.8)
    assert summary.loc["family tconv", "share_above_1"] == 1.0
    assert summary.loc["family nearest", "share_above_1"] == 0.0


# --- frequency bands --------------------------------------------------------------------


def _low_frequency_images(n=6, size=32, seed=0):
    """Images whose only non-DC energy is at |f| = 0.125 Nyquist (2 cycles per 32 px)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size]
    images = []
    for _ in range(n):
        phase = rng.uniform(0, 2 * np.pi, 3)[:, None, None]
        amp = rng.uniform(0.1, 0.3, 3)[:, None, None]
        images.append(0.5 + amp * np.cos(2 * np.pi * 2 * xs / size + phase))
    return torch.tensor(np.stack(images), dtype=torch.float32)


def test_band_edges_partition_every_frequency():
    edges = explain.band_edges(8)
    radius = explain.radial_frequency(32, 48)
    counts = sum(((radius >= lo) & (radius < hi)).astype(int)
                 for lo, hi in zip(edges[:-1], edges[1:], strict=True))  # fmt: skip
    assert (counts == 1).all() and edges[0] == 0 and radius.max() < edges[-1]


def test_zeroing_an_empty_band_changes_nothing():
    x = _low_frequency_images()
    torch.testing.assert_close(explain.zero_band(x, 0.5, 1.5), x, atol=1e-6, rtol=0)
    flat = explain.zero_band(x, 0.1, 0.2)  # the band holding the cosine
    torch.testing.assert_close(
        flat, x.mean(dim=(-2, -1), keepdim=True).expand_as(x), atol=1e-6, rtol=0
    )
    energy = explain.band_energy(x, np.array([0.0, 0.1, 0.2, 1.5]))
    np.testing.assert_allclose(energy, [0.0, 1.0, 0.0], atol=1e-9)


def test_band_occlusion_of_a_band_without_energy_changes_nothing():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(8, 2)).eval()  # fmt: skip
    score = explain.run_scorer(model, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), "cpu", batch_size=4)
    x = _low_frequency_images(8)
    labels = np.array([0, 1] * 4)
    table = explain.band_occlusion(score, x, labels, np.array([0.0, 0.1, 0.2, 0.6, 1.5]))
    assert list(table.index) == ["none", "0.00-0.10", "0.10-0.20", "0.20-0.60", "0.60-1.41"]
    for empty in ("0.00-0.10", "0.20-0.60", "0.60-1.41"):
        assert table.loc[empty, "max_change"] < 1e-6 and table.loc[empty, "drop_auc"] == 0
    assert table.loc["0.10-0.20", "max_change"] > 1e-4
    assert table.loc["0.10-0.20", "energy_share"] == pytest.approx(1.0)
    assert table.loc["none", "drop_fake"] == 0


# --- figures ----------------------------------------------------------------------------


def test_explain_figures_draw(tmp_path):
    from dflib.viz import explain as figures
    from dflib.viz.plotting import save

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    masks = np.zeros((5, 32, 32))
    masks[:2, 8:20, 10:24] = 1
    cams = rng.random((5, 32, 32))
    fig = figures.cam_gallery(images, cams, masks, list("abcde"), ncols=3)
    assert len(fig.axes) == 12  # two rows per image, two blocks of three columns
    shares = explain.cam_mass_share(cams, masks)
    x = _low_frequency_images(4)
    score = explain.run_scorer(nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 1)), (0, 0, 0),
                               (1, 1, 1), "cpu")  # fmt: skip
    bands = explain.band_occlusion(score, x, np.array([0, 1, 0, 1]), explain.band_edges(4))
    for name, figure in {"gallery": fig, "ratio": figures.mass_ratio(shares, [1, 1, 0, 0, 0]),
                         "bands": figures.band_occlusion(bands)}.items():  # fmt: skip
        assert save(figure, tmp_path / f"{name}.png").stat().st_size > 0
