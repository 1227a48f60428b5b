"""The preprocessed cache: built once, keyed by what made it, bad files left out."""

from __future__ import annotations

import numpy as np
import pytest

from dflib import data
from dflib.data import cache as cache_module
from dflib.data.cache import CachedImageDataset, build_cache
from dflib.imageio import read_image, resize_square


class Invert:
    """A deterministic preprocessing with a cache key, as the noise filters have."""

    cache_key = "invert"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return 255 - batch


@pytest.fixture
def table(messy_csv_folder):
    return data.load_split(messy_csv_folder)


def test_cache_skips_bad_files_and_reports_them(table, tmp_path):
    cache = build_cache(table, 32, root=tmp_path, workers=1, progress=False)
    skipped = dict(table.report.skipped)
    bad = [p for p in skipped if p.endswith(("corrupt.png", "truncated.png"))]
    assert len(bad) == 2
    assert len(cache) == 10 and cache[:].shape == (10, 32, 32, 3) and cache[0].dtype == np.uint8
    assert not cache.frame["path"].str.endswith(("corrupt.png", "truncated.png")).any()
    expected = resize_square(read_image(cache.frame["path"][0]), 32)
    assert np.array_equal(cache[0], expected)


def test_cache_applies_preprocess_and_keys_on_it(table, tmp_path):
    plain = build_cache(table, 32, root=tmp_path, workers=1, progress=False)
    inverted = build_cache(table, 32, Invert(), root=tmp_path, workers=1, progress=False)
    assert plain.folder != inverted.folder
    assert np.array_equal(inverted[:], 255 - plain[:])
    assert build_cache(table, 24, root=tmp_path, workers=1, progress=False).folder != plain.folder


def test_cache_is_reused_not_rebuilt(table, tmp_path, monkeypatch):
    first = build_cache(table, 32, root=tmp_path, workers=1, progress=False)
    monkeypatch.setattr(cache_module, "_build", lambda *a, **k: pytest.fail("rebuilt"))
    again = build_cache(table, 32, root=tmp_path, workers=1, progress=False)
    assert again.folder == first.folder and np.array_equal(again[:], first[:])


def test_cache_parallel_equals_serial(table, tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "CHUNK", 3)
    serial = build_cache(table, 16, Invert(), root=tmp_path / "a", workers=1, progress=False)
    parallel = build_cache(table, 16, Invert(), root=tmp_path / "b", workers=2, progress=False)
    assert np.array_equal(serial[:], parallel[:])
    assert serial.labels.tolist() == parallel.labels.tolist()


def test_preprocess_without_key_is_refused(table, tmp_path):
    with pytest.raises(TypeError, match="cache_key"):
        build_cache(table, 16, lambda batch: batch, root=tmp_path, progress=False)


def test_crashed_build_leaves_no_cache(table, tmp_path, monkeypatch):
    def explode(job):
        raise RuntimeError("power cut")

    monkeypatch.setattr(cache_module, "_fill_chunk", explode)
    with pytest.raises(RuntimeError):
        build_cache(table, 16, root=tmp_path, workers=1, progress=False)
    assert not list(tmp_path.glob("*/index.csv"))
    monkeypatch.undo()
    assert len(build_cache(table, 16, root=tmp_path, workers=1, progress=False)) == 10


def test_dataset_yields_chw_tensors(table, tmp_path):
    import torch

    cache = build_cache(table, 16, root=tmp_path, workers=1, progress=False)
    dataset = CachedImageDataset(cache, indices=[1, 3], transform=lambda x: x.float() / 255)
    image, label = dataset[1]
    assert len(dataset) == 2 and image.shape == (3, 16, 16) and image.dtype == torch.float32
    assert label == cache.labels[3]


def test_preprocess_first_runs_at_native_size(table, tmp_path):
    seen = []

    class Record(Invert):
        cache_key = "record"

        def __call__(self, batch):
            seen.append(batch.shape[1:3])
            return super().__call__(batch)

    after = build_cache(table, 16, Record(), root=tmp_path, workers=1, progress=False)
    assert set(seen) == {(16, 16)}
    seen.clear()
    first = build_cache(
        table, 16, Record(), preprocess_first=True, root=tmp_path, workers=1, progress=False
    )
    assert first.folder != after.folder and (40, 40) in seen
    expected = resize_square(255 - read_image(first.frame["path"][0]), 16)
    assert np.array_equal(first[0], expected)


def test_two_processes_asking_for_one_cache_build_it_once(messy_csv_folder, tmp_path):
    """Parallel test workers (and two notebooks) ask for the same cache at once: the
    first builds it, the second waits for it and reuses it (a build that lasts seconds,
    so both ask before either ends)."""
    import subprocess
    import sys

    script = (
        "import sys, time; import dflib.data.cache as c; from dflib import data\n"
        "build = c._build\n"
        "def slow(*a, **k):\n"
        "    print('BUILT', flush=True); time.sleep(3); build(*a, **k)\n"
        "c._build = slow\n"
        f"table = data.load_split({str(messy_csv_folder)!r}, 'train')\n"
        f"cache = c.build_cache(table, 16, root={str(tmp_path / 'caches')!r}, workers=1, progress=False)\n"
        "print('IMAGES', len(cache))\n"
    )
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum(out.count("BUILT") for out in outputs) == 1, outputs
    assert all("IMAGES 10" in out for out in outputs), outputs
