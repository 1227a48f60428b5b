"""A numbered notebook opened alone, where users open them (Colab, Kaggle), installs dflib in
its setup cell and runs to the end of its checks section in one kernel.

The notebook is copied alone into an empty folder and run by papermill in a Python where
dflib, kornia and captum cannot be imported (nor seen by pip): a virtual environment that
sees this interpreter's packages through a folder of links that leaves those three out.
The setup cell then finds its source as on the platforms - a wheels dataset under a
Kaggle-like input folder with no package index reachable, or a clone under a Colab-like
``/content`` - through the two variables that stand for those roots here.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
import torch

from dflib.environment import cache_dir

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_eda.ipynb"  # the quickest notebook with its own checks
MASKED = ("dflib", "__editable__.dflib", "__editable___dflib", "kornia", "captum")
# what a platform lacks that dflib needs, as wheels in the Kaggle-like dataset beside dflib's
MISSING = ("kornia", "kornia_rs", "captum")


def _run(*command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], check=True, capture_output=True, text=True,
                          **kwargs)  # fmt: skip


@pytest.fixture(scope="module")
def view(tmp_path_factory) -> Path:
    """A folder of links to every package of this Python but dflib, kornia and captum."""
    folder = tmp_path_factory.mktemp("view") / "site-packages"
    folder.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(MASKED) and not entry.name.startswith("dflib-make"):
            (folder / entry.name).symlink_to(entry)
    return folder


def bare_python(view: Path, base: Path) -> Path:
    """A fresh virtual environment under ``base`` that sees ``view``'s packages, and a
    ``python3`` kernel spec in ``base/jupyter`` that starts it."""
    _run(sys.executable, "-m", "venv", "--without-pip", base / "venv")
    python = base / "venv" / "bin" / "python"
    own = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(own.stdout.strip()) / "packages.pth").write_text(
        f"import site; site.addsitedir({str(view)!r})\n"
    )
    kernel = base / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (bare)", "language": "python"}))  # fmt: skip
    return python


def _masked(python: Path) -> list[str]:
    """The modules of MASKED / MISSING this Python can import."""
    probe = "import importlib.util as u; print(*[m for m in ('dflib', 'kornia', 'captum') if u.find_spec(m)])"
    return _run(python, "-c", probe, cwd=python.parent).stdout.split()  # not this tree


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """This repository's files (tracked and untracked, not ignored) under a Colab-like
    ``content/`` folder, in a folder of another name than the repository's."""
    content = tmp_path_factory.mktemp("content")
    target = content / "my-fork-of-dflib"
    listed = _run("git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in listed.stdout.splitlines():
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, clone) -> Path:
    """A Kaggle-like input folder holding a wheels dataset: dflib's wheel and the wheels
    of what the bare Python lacks, at the versions installed here."""
    inputs = tmp_path_factory.mktemp("kaggle-input")
    folder = inputs / "dflib-wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", folder,
         clone)  # fmt: skip
    pinned = [f"{name}=={importlib.metadata.version(name)}" for name in MISSING]
    _run(sys.executable, "-m", "pip", "download", "--no-deps", "-d", folder, *pinned)
    return inputs


def _papermill(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The notebook copied alone into ``folder`` and run there at its CI size."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(NOTEBOOK, folder / NOTEBOOK.name)
    mock = next(
        c
        for c in nbformat.read(NOTEBOOK, as_version=4).cells
        if "parameters" in c.metadata.get("tags", [])
    ).metadata["nbmake"]["mock"]
    parameters = [arg for k, v in mock.items() for arg in ("-y", json.dumps({k: v}))]
    return subprocess.run(
        [sys.executable, "-m", "papermill", NOTEBOOK.name, "out.ipynb", "-k", "python3",
         "--no-progress-bar", *parameters],
        cwd=folder, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def _outputs(folder: Path) -> str:
    executed = nbformat.read(folder / "out.ipynb", as_version=4)
    return "\n".join(
        str(o.get("text", "")) + str(o.get("evalue", ""))
        for c in executed.cells
        for o in c.get("outputs", [])
    )


def _torch_unchanged(python: Path) -> None:
    where = _run(
        python, "-c", "import torch; print(torch.__version__, torch.__file__)", cwd=python.parent
    ).stdout
    version, path = where.split()
    assert (version, Path(path).resolve()) == (torch.__version__, Path(torch.__file__).resolve())


def _case(view: Path, folder: Path, pip_index: bool = True, **roots) -> tuple[Path, str, int]:
    """Run the notebook alone in ``folder`` with a bare Python; its Python, the text of its
    outputs and papermill's exit status."""
    python = bare_python(view, folder)
    assert _masked(python) == [], "the bare Python still imports dflib, kornia or captum"
    env = {k: v for k, v in os.environ.items() if k not in ("DFLIB_ROOT", "PYTHONPATH")}
    env.update(JUPYTER_PATH=str(folder / "jupyter"), DFLIB_CACHE=str(cache_dir()))
    env.update({k: str(v) for k, v in roots.items()})
    if not pip_index:  # none configured, none reachable
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL="http://127.0.0.1:9/simple")
    done = _papermill(folder / "notebook", env)
    return python, _outputs(folder / "notebook"), done.returncode


@pytest.mark.slow
def test_standalone_notebook_stops_with_the_three_ways_when_no_source_exists(view, tmp_path):
    nowhere = tmp_path / "nowhere"
    _, shown, status = _case(
        view, tmp_path, DFLIB_KAGGLE_INPUT=nowhere, DFLIB_COLAB_CONTENT=nowhere
    )
    assert status != 0
    assert "no source was found" in shown
    assert all(way in shown for way in ("wheels dataset", "clone", "dflib_source")), shown


@pytest.mark.slow
def test_standalone_notebook_installs_from_a_kaggle_wheels_dataset_without_an_index(
    view, wheels, tmp_path
):
    python, shown, status = _case(view, tmp_path, pip_index=False, DFLIB_KAGGLE_INPUT=wheels,
                                  DFLIB_COLAB_CONTENT=tmp_path / "nowhere")  # fmt: skip
    assert status == 0, shown[-3000:]
    assert "installed:" in shown and "dflib==0" in shown and "kornia==" in shown, shown
    assert "runs go to" in shown and "expected" in shown  # the checks table, at the end
    _torch_unchanged(python)
    assert sorted(_masked(python)) == ["captum", "dflib", "kornia"]


@pytest.mark.slow
def test_standalone_notebook_installs_from_a_clone_under_content(view, clone, tmp_path):
    python, shown, status = _case(view, tmp_path, DFLIB_KAGGLE_INPUT=tmp_path / "nowhere",
                                  DFLIB_COLAB_CONTENT=clone.parent)  # fmt: skip
    assert status == 0, shown[-3000:]
    assert "installed:" in shown and "dflib==0" in shown and "expected" in shown, shown
    _torch_unchanged(python)


DEVELOPER_TOOLS = ("pytest", "nbmake", "pytest-xdist", "ruff", "import-linter", "ipykernel")


def test_platform_commands_install_no_test_or_lint_tool():
    """What the README has a Colab or Kaggle user run, and the setup cell's pip call,
    install the package (its runtime dependencies), never requirements.txt; the wheel's
    metadata keeps the developer's tools in extras."""
    import re

    readme = (ROOT / "README.md").read_text()
    platforms = readme[readme.index("## Kaggle and Colab") : readme.index("## How the code")]
    setup = nbformat.read(NOTEBOOK, as_version=4).cells
    commands = re.findall(r"pip install[^`\n]*", platforms) + [
        line
        for c in setup
        if c.cell_type == "code"
        for line in c.source.splitlines()
        if '"pip"' in line
    ]
    assert commands, "no install command found"
    for command in commands:
        assert "requirements" not in command and " -r " not in command, command
        assert not any(tool in command for tool in DEVELOPER_TOOLS), command
    requires = importlib.metadata.requires("dflib")
    runtime = " ".join(r for r in requires if "extra ==" not in r)
    assert "torch" in runtime and not any(tool in runtime for tool in DEVELOPER_TOOLS), runtime
    extras = " ".join(r for r in requires if "extra ==" in r)
    assert all(tool in extras for tool in DEVELOPER_TOOLS), extras
