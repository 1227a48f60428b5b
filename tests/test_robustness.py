"""The robustness study: perturbations and the tables built on them (dflib.study.robustness)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from dflib.study import robustness
from dflib.study.robustness import cross_fitted_f1, filter_settings
from dflib.train.machine import Device
from dflib.train.runs import run_folder, write_json


@pytest.fixture
def image() -> np.ndarray:
    """A smooth 64 px image with some texture (JPEG and blur act on it as on a photo)."""
    y, x = np.mgrid[0:64, 0:64]
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 20, (64, 64, 1))  # shared by the channels, like luminance detail
    base = np.stack([x * 3, y * 3, (x + y) * 2], axis=-1) + texture
    return np.clip(base, 0, 255).astype(np.uint8)


def test_jpeg_95_is_close_and_jpeg_30_is_not(image):
    high = robustness.apply(image, robustness.Condition("jpeg", 95))
    low = robustness.apply(image, robustness.Condition("jpeg", 30))

    def psnr(out):
        return 10 * np.log10(255**2 / ((out.astype(float) - image) ** 2).mean())

    assert np.abs(high.astype(int) - image).mean() < 2.0
    assert psnr(high) > 40
    assert psnr(low) < psnr(high) - 5


@pytest.mark.parametrize("kind", ["salt_pepper", "salt_pepper_far", "blur", "resize"])
def test_zero_strength_is_the_identity(image, kind):
    strength = 1.0 if kind == "resize" else 0.0
    assert np.array_equal(robustness.apply(image, robustness.Condition(kind, strength)), image)


@pytest.mark.parametrize("kind", ["brightness", "contrast"])
def test_factor_one_is_the_identity(image, kind):
    assert np.array_equal(robustness.apply(image, robustness.Condition(kind, 1.0)), image)


def test_every_strength_of_the_grid_is_applied(image):
    conditions = robustness.grid()
    assert conditions[0].kind == "clean"
    kinds = {c.kind for c in conditions}
    assert kinds == {"clean", *robustness.KINDS}
    # the default grid is the one the study reports
    assert [c.strength for c in conditions if c.kind == "jpeg"] == [95, 90, 75, 50, 30]
    assert [c.strength for c in conditions if c.kind == "blur"] == [0.5, 1, 2, 4]
    outputs = [robustness.apply(image, c, seed=1) for c in conditions]
    for condition, out in zip(conditions[1:], outputs[1:], strict=True):
        assert not np.array_equal(out, image), f"{condition.name} left the image unchanged"
    flat = {out.tobytes() for out in outputs}
    assert len(flat) == len(conditions), "two strengths gave the same image"


def test_output_stays_uint8_with_the_input_shape():
    rng = np.random.default_rng(3)
    odd = rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)  # not square, odd side
    for condition in robustness.grid():
        out = robustness.apply(odd, condition, seed=5)
        assert out.dtype == np.uint8 and out.shape == odd.shape, condition.name
        assert out is not odd


def test_noise_is_deterministic_given_a_seed_and_index(image):
    condition = robustness.Condition("salt_pepper", 0.05)
    a = robustness.apply(image, condition, seed=7, index=3)
    assert np.array_equal(a, robustness.apply(image, condition, seed=7, index=3))
    assert not np.array_equal(a, robustness.apply(image, condition, seed=8, index=3))
    assert not np.array_equal(a, robustness.apply(image, condition, seed=7, index=4))


def test_noise_density_and_values(image):
    far = robustness.grid(noise_densities="0.1", far_pepper="15,40", far_salt="215,240")
    cond = next(c for c in far if c.kind == "salt_pepper_far")
    out = robustness.apply(image, cond, seed=2)
    hit = out != image
    assert 0.07 < hit.mean() < 0.11  # ~10% of pixel-channels (a few hits equal the old value)
    values = out[hit]
    assert (((values >= 15) & (values <= 40)) | ((values >= 215) & (values <= 240))).all()
    near = robustness.apply(image, robustness.Condition("salt_pepper", 0.1), seed=2)
    v = near[near != image]
    assert (((v >= 1) & (v <= 10)) | ((v >= 245) & (v <= 254))).all()


def test_bad_input_and_unknown_kind_are_refused(image):
    with pytest.raises(ValueError, match="uint8"):
        robustness.apply(image.astype(np.float32), robustness.Condition("jpeg", 90))
    with pytest.raises(ValueError, match="unknown perturbation"):
        robustness.apply(image, robustness.Condition("crop", 0.5))


def test_filter_settings_and_cross_fitted_f1():
    assert filter_settings("30,45") == [("none", 0), ("coherent_noise_filter", 30),
                                        ("coherent_noise_filter", 45)]  # fmt: skip
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(80, int), np.ones(20, int)]
    separable = labels + rng.normal(0, 0.1, 100)
    assert cross_fitted_f1(labels, separable) > 0.9  # a threshold at the fit half's edge
    assert cross_fitted_f1(labels, rng.random(100)) < 0.6


def _scores() -> pd.DataFrame:
    rows = []
    for arch, clean, slope in (("a", 0.9, 0.1), ("b", 0.8, 0.3)):
        for kind, strength, k in (("clean", 0, 0), ("jpeg", 90, 1), ("jpeg", 50, 2)):
            rows.append({"run": f"r-{arch}", "arch": arch, "kind": kind, "strength": strength,
                         "condition": "clean" if kind == "clean" else f"jpeg-{strength}",
                         "filter": "none", "tol": 0, "own": True, "n": 100,
                         "auc": clean - slope * k / 2, "f1": 0.8 - slope * k / 2,
                         "threshold": 0.5, "f1_retuned": 0.8 - slope * k / 4,
                         "threshold_retuned": 0.4})  # fmt: skip
    return pd.DataFrame(rows)


def test_drops_degradation_ranking_recovery():
    scores = _scores()
    table = robustness.drops(scores)
    assert len(table) == 4
    assert table.loc[(table["arch"] == "b") & (table["strength"] == 50), "d_auc"].iat[
        0
    ] == pytest.approx(-0.3)
    # half of each drop is won back by re-tuning
    assert table["recovered"].to_numpy() == pytest.approx(np.full(4, 0.5))
    deg = robustness.degradation(table)
    assert list(deg.index) == ["a", "b"]
    ranks = robustness.ranking(scores)
    assert ranks["kept"].all()
    pivot = robustness.drop_table(table)
    assert pivot.shape == (2, 2)
    text = robustness.conclusions(scores)
    assert "**a**" in text and "2 of 2" in text


def test_perturbed_images_are_reused_and_rewritten_when_the_perturbation_changes(
    tmp_path, image, monkeypatch
):
    from PIL import Image

    from dflib.data import DataReport, ImageTable

    source = tmp_path / "source"
    source.mkdir()
    for i in range(3):
        Image.fromarray(np.roll(image, i, axis=1)).save(source / f"im{i}.png")
    frame = pd.DataFrame({"id": [f"im{i}" for i in range(3)], "label": [0, 1, 0],
                          "path": [str(source / f"im{i}.png") for i in range(3)]})  # fmt: skip
    table = ImageTable(frame, source, "test", DataReport(source))
    brighter = [robustness.Condition("brightness", 1.3)]
    first = robustness.perturbed_images(table, brighter, root=tmp_path / "perturbed")
    written = Path(first["brightness-1.3"].frame["path"][0])
    stamp = written.stat().st_mtime_ns
    again = robustness.perturbed_images(table, brighter, root=tmp_path / "perturbed")
    assert Path(again["brightness-1.3"].frame["path"][0]).stat().st_mtime_ns == stamp  # reused
    # a changed perturbation bumps PERTURBED_VERSION: its files are written anew, elsewhere
    monkeypatch.setattr(robustness, "PERTURBED_VERSION", robustness.PERTURBED_VERSION + 1)
    bumped = robustness.perturbed_images(table, brighter, root=tmp_path / "perturbed")
    assert Path(bumped["brightness-1.3"].frame["path"][0]) != written
    assert len(bumped["brightness-1.3"]) == 3


def test_a_run_is_rescored_in_the_precision_of_its_own_predictions(tmp_path):
    """A float32 run re-scored where ``amp="auto"`` gives bf16 (a CPU with native bf16)
    is scored in float32, as its own predictions were: the clean row compares like with
    like. A run without a recorded precision keeps the device's."""
    run = run_folder(tmp_path / "run")
    run.root.mkdir(parents=True)
    bf16 = Device(torch.device("cpu"), torch.bfloat16)
    assert robustness.in_its_own_precision(run, bf16) is bf16
    for recorded, dtype in (("float32", None), ("bfloat16", torch.bfloat16),
                            ("float16", torch.float16)):  # fmt: skip
        write_json(run.environment, {"device": "cpu", "precision": recorded})
        assert robustness.in_its_own_precision(run, bf16).amp_dtype == dtype
