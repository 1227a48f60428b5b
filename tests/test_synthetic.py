"""The embedded benchmark: determinism, counts, noise, fakes, layout, resume, weights."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage

from dflib import synthetic
from dflib.synthetic import generator_sim, get_config, labels, render, render_real
from dflib.synthetic import io as synthetic_io
from dflib.synthetic.fake import region_mask

TINY = get_config("tiny")
# Fewer images for the disk tests; n_fake_train keeps both classes present.
MINI = get_config("tiny", n_train=24, n_fake_train=6, n_test=8, image_size=32)


def _fake_indices(config, split="train"):
    return np.flatnonzero(labels(split, config))


def test_presets_and_counts():
    full = get_config("full")
    assert (full.n_train, full.n_fake_train, full.n_test, full.n_fake_test) == (
        50_000, 8_500, 10_000, 1_700)  # fmt: skip
    assert full.image_size == 256 and full.seed == 42
    assert get_config("smoke").n_train == 2_000 and get_config("smoke").image_size == 64
    assert get_config("full", n_train=10_000).n_fake_train == 1_700  # ratio kept
    assert len(set(full.families)) >= 2
    with pytest.raises(ValueError, match="unknown synthetic size"):
        get_config("huge")


def test_key_is_stable_and_tracks_settings():
    assert TINY.key == get_config("tiny").key
    assert TINY.key != get_config("tiny", seed=7).key
    assert TINY.key != get_config("tiny", strength=(0.1, 0.2)).key


@pytest.mark.parametrize("split", ["train", "test"])
def test_exact_class_counts(split):
    lab = labels(split, TINY)
    assert len(lab) == TINY.n_images(split)
    assert lab.sum() == TINY.n_fakes(split) == {"train": 34, "test": 7}[split]


def test_render_is_deterministic_and_distinct():
    idx = int(_fake_indices(TINY)[0])
    a, b = render(idx, "train", TINY), render(idx, "train", TINY)
    assert np.array_equal(a.noisy, b.noisy) and np.array_equal(a.clean, b.clean)
    assert a.meta == b.meta
    c = render(idx + 1, "train", TINY)
    assert not np.array_equal(a.clean, c.clean)
    assert not np.array_equal(render(idx, "test", TINY).clean, a.clean)
    assert a.noisy.shape == (64, 64, 3) and a.noisy.dtype == np.uint8


@pytest.mark.parametrize("index", range(0, 200, 23))
def test_noise_near_but_not_at_extremes(index):
    s = render(index, "train", TINY)
    lo, hi = TINY.noise_density
    assert lo <= s.meta["noise_density"] <= hi
    # Clean and noisy differ only where the mask says a channel was hit.
    assert not np.any((s.noisy != s.clean) & ~s.noise_mask)
    hit = s.noisy[s.noise_mask]
    pepper = (hit >= TINY.pepper[0]) & (hit <= TINY.pepper[1])
    salt = (hit >= TINY.salt[0]) & (hit <= TINY.salt[1])
    assert np.all(pepper | salt)
    assert hit.min() > 0 and hit.max() < 255
    # Measured density agrees with the drawn one (binomial, 12,288 trials: 5 sigma).
    n, p = s.noise_mask.size, s.meta["noise_density"]
    assert abs(s.noise_mask.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_channels_are_hit_independently():
    s = render(0, "train", get_config("tiny", image_size=128))
    per_pixel = s.noise_mask.sum(2)
    assert (per_pixel == 1).sum() > 10 * (per_pixel == 3).sum()


def test_fakes_change_only_their_region():
    for idx in _fake_indices(TINY)[:8]:
        fake = render(int(idx), "train", TINY)
        real, real_meta = render_real(int(idx), "train", TINY)
        m = fake.meta
        assert fake.label == 1 and m["family"] in TINY.families
        assert TINY.strength[0] <= m["strength"] <= TINY.strength[1]
        assert m["source"] == real_meta["source"]
        inside = (
            region_mask(
                (64, 64),
                m["region_cx"],
                m["region_cy"],
                m["region_rx"],
                m["region_ry"],
                m["region_angle"],
                m["feather"],
            )
            > 0
        )
        near = ndimage.binary_dilation(inside, iterations=2)
        changed = np.any(fake.clean != real, axis=2)
        assert not np.any(changed & ~near), "pixels changed outside the region"
        assert changed[inside].mean() > 0.2, "the region was barely touched"


def test_reals_are_the_untouched_crop():
    idx = int(np.flatnonzero(labels("train", TINY) == 0)[0])
    s = render(idx, "train", TINY)
    assert s.label == 0 and s.meta["family"] == ""
    assert np.array_equal(s.clean, render_real(idx, "train", TINY)[0])


def test_all_families_appear():
    seen = {render(int(i), "train", TINY).meta["family"] for i in _fake_indices(TINY)}
    assert seen == set(TINY.families)


def test_photos_are_bundled_only():
    names = synthetic.photo_names()
    assert {"astronaut", "coffee", "camera"} <= set(names)
    assert not {"eagle", "lily", "skin"} & set(names)
    assert synthetic.load_photo("stereo_motorcycle").ndim == 3


def test_weights_load_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", no_network)
    generator_sim.load_simulator.cache_clear()
    assert generator_sim.WEIGHTS_PATH.is_file()
    with np.load(generator_sim.WEIGHTS_PATH, allow_pickle=False) as z:
        assert {k.split("/")[0] for k in z.files} == set(generator_sim.FAMILIES)
    patch = render_real(1, "train", TINY)[0][17:47, 19:45] / 255.0  # odd size: padding path
    for family in generator_sim.FAMILIES:
        out = generator_sim.resynthesise(patch, family)
        assert out.shape == patch.shape and np.isfinite(out).all()
        # A trained auto-encoder reconstructs, but not perfectly: traces remain.
        assert 0.0 < np.abs(out - patch).mean() < 0.12


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_layout_and_reuse(tmp_path):
    root = synthetic.ensure_dataset(MINI, root=tmp_path / "bench", workers=1, progress=False)
    assert sorted(p.name for p in root.iterdir()) == [
        "dataset.json", "test", "test_labels.csv", "train", "train.csv"]  # fmt: skip
    train = pd.read_csv(root / "train.csv")
    assert list(train.columns[:2]) == ["id", "label"]
    for col in ("family", "region_cx", "strength", "noise_density", "salt_value", "source"):
        assert col in train.columns
    assert train["id"].tolist() == [f"train_{i:05d}" for i in range(24)]
    assert train["label"].sum() == 6
    assert sorted(p.name for p in (root / "train").iterdir()) == [f"{i}.png" for i in train["id"]]
    test = pd.read_csv(root / "test_labels.csv")
    assert len(test) == 8 and test["label"].sum() == MINI.n_fake_test
    assert all(p.suffix == ".png" for p in (root / "test").iterdir())  # no labels in test/
    assert np.array_equal(_png(root / "train" / "train_00003.png"), render(3, "train", MINI).noisy)
    info = json.loads((root / "dataset.json").read_text())
    assert info["key"] == MINI.key and info["counts"]["train"] == {
        "total": 24,
        "real": 18,
        "fake": 6,
    }
    stamp = (root / "dataset.json").stat().st_mtime_ns
    assert synthetic.ensure_dataset(MINI, root=root, progress=False) == root
    assert (root / "dataset.json").stat().st_mtime_ns == stamp  # reused, not rebuilt


def test_default_root_is_keyed_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DFLIB_CACHE", str(tmp_path))
    root = synthetic.ensure_dataset(MINI, workers=1, progress=False)
    assert root == tmp_path / "synthetic" / MINI.key


def test_worker_count_does_not_change_the_data(tmp_path):
    one = synthetic.ensure_dataset(MINI, root=tmp_path / "one", workers=1, progress=False)
    two = synthetic.ensure_dataset(MINI, root=tmp_path / "two", workers=2, progress=False)
    for split in ("train", "test"):
        for path in sorted((one / split).iterdir()):
            assert path.read_bytes() == (two / split / path.name).read_bytes(), path.name
    assert (one / "train.csv").read_text() == (two / "train.csv").read_text()


def test_resume_after_crash(tmp_path, monkeypatch):
    root = tmp_path / "bench"

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(synthetic_io, "_finish", crash)
    with pytest.raises(KeyboardInterrupt):
        synthetic.ensure_dataset(MINI, root=root, workers=1, progress=False)
    partial = tmp_path / "bench.partial"
    assert not root.exists() and partial.is_dir()
    monkeypatch.undo()

    broken, missing, kept = (partial / "train" / f"train_{i:05d}.png" for i in (5, 9, 1))
    broken.write_bytes(broken.read_bytes()[:100])  # a write cut short
    missing.unlink()
    assert not synthetic_io.png_is_complete(broken)
    old = kept.stat().st_mtime_ns
    os.utime(kept, ns=(old - 10**9, old - 10**9))  # so a rewrite would show

    synthetic.ensure_dataset(MINI, root=root, workers=1, progress=False)
    assert not partial.exists() and synthetic_io.is_complete(root)
    assert (root / "train" / kept.name).stat().st_mtime_ns == old - 10**9  # skipped
    for i in (5, 9):
        assert np.array_equal(
            _png(root / "train" / f"train_{i:05d}.png"), render(i, "train", MINI).noisy
        )
    assert len(pd.read_csv(root / "train.csv")) == 24


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (37, 41)])
def test_png_encoder_round_trips(shape):
    import io

    rgb = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(synthetic_io.encode_png(rgb)))), rgb)
