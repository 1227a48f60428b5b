"""Shared fixtures: small data folders in the layouts users bring, odd files included;
the scripts of scripts/ as modules."""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Runs made by tests (and by the notebooks nbmake executes in the same session, whose
# kernels inherit this environment) go to a scratch folder, not the project's runs/. The
# pytest-xdist workers of one session share it (xdist gives them one run id), so a run
# several notebooks read is made once (dflib.train.plan holds a lock while it trains one).
_SESSION = os.environ.get("PYTEST_XDIST_TESTRUNUID")
os.environ.setdefault(
    "DFLIB_RUNS",
    str(Path(tempfile.gettempdir()) / f"dflib-test-runs-{_SESSION}")
    if _SESSION
    else tempfile.mkdtemp(prefix="dflib-test-runs-"),
)
# and what the notebooks that read runs make (thresholds, figures, tables) beside them
os.environ.setdefault("DFLIB_STUDIES", os.environ["DFLIB_RUNS"] + "-studies")


SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture(scope="session")
def script():
    """``script("ledger")``: a script of ``scripts/`` as a module. ``scripts/`` is on the
    path while it loads, as when the script is run, since the scripts import each other by
    module name (``from ledger import write_entry``)."""

    def load(name: str):
        sys.path.insert(0, str(SCRIPTS))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(str(SCRIPTS))

    return load


def write_rgb(
    path: Path, seed: int, size: int = 40, mode: str = "RGB", fmt: str | None = None
) -> Path:
    """Write a random image in a given PIL mode (converted from RGB)."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    if mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE)
    elif mode != "RGB":
        image = image.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)
    return path


@pytest.fixture(autouse=True)
def close_figures():
    """Each test's pyplot figures are closed after it: pyplot keeps every figure open, and
    a worker that ran the plotting tests one after another held more than 20."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def eager_backend(monkeypatch):
    """``torch.compile`` with dynamo's ``eager`` backend: what dynamo traces and counts, without
    inductor's code generation (minutes per model on a 2-core CPU)."""
    import torch

    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda module, mode=None: real(module, backend="eager"))


@pytest.fixture
def messy_csv_folder(tmp_path: Path) -> Path:
    """A CSV-layout folder with every kind of odd file a real download holds.

    Usable: 4 ordinary PNG, grayscale, RGBA, palette, an upper-case ``.PNG``, a 16-bit
    PNG and a CMYK JPEG (10 images, 3 of them fake). Unusable: a corrupt file, an empty
    file, a truncated PNG, a row whose path escapes the folder with ``../`` and a row
    naming a missing file.
    """
    root = tmp_path / "real_layout"
    images = root / "train"
    rows = []
    for i in range(4):
        write_rgb(images / f"ok_{i}.png", i)
        rows.append((f"ok_{i}", i % 2))
    write_rgb(images / "gray.png", 10, mode="L")
    write_rgb(images / "rgba.png", 11, mode="RGBA")
    write_rgb(images / "palette.png", 12, mode="P")
    write_rgb(images / "upper.PNG", 13)
    Image.fromarray(np.full((20, 20), 40000, dtype=np.uint16)).save(images / "deep.png")
    write_rgb(images / "cmyk.jpg", 14, mode="CMYK", fmt="JPEG")
    rows += [
        ("gray", 0),
        ("rgba", 0),
        ("palette", 1),
        ("upper", 0),
        ("deep.png", 0),
        ("train/cmyk.jpg", 0),
    ]
    (images / "corrupt.png").write_bytes(b"this is not an image")
    (images / "empty.png").write_bytes(b"")
    good = (images / "ok_0.png").read_bytes()
    (images / "truncated.png").write_bytes(good[: len(good) // 2])
    write_rgb(tmp_path / "outside.png", 99)
    rows += [("corrupt", 1), ("empty", 1), ("truncated", 1), ("../outside.png", 1), ("missing", 0)]
    lines = ["image_id,target"] + [f"{name},{'fake' if label else 'real'}" for name, label in rows]
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    for i in range(3):
        write_rgb(root / "test" / f"t{i}.jpg", 50 + i, fmt="JPEG")
    return root


@pytest.fixture
def class_folder_root(tmp_path: Path) -> Path:
    """``train/REAL`` + ``train/fake`` sub-folders (upper-case name on purpose) and a test folder."""
    root = tmp_path / "folders"
    for i in range(5):
        write_rgb(root / "train" / "REAL" / f"r{i}.png", i)
    for i in range(2):
        write_rgb(root / "train" / "fake" / f"f{i}.jpeg", 10 + i, fmt="JPEG")
    (root / "train" / "fake" / "notes.txt").write_text("not an image")
    write_rgb(root / "test" / "a.png", 20)
    return root


def narrow_model(arch: str):
    from dflib.models import create_model

    return create_model(arch, widths=(4, 8, 8, 8), depths=(1, 1, 1, 1))


def take_the_gpu_path() -> None:
    """The fused update and channels_last on a CPU, as on a GPU, with the narrow model
    (also called in DDP workers; tests/test_gpu_path.py says why)."""
    from dflib.train import loop, machine, optim

    optim.FUSED_DEVICES = ("cuda", "cpu")
    machine.CHANNELS_LAST_DEVICES = ("cuda", "cpu")
    loop.create_model = narrow_model


@pytest.fixture
def gpu_path(monkeypatch):
    from dflib.train import loop, machine, optim

    for module, name in ((optim, "FUSED_DEVICES"), (machine, "CHANNELS_LAST_DEVICES"),
                         (loop, "create_model")):  # fmt: skip
        monkeypatch.setattr(module, name, getattr(module, name))  # restored afterwards
    take_the_gpu_path()


def killed_then_resumed(config, out: str):
    """Train ``config`` into ``out``, stop it at epoch 2's second batch as a kernel death
    would (``KeyboardInterrupt`` from a step hook; 5 batches per epoch), check ``last.pt``
    holds epoch 1, and resume it: the resumed run's result, to compare with an
    uninterrupted one."""
    from dflib.train import fit, load_checkpoint

    def kill(index, seen, seconds, calls=[0]):  # noqa: B006 -- counts calls across epochs
        calls[0] += 1
        if calls[0] == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(config, out=out, progress=False, hooks=(kill,))
    assert load_checkpoint(Path(out) / "last.pt")["epoch"] == 1
    return fit(config, out=out, resume=True, progress=False)


def pytest_configure(config):
    """With pytest-xdist's workers (``make test``), each process and the notebook kernels
    it starts compute on one thread: two workers on two cores, not four threads fighting
    for two (which made a smoke-size epoch thirty times slower). Set before the workers
    start, so they and their kernels inherit it."""
    if getattr(config.option, "numprocesses", None):
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Under ``--dist loadgroup`` (``make test``), a notebook's nbmake run and its papermill
    run on a user's folder go to one worker, one after the other: the second reuses the runs
    and caches the first made, instead of waiting on the first's locks or making them again
    beside it. (xdist hands out its largest groups first, these: the short tests fill the
    end.)"""
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            notebook = path.stem
        elif item.name.startswith("test_papermill_with_overrides_on_user_data["):
            notebook = item.name.split("[", 1)[1].rstrip("]")
        else:
            continue
        item.add_marker(pytest.mark.xdist_group(name=notebook))
