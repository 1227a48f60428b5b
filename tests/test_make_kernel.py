"""The Makefile's notebook commands run in the interpreter in use and leave the user's own
Jupyter kernels alone, even a user-level ``python3`` spec that points elsewhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
# variables of an outer make (`make test` runs this file) or of the user's shell that would
# point Jupyter or make somewhere else than the command under test does by itself
OUTER = ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "XDG_DATA_HOME", "JUPYTER_CONFIG_DIR",
         "JUPYTER_PREFER_ENV_PATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")  # fmt: skip

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _make(target: str, env: dict[str, str], *variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-C", str(ROOT), f"PYTHON={sys.executable}", target, *variables],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_make_runs_notebooks_in_this_interpreter_past_a_users_python3_spec(tmp_path):
    home = tmp_path / "home"
    user_kernels = home / ".local" / "share" / "jupyter"
    spec = user_kernels / "kernels" / "python3" / "kernel.json"
    spec.parent.mkdir(parents=True)
    spec.write_text(json.dumps({"argv": ["/bin/false"], "display_name": "Python 3 (elsewhere)",
                                "language": "python"}, indent=1) + "\n")  # fmt: skip
    before = _tree(user_kernels)
    env = {k: v for k, v in os.environ.items() if k not in OUTER}
    env["HOME"] = str(home)
    dry = _make("install", env, "-n")
    if "requirements.txt" in dry.stdout:  # a stale stamp: this test must not reinstall
        pytest.skip(f"`make install` would reinstall the requirements into {sys.executable} "
                    "first: run it, then this test")  # fmt: skip

    # a fresh kernel folder, so the rule that writes the project's spec runs here too
    prefix = f"KERNEL_PREFIX={tmp_path / 'kernel'}"
    installed = _make("install", env, prefix)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (tmp_path / "kernel").is_dir()
    assert _tree(user_kernels) == before, "make install changed the user's Jupyter folder"

    notebook = tmp_path / "where.ipynb"
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})  # fmt: skip
    nb.cells.append(nbformat.v4.new_code_cell(
        "import os, sys\n"
        "print(sys.prefix, sys.executable)\n"
        f"assert sys.prefix == {sys.prefix!r}, sys.prefix\n"
        f"assert os.path.samefile(sys.executable, {sys.executable!r}), sys.executable"
    ))  # fmt: skip
    nbformat.write(nb, notebook)
    out = tmp_path / "out.ipynb"
    ran = _make("notebook", env, prefix, f"NB={notebook}", f"OUT={out}")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    printed = nbformat.read(out, as_version=4).cells[0].outputs[0]["text"]
    assert printed.split() == [sys.prefix, sys.executable]
    tested = _make("notebook-test", env, prefix, f"NB={notebook}", "ARGS=-p no:cacheprovider")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout
    assert _tree(user_kernels) == before, "running notebooks changed the user's Jupyter folder"
