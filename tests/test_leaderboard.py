"""The leaderboard, the claims table, the claims plan, FLOPs (the verdict rules:
test_claims_rule.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dflib.models.cost import arch_flops, flops
from dflib.study.claims import (
    arm_of,
    claims,
    claims_plan,
    run_name,
    write_claims,
)
from dflib.study.leaderboard import by_config, leaderboard, write_leaderboard
from dflib.train import get_recipe
from dflib.train import runs as rf
from dflib.train.runs import RunFolder


def _fake_run(root, name, arch, seed, f1, config=None, precision="float32", **changes) -> RunFolder:
    """A finished run folder written with the run folder's own writers (no weights), of
    ``config`` or else a short demo-size recipe."""
    run = RunFolder(root / name)
    config = config or get_recipe(arch, seed=seed, synthetic_size="demo", img_size=64, epochs=2,
                                  **changes)  # fmt: skip
    rf.write_json(run.params, {**config.to_dict(), "n_train": 528, "n_val": 72, "n_test": 120,
                               "class_weights": [0.6, 2.9]})  # fmt: skip
    rng = np.random.default_rng(seed)
    labels = (np.arange(120) % 6 == 0).astype(int)
    prob = np.clip(labels * 0.9 + rng.uniform(0, 0.1, 120), 0, 1)
    rf.write_predictions(run.predictions_val, range(72), labels[:72], prob[:72])
    rf.write_predictions(run.predictions_test, range(120), labels, prob)
    rf.write_history(run, [{"epoch": e, "val_f1": f1} for e in range(2)])
    scores = {"f1": f1, "recall": 0.5, "auc": 0.8}
    rf.write_json(run.metrics, {
        "arch": arch, "params": 1000, "threshold": 0.4, "epochs_run": 2,
        "val": scores, "val_tuned": {**scores, "f1": f1 + 0.02},
        "test": scores, "test_tuned": {**scores, "f1": f1 + 0.05},
        "train_seconds": 60.0, "images_per_s": 100.0,
        "environment": {"device": "cpu", "device_name": "test CPU", "precision": precision},
    })  # fmt: skip
    return run


@pytest.fixture()
def fake_runs(tmp_path):
    for seed, jitter in zip((42, 43, 44), (0.0, 0.01, -0.01), strict=True):
        _fake_run(tmp_path, run_name("arch", "freqnet", "recipe", seed), "freqnet", seed,
                  0.7 + jitter)  # fmt: skip
        _fake_run(tmp_path, run_name("median", "freqnet", "global_median", seed), "freqnet",
                  seed, 0.5 - jitter, filter="global_median")  # fmt: skip
    _fake_run(tmp_path, "other-run", "rgb_fft", 42, 0.3)
    (tmp_path / "unfinished").mkdir()
    return tmp_path


def test_a_run_is_finished_by_its_small_files(tmp_path):
    """params.json, metrics.json and the validation predictions (plain or gzipped, as a
    ledger entry holds them), never the weights."""
    import gzip
    import shutil

    run = _fake_run(tmp_path, "done", "freqnet", 42, 0.7)
    assert rf.is_finished(run) and not run.best.is_file()
    entry = RunFolder(tmp_path / "entry")
    shutil.copytree(run.root, entry.root)
    packed = entry.root / "predictions_val.csv.gz"
    packed.write_bytes(gzip.compress(entry.predictions_val.read_bytes()))
    entry.predictions_val.unlink()
    assert entry.predictions_val == packed and rf.is_finished(entry)
    for name in ("metrics.json", "params.json", "predictions_val.csv.gz"):
        part = RunFolder(tmp_path / f"without-{name}")
        shutil.copytree(entry.root, part.root)
        (part.root / name).unlink()
        assert not rf.is_finished(part), name
    assert [r.name for r in rf.finished_runs(tmp_path)] == ["done", "entry"]


def test_leaderboard_table(fake_runs, tmp_path):
    table = leaderboard(fake_runs)
    assert len(table) == 7  # the unfinished folder is left out
    assert {"gflops", "seed", "class_weighting", "test_recall"} <= set(table.columns)
    assert (table["gflops"] > 0).all()
    agg = by_config(table)
    assert len(agg) == 3
    best = agg.iloc[0]
    assert best["arch"] == "freqnet" and best["filter"] == "coherent_noise_filter"
    assert best["n"] == 3 and best["test_f1"] == pytest.approx(0.7)
    assert best["test_f1_std"] == pytest.approx(0.01)
    text = write_leaderboard(tmp_path / "lb.md", table, fake_runs, "python make_it.py").read_text()
    assert "python make_it.py" in text and str(fake_runs) in text and "test CPU" in text
    assert "- Precision: every run in float32." in text


def test_seeds_of_two_precisions_are_two_configurations_and_the_mix_is_said(tmp_path):
    for seed in (42, 43):
        _fake_run(tmp_path, f"fp32-s{seed}", "freqnet", seed, 0.7)
    _fake_run(tmp_path, "bf16-s42", "freqnet", 42, 0.72, precision="bfloat16")
    table = leaderboard(tmp_path)
    agg = by_config(table)
    assert sorted(zip(agg["precision"], agg["n"], strict=True)) == [("bfloat16", 1), ("float32", 2)]
    text = write_leaderboard(tmp_path / "lb.md", table, tmp_path, "make results").read_text()
    assert ("- Precision: the runs mix bfloat16 (1 run), float32 (2 runs); a comparison across "
            "them measures the precision too.") in text  # fmt: skip
    assert text.count("| bfloat16 ") == 2  # a column of both tables


def test_claims_table(fake_runs, tmp_path):
    frame = claims(fake_runs)
    assert set(frame["verdict"].str.split(" at ").str[0]) <= {
        "reproduced", "refuted", "inconclusive", "not measured", "not comparable"}  # fmt: skip
    row = frame[frame["finding"].str.contains("CoherentNoiseFilter")].iloc[0]
    assert row["verdict"] == "reproduced at 64 px / 2 epochs" and "-0.200" in row["measured"]
    assert "claims-median-freqnet-global_median-*" in row["command"]
    assert "--img-size 64" in row["command"]
    assert frame[frame["finding"].str.startswith("ResNet-50")].iloc[0]["verdict"] == "not measured"
    weights = frame[frame["finding"].str.startswith("class weights")].iloc[0]
    assert weights["verdict"] == "reproduced"
    threshold = frame[frame["finding"].str.contains("threshold")].iloc[0]
    assert "+0.050" in threshold["measured"]  # test_tuned - test in every fake run
    pseudo = frame[frame["finding"].str.contains("pseudo")].iloc[0]
    # write-up 1's final model at 196 px / 25 epochs: 2 epochs at 64 px are information only
    assert pseudo["verdict"] == "not comparable" and "kept 1.000" in pseudo["measured"]
    text = write_claims(tmp_path / "c.md", frame, fake_runs, "make claims").read_text()
    assert "make claims" in text and "not measured" in text


def test_claims_without_runs(tmp_path):
    frame = claims(tmp_path / "empty")
    assert len(frame) >= 12
    assert (frame["verdict"].drop(frame.index[frame["finding"].str.startswith("class weights")])
            == "not measured").all()  # fmt: skip


def test_plan_names_and_settings():
    plan = claims_plan(3, size="tiny", img_size=32, epochs=1)
    names = [r.name for r in plan]
    assert len(names) == len(set(names)) == 3 * 13
    assert plan[0].seed == 42 and plan[-1].seed == 44
    unweighted = [r for r in plan if arm_of(r)["variant"] == "unweighted"]
    assert len(unweighted) == 3 and not unweighted[0].config.class_weighting
    only = claims_plan(1, only=["claims-median-*"])
    assert [arm_of(r)["variant"] for r in only] == ["global_median", "none"]
    assert {r.config.filter for r in only} == {"global_median", "none"}
    short = claims_plan(1, size="demo", img_size=64, epochs=3, only=["claims-arch-freqnet-*"])
    assert short[0].name == "claims-arch-freqnet-s42", "the short regime keeps plain names"
    assert plan[0].name.endswith("-s42-tiny-32px-1e"), "any other regime is in the name"


def test_flops_positive():
    tiny = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(2))
    tiny(torch.zeros(1, 3, 8, 8))
    assert flops(tiny, 8) == 2 * (3 * 9 * 4 * 36) + 2 * (4 * 36 * 2)
    assert arch_flops("rgb_fft", 64) > 0


def test_baselines_are_shuffled_once_per_version_of_the_predictions(tmp_path, monkeypatch):
    """make results reads every ledger run several times; the shuffled-label floors are
    computed once for each run's prediction files, and again when those files change."""
    from dflib.study import leaderboard as lb

    calls = []
    real = lb.learning
    monkeypatch.setattr(lb, "learning", lambda *a, **k: calls.append(1) or real(*a, **k))
    run = _fake_run(tmp_path, "a-run", "freqnet", 42, 0.7)
    first = lb.baselines(run)
    assert len(calls) == 2 and lb.baselines(run) == first and len(calls) == 2, "val and test, once"
    first["learned"] = "changed by a caller"
    assert lb.baselines(run)["learned"] is True, "each caller gets its own copy"
    labels = np.arange(72) % 6 == 0
    rf.write_predictions(run.predictions_val, range(72), labels, 1.0 - labels)  # now inverted
    assert lb.baselines(run)["learned"] is False and len(calls) == 4
