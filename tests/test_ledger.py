"""The run ledger on a tiny real run: entries, archives, unsafe members, make results
(scripts/ledger.py writes and packs entries; dflib reads them as run folders)."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from dflib.study.claims import claims, claims_plan
from dflib.study.leaderboard import leaderboard, write_leaderboard
from dflib.train.plan import ensure_planned
from dflib.train.runs import ENTRY_FILES, RunFolder

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> RunFolder:
    """One claims-plan run, seconds long on the tiny benchmark, made by the planner."""
    planned = claims_plan(1, size="tiny", img_size=64, epochs=1, train_images=80,
                          only=["claims-arch-freqnet-*"], batch_size=16)[0]  # fmt: skip
    root = tmp_path_factory.mktemp("runs")
    return ensure_planned([planned], root=root)[0]


@pytest.fixture(scope="module")
def ledger_script(script):
    """scripts/ledger.py: what writes entries and archives."""
    return script("ledger")


def test_entry_is_the_run_without_weights(trained, ledger_script, tmp_path):
    write_entry = ledger_script.write_entry
    assert trained.best.is_file() and trained.last.is_file()
    entry = RunFolder(write_entry(trained, tmp_path / "ledger"))
    names = sorted(p.name for p in entry.root.iterdir())
    assert set(names) <= set(ENTRY_FILES) and not any(n.endswith(".pt") for n in names)
    assert {"params.json", "metrics.json", "history.csv", "predictions_val.csv.gz"} <= set(names)
    assert entry.predictions_val.name == "predictions_val.csv.gz"
    assert entry.predictions_val.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    assert (
        gzip.decompress(entry.predictions_val.read_bytes()) == trained.predictions_val.read_bytes()
    )
    assert entry.read_json("params")["role"] == "claims/arch/freqnet/recipe"
    pd.testing.assert_frame_equal(entry.read_predictions("test"), trained.read_predictions("test"))
    # the same bytes when written again (a stable diff in git)
    again = write_entry(trained, tmp_path / "ledger2")
    assert (again / "predictions_val.csv.gz").read_bytes() == entry.predictions_val.read_bytes()


def test_ledger_reads_as_the_run_folder(trained, ledger_script, tmp_path):
    write_entry, ledger = ledger_script.write_entry, tmp_path / "ledger"
    write_entry(trained, ledger)
    from_run = leaderboard(trained.root.parent, flops=False)
    from_ledger = leaderboard(ledger, flops=False)
    pd.testing.assert_frame_equal(from_run, from_ledger)
    a, b = claims(trained.root.parent), claims(ledger)
    pd.testing.assert_frame_equal(a.drop(columns="command"), b.drop(columns="command"))
    text = write_leaderboard(tmp_path / "lb.md", from_ledger, ledger, "make results").read_text()
    cache = trained.read_json("params")["cache"]
    assert cache not in text and "claims-arch-freqnet-s42" in text


def test_archive_round_trip(trained, ledger_script, script, tmp_path):
    import_archive, write_entry = ledger_script.import_archive, ledger_script.write_entry
    export_run = script("campaign").export_run
    archive = tmp_path / "out" / "claims_runs.tar.gz"
    export_run(trained, archive)  # what claims_runs.py --export FILE.tar.gz writes
    with tarfile.open(archive) as tar:
        members = tar.getnames()
    assert members and all(m.startswith(f"{trained.name}/") for m in members)
    assert not any(m.endswith((".pt", "predictions_val.csv", "predictions_test.csv"))
                   for m in members)  # fmt: skip
    names = import_archive(archive, tmp_path / "ledger")
    assert names == [trained.name]
    direct = write_entry(trained, tmp_path / "direct")
    imported = tmp_path / "ledger" / trained.name
    for f in direct.iterdir():
        assert (imported / f.name).read_bytes() == f.read_bytes()
    # the command does the same
    assert ledger_script.main(["--ledger", str(tmp_path / "l2"), "import", str(archive)]) == 0
    assert (tmp_path / "l2" / trained.name / "metrics.json").is_file()
    # and a folder export writes the entry itself
    export_run(trained, tmp_path / "folder")
    assert (tmp_path / "folder" / trained.name / "predictions_val.csv.gz").is_file()


def test_jobs_train_their_shares_at_once_each_into_its_own_archive(ledger_script, tmp_path):
    import os
    import sys

    out = tmp_path / "out"
    command = [sys.executable, str(SCRIPTS / "claims_runs.py"), "--size", "tiny", "--img-size",
               "64", "--epochs", "1", "--train-images", "80", "--batch-size", "16", "--seeds",
               "1", "--only", "claims-arch-freqnet-*", "claims-arch-rgb_fft-*", "--device", "cpu",
               "--out-dir", str(tmp_path / "runs"), "--export", str(out / "c.tar.gz"),
               "--jobs", "2"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "process 0: 1 runs" in done.stdout and "process 1: 1 runs" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["c-0.tar.gz", "c-1.tar.gz"]
    ledger = tmp_path / "ledger"
    archives = [str(out / "c-0.tar.gz"), str(out / "c-1.tar.gz")]
    assert ledger_script.main(["--ledger", str(ledger), "import", *archives]) == 0
    assert sorted(p.name for p in ledger.iterdir()) == sorted(
        p.name for p in (tmp_path / "runs").iterdir()
    )
    assert len(list(ledger.iterdir())) == 2
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and "process" not in again.stdout, "nothing left to train"


def _tar_with(path: Path, name: str, kind=tarfile.REGTYPE, data: bytes = b"{}") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        ok = tarfile.TarInfo("run-a/params.json")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"{}"))
        bad = tarfile.TarInfo(name)
        bad.type = kind
        if kind == tarfile.SYMTYPE:
            bad.linkname = "/etc/passwd"
        else:
            bad.size = len(data)
        tar.addfile(bad, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


@pytest.mark.parametrize("name, kind", [
    ("../evil/metrics.json", tarfile.REGTYPE),
    ("/tmp/evil/metrics.json", tarfile.REGTYPE),
    ("run-a/metrics.json", tarfile.SYMTYPE),
    ("run-a/best.pt", tarfile.REGTYPE),
    ("run-a/deep/metrics.json", tarfile.REGTYPE),
], ids=["dotdot", "absolute", "link", "weights", "nested"])  # fmt: skip
def test_unsafe_member_refused(ledger_script, tmp_path, name, kind):
    archive = _tar_with(tmp_path / "bad.tar.gz", name, kind)
    with pytest.raises(ledger_script.LedgerError, match="member"):
        ledger_script.import_archive(archive, tmp_path / "ledger")
    assert not (tmp_path / "ledger" / "run-a").exists()  # nothing of the archive was written
    assert not (tmp_path / "evil").exists()


def test_unfinished_run_is_refused(ledger_script, tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(ledger_script.LedgerError, match="not a finished run"):
        ledger_script.write_entry(tmp_path / "half", tmp_path / "ledger")
    assert ledger_script.write_archive(
        [tmp_path / "half"], tmp_path / "a.tar.gz"
    ).is_file()  # empty


def test_results_from_the_ledger_alone(trained, ledger_script, script, tmp_path):
    write_entry, ledger, out = ledger_script.write_entry, tmp_path / "ledger", tmp_path / "reports"
    write_entry(trained, ledger)
    results = script("results")
    argv = ["--runs", str(ledger), "--out", str(out)]
    assert results.main(argv) == 0
    first = {p: (out / p).read_text() for p in ("leaderboard.md", "claims.md")}
    curves = (out / "learning_curves.png").read_bytes()
    assert results.main(argv) == 0
    assert (out / "learning_curves.png").read_bytes() == curves  # no timestamp in the figure
    for name, text in first.items():
        again = (out / name).read_text()
        changed = [a for a, b in zip(text.splitlines(), again.splitlines(), strict=True) if a != b]
        assert len(changed) <= 1 and all(line.startswith("- Trained on:") for line in changed)
        assert "python scripts/results.py --runs" in text
        assert trained.read_json("params")["cache"] not in text
    assert "reported_at" in first["claims.md"] and "ranking" in first["claims.md"]
    # an empty ledger writes nothing (it would replace real tables with empty ones)
    assert results.main(["--runs", str(tmp_path / "none"), "--out", str(tmp_path / "x")]) == 1
    assert not (tmp_path / "x").exists()


def test_training_table_from_the_ledger(trained, ledger_script, script, tmp_path):
    write_entry, ledger, out = ledger_script.write_entry, tmp_path / "ledger", tmp_path / "reports"
    entry = write_entry(trained, ledger)
    results = script("results")
    argv = ["--runs", str(ledger), "--out", str(out)]
    assert results.main(argv) == 0
    assert not (out / "training.md").exists()  # no table run: the committed table stays
    shutil.copytree(entry, ledger / "table-freqnet")  # what train_table.py --export writes
    assert results.main(argv) == 0
    text = (out / "training.md").read_text()
    assert "# the runs: python scripts/train_table.py --size tiny --train-images 80" in text
    assert "| freqnet " in text and "rgb_fft" not in text.split("What the table shows")[0]
    # the table's run is not a claims run: the leaderboard does not count it twice
    assert "table-freqnet" not in (out / "leaderboard.md").read_text()
    table = script("train_table")
    assert table.main(["--table-only", "--runs", str(ledger), "--out", str(tmp_path / "t.md")]) == 0
    assert (tmp_path / "t.md").read_text().split("```")[2] == text.split("```")[2]
    assert table.main(["--table-only", "--runs", str(tmp_path / "none")]) == 1


def test_training_table_command_names_the_changed_settings(trained, tmp_path):
    from dflib.study.leaderboard import runs_command, table_runs, write_table

    for arch, size in (("freqnet", 196), ("rgb_fft", 256)):
        run = tmp_path / f"table-{arch}"
        shutil.copytree(trained.root, run)
        params = RunFolder(run).read_json("params")
        params.update(arch=arch, img_size=size, synthetic_size="full", train_images=20000,
                      epochs=10, seed=42)  # fmt: skip
        (run / "params.json").write_text(json.dumps(params))
    runs = table_runs(tmp_path)
    assert [r.name for r in runs] == ["table-freqnet", "table-rgb_fft"]  # the recipes' order
    assert runs_command(runs) == ("python scripts/train_table.py --size full "
                                  "--train-images 20000 --img-size 0 --epochs 10")  # fmt: skip
    assert runs_command(runs[:1]).endswith("--img-size 196 --epochs 10")
    with pytest.raises(ValueError, match="no finished table run"):
        write_table([], "cmd", tmp_path / "t.md")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_ledger_is_not_git_ignored():
    root = SCRIPTS.parent
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    files = ["reports/runs/claims-arch-freqnet-s42/params.json",
             "reports/runs/claims-arch-freqnet-s42/predictions_val.csv.gz"]  # fmt: skip
    ignored = subprocess.run(["git", "check-ignore", *files], cwd=root, capture_output=True,
                             text=True).stdout.split()  # fmt: skip
    assert not ignored, f"the ledger must be committed, but .gitignore ignores {ignored}"
