"""A finished run folder is read-only input: notebooks 10, 13 and 16 and ``predict`` with
notebook 10's tuned threshold work on a run that cannot be written, and change nothing in it.

On Kaggle a finished run is another notebook's output, attached read-only under
``/kaggle/input``. Here every write into the run's folder is made to fail in the processes
the test starts (``tests/fixtures/read_only/sitecustomize.py``: permissions stop nothing
for root), and every file's hash is compared before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from dflib.train.plan import ensure_run

ROOT = Path(__file__).resolve().parent.parent
GUARD = ROOT / "tests" / "fixtures" / "read_only"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _mock(notebook: str) -> dict:
    """The notebook's CI parameters, without those that make missing runs."""
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {k: v for k, v in cell.metadata["nbmake"]["mock"].items() if not k.startswith("make_")}


def _run(command: list, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


@pytest.mark.slow
def test_notebooks_and_predict_leave_a_read_only_run_untouched(tmp_path):
    # the notebooks' CI run (the one their nbmake runs use), copied where it may not change
    made = ensure_run("smoke-freqnet", "freqnet", make_missing=True, synthetic_size="smoke",
                      train_images=0, img_size=64, epochs=1)  # fmt: skip
    run = tmp_path / "input" / "smoke-freqnet"
    shutil.copytree(made.root, run, ignore=shutil.ignore_patterns("tb"))
    before = _hashes(run)
    studies = tmp_path / "studies"
    env = {**os.environ, "DFLIB_READ_ONLY": str(run), "DFLIB_STUDIES": str(studies)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD), env.get("PYTHONPATH")]))

    # the guard is on in the processes started with this environment
    probe = f"open({str(run / 'probe.txt')!r}, 'w')"
    refused = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "PermissionError" in refused.stderr

    for notebook, parameters in [
        ("10_threshold_tuning.ipynb", {**_mock("10_threshold_tuning.ipynb"), "run": str(run)}),
        ("13_explain.ipynb", {**_mock("13_explain.ipynb"), "run": str(run)}),
        ("16_robustness.ipynb", {**_mock("16_robustness.ipynb"), "runs": str(run)}),
    ]:
        options = [arg for k, v in parameters.items() for arg in ("-y", json.dumps({k: v}))]
        _run([sys.executable, "-m", "papermill", ROOT / "notebooks" / notebook,
              tmp_path / notebook, "--cwd", ROOT / "notebooks", "--no-progress-bar", *options],
             env, tmp_path)  # fmt: skip
    tuned = json.loads((studies / "threshold" / run.name / "threshold.json").read_text())
    assert sorted(p.name for p in studies.iterdir()) == ["explain", "robustness", "threshold"]

    # predict finds notebook 10's threshold by itself, and takes one given by hand
    done = _run([sys.executable, "-m", "dflib", "predict", "--run", run, "--size", "smoke",
                 "--out", tmp_path / "submission.csv", "--no-progress"], env, tmp_path)  # fmt: skip
    assert f"labels at threshold {tuned['threshold']:.3f}" in done.stdout, done.stdout
    assert str(studies / "threshold" / run.name / "threshold.json") in done.stdout
    done = _run([sys.executable, "-m", "dflib", "predict", "--run", run, "--size", "smoke",
                 "--out", tmp_path / "half.csv", "--no-progress", "--threshold", "0.5"],
                env, tmp_path)  # fmt: skip
    assert "labels at threshold 0.500 (from 0.5)" in done.stdout, done.stdout
    assert _hashes(run) == before
