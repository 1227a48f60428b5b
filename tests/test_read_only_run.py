"""A finished run folder is read-only input: ``predict`` with notebook 10's tuned threshold
works on a run that cannot be written, and changes nothing in it (the notebooks that read
runs are run on read-only copies by ``test_notebooks.py``'s papermill runs).

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

import pytest

from dflib.decide import write_threshold
from dflib.train.plan import ensure_run
from dflib.train.runs import RunFolder

ROOT = Path(__file__).resolve().parent.parent
GUARD = ROOT / "tests" / "fixtures" / "read_only"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run(command: list, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


@pytest.mark.slow
def test_predict_finds_the_tuned_threshold_and_leaves_a_read_only_run_untouched(
    tmp_path, monkeypatch
):
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

    # notebook 10's threshold, written where it writes it
    monkeypatch.setenv("DFLIB_STUDIES", str(studies))
    write_threshold(RunFolder(run), 0.37)
    tuned = json.loads((studies / "threshold" / run.name / "threshold.json").read_text())

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
