"""Claims judged in their own regime, on synthetic ledgers (fabricated params/metrics files).

A level claim is never reproduced or refuted by runs of fewer epochs or another image size;
a comparison is decided in any regime and names it; a ranking is decided pair by pair (the rules themselves: test_claims_rule.py);
a run's role comes from its params.json, or from its name for runs made before roles were
recorded.
"""

from __future__ import annotations

import numpy as np

from dflib.study.claims import (
    CLAIMS,
    architecture_histories,
    architectures_by_regime,
    claim_runs,
    claims,
    claims_plan,
    regimes_section,
    role,
    run_name,
    run_role,
)
from dflib.train import get_recipe
from dflib.train import runs as rf
from dflib.train.runs import RunFolder


def _run(root, group, arch, variant, seed, f1, *, size="demo", img_size=64, epochs=3,
         with_role=True, name=None, **changes):  # fmt: skip
    """A finished run folder of the claims plan with the given regime and score."""
    name = name or run_name(group, arch, variant, seed)
    run = RunFolder(root / name)
    config = get_recipe(arch, seed=seed, synthetic_size=size, img_size=img_size, epochs=epochs,
                        **changes)  # fmt: skip
    n = 50_000 if size == "full" else 6_000
    recorded = {"role": role(group, arch, variant)} if with_role else {}
    rf.write_json(run.params, {**config.to_dict(), **recorded, "n_train": int(n * 0.88),
                               "n_val": n - int(n * 0.88), "class_weights": [0.6, 2.9],
                               "cache": "/somewhere/on/a/machine"})  # fmt: skip
    labels = (np.arange(60) % 6 == 0).astype(int)
    rf.write_predictions(run.predictions_val, range(60), labels, labels * 0.9)
    rf.write_predictions(run.predictions_test, range(60), labels, labels * 0.9)
    rf.write_history(run, [{"epoch": e + 1, "stage": "main", "val_f1": f1, "val_auc": 0.5 + f1 / 2}
                           for e in range(epochs)])  # fmt: skip
    scores = {"f1": f1, "recall": 0.5, "auc": 0.5 + f1 / 2}  # AUC in the order of F1
    rf.write_json(run.metrics, {
        "arch": arch, "params": 1000, "threshold": 0.5, "epochs_run": epochs,
        "val": scores, "val_tuned": scores, "test": scores, "test_tuned": scores,
        "train_seconds": 60.0, "images_per_s": 100.0, "environment": {"device": "cpu"},
    })  # fmt: skip
    return run


def _row(frame, start):
    return frame[frame["finding"].str.startswith(start)].iloc[0]


def test_role_is_carried_and_old_names_still_read():
    planned = claims_plan(1, only=["claims-median-freqnet-global_median-*"])[0]
    assert planned.role == "claims/median/freqnet/global_median"
    assert "role" not in planned.config.to_dict()  # recorded by the planner, not a setting
    params = {"role": "claims/blur/resnet50/selective_median", "seed": 43}
    assert run_role(params, "any-name") == {"group": "blur", "arch": "resnet50",
                                            "variant": "selective_median", "seed": 43}  # fmt: skip
    # made before the field existed: read from the name
    assert run_role({}, "claims-arch-freqnet-s44") == {"group": "arch", "arch": "freqnet",
                                                       "variant": "recipe", "seed": 44}  # fmt: skip
    assert run_role({}, "table-freqnet") is None
    assert run_role({"role": "other/arch/freqnet/recipe"}, "claims-arch-freqnet-s42") is None


def test_level_claim_never_judged_from_another_regime(tmp_path):
    """Short runs, or runs at another image size, never give a level a verdict."""
    for seed in (42, 43, 44):
        _run(tmp_path, "arch", "xception_resnet50", "recipe", seed, 0.91)  # 64 px / 3 epochs
        _run(tmp_path, "arch", "resnet50", "recipe", seed, 0.87, size="full", img_size=128,
             epochs=40)  # another image size, however long  # fmt: skip
        _run(tmp_path, "arch", "freqnet", "recipe", seed, 0.48, size="full", img_size=196,
             epochs=20)  # the right size, fewer epochs than 25  # fmt: skip
    frame = claims(tmp_path)
    for arch in ("xception_resnet50", "resnet50", "freqnet"):
        row = _row(frame, f"{arch}: ")
        assert row["verdict"] == "not comparable", (arch, row["verdict"])
        assert "information only" in row["measured"]
        assert row["reported_at"].startswith(f"{arch}, ") and "50,000 images" in row["reported_at"]
    row = _row(frame, "xception_resnet50: ")
    assert "196 px / 25 epochs" in row["why"] and "64 px / 3 epochs" in row["why"]
    assert "0.910" in row["measured"]  # the short-regime level, shown beside
    assert "--size full --img-size 196 --epochs 25" in row["command"]


def test_level_claim_judged_in_its_own_regime(tmp_path):
    for seed, jitter in zip((42, 43, 44), (0.0, 0.01, -0.01), strict=True):
        # at 25 epochs and at 40 (an epoch curve read at 25 counts too)
        _run(tmp_path, "arch", "xception_resnet50", "recipe", seed, 0.90 + jitter, size="full",
             img_size=196, epochs=25)  # fmt: skip
        _run(tmp_path, "arch", "resnet50", "recipe", seed, 0.50 + jitter, size="full",
             img_size=196, epochs=30)  # fmt: skip
        _run(tmp_path, "arch", "freqnet", "recipe", seed, 0.48, size="demo", img_size=196,
             epochs=30)  # the demo benchmark is not the full one  # fmt: skip
    frame = claims(tmp_path)
    assert _row(frame, "xception_resnet50: ")["verdict"] == "reproduced at 196 px / 25 epochs"
    assert _row(frame, "resnet50: ")["verdict"] == "refuted at 196 px / 30 epochs"
    assert _row(frame, "freqnet: ")["verdict"] == "not comparable"


def test_comparison_names_its_regime(tmp_path):
    for seed, jitter in zip((42, 43, 44), (0.0, 0.01, -0.01), strict=True):
        _run(tmp_path, "arch", "freqnet", "recipe", seed, 0.6 + jitter)
        _run(tmp_path, "median", "freqnet", "global_median", seed, 0.7 - jitter,
             filter="global_median", with_role=seed != 44)  # one run older than roles  # fmt: skip
    row = _row(claims(tmp_path), "a global 3x3 median lowers scores vs the Coherent")
    assert row["verdict"] == "refuted at 64 px / 3 epochs"
    assert row["measured_at"] == "64 px, 3 epochs, 6,000 images (demo benchmark)"
    table, setting = claim_runs(tmp_path)
    assert len(table) == 6 and setting == {"data": "demo", "subsample": 0, "img_size": 64,
                                           "epochs": 3, "early_stopping": 0,
                                           "early_stopping_metric": "f1"}  # fmt: skip


def test_ranking_claims_from_runs(tmp_path):
    scores = {
        "xception_resnet50": 0.8,
        "resnet50": 0.7,
        "hybrid_xception_freq_transformer": 0.6,
        "freqnet": 0.5,
        "hrnet_artifact": 0.3,
        "custom_resnet": 0.5,
        "rgb_fft": 0.4,
    }
    for seed, jitter in zip((42, 43, 44), (0.0, 0.01, -0.01), strict=True):
        for arch, f1 in scores.items():
            _run(tmp_path, "arch", arch, "recipe", seed, f1 + jitter)
    frame = claims(tmp_path)
    one, two = _row(frame, "write-up 1's ranking"), _row(frame, "write-up 2's ranking")
    assert one["kind"] == "ranking" and one["verdict"] == "reproduced at 64 px / 3 epochs"
    assert "F1 @0.5: xception_resnet50 0.800 > resnet50 0.700 >" in one["measured"]
    assert two["verdict"] == "refuted at 64 px / 3 epochs"  # custom ResNet > RGB+FFT > HRNet
    assert "custom_resnet 0.500 > rgb_fft 0.400 > hrnet_artifact 0.300" in two["measured"]


def test_a_ranking_has_a_row_per_regime_and_waits_for_every_model(tmp_path):
    """The 3-epoch runs rank learning speed, the early-stopped ones the models at
    convergence; a regime whose campaign has not reached every model is not measured yet
    and names the runs missing, with the command that trains them."""
    scores = {"hrnet_artifact": 0.3, "custom_resnet": 0.5, "rgb_fft": 0.4}
    for seed, jitter in zip((42, 43, 44), (0.0, 0.01, -0.01), strict=True):
        for arch, f1 in scores.items():
            _run(tmp_path, "arch", arch, "recipe", seed, f1 + jitter)
    converged = {"epochs": 30, "early_stopping": 5, "early_stopping_metric": "auc"}
    for arch in ("custom_resnet", "rgb_fft"):  # the campaign's first runs
        _run(tmp_path, "arch", arch, "recipe", 42, scores[arch] + 0.3,
             name=f"claims-arch-{arch}-s42-30e", **converged)  # fmt: skip
    rows = claims(tmp_path)
    rows = rows[rows["finding"].str.startswith("write-up 2's ranking")]
    assert list(rows["finding"].str.split("(").str[-1]) == [
        "learning speed: 64 px / 3 epochs)",
        "at convergence: 64 px / up to 30 epochs, early stopping 5 on val AUC)"]  # fmt: skip
    short, long = rows.iloc[0], rows.iloc[1]
    assert short["verdict"] == "refuted at 64 px / 3 epochs"
    assert long["verdict"] == "not measured"
    assert (
        long["why"]
        == "no runs of hrnet_artifact at 64 px / up to 30 epochs, early stopping 5 on val AUC yet"
    )
    assert long["measured"].startswith(
        "so far, hidden test AUC means: custom_resnet 0.900 (1 seed)"
    )
    assert "--epochs 30" in long["command"] and "--early-stopping 5" in long["command"]
    assert long["command"].endswith("--only 'claims-arch-hrnet_artifact-*'")
    _run(tmp_path, "arch", "hrnet_artifact", "recipe", 42, 0.9, name="claims-arch-hrnet_artifact-s42-30e",
         **converged)  # fmt: skip
    rows = claims(tmp_path)
    long = rows[rows["finding"].str.startswith("write-up 2's ranking")].iloc[1]
    assert long["verdict"] == "inconclusive at 64 px / up to 30 epochs, early stopping 5 on val AUC"
    assert "hrnet_artifact 0.900 > custom_resnet 0.800 > rgb_fft 0.700" in long["measured"]

    # the leaderboard's side-by-side table and the learning curves of the converged regime
    table, _ = claim_runs(tmp_path)
    side = architectures_by_regime(table).set_index("architecture")
    assert list(side.index) == ["hrnet_artifact", "custom_resnet", "rgb_fft"]  # ranking order
    assert side.loc["custom_resnet", "3 epochs: seeds"] == 3
    assert side.loc["custom_resnet", "3 epochs: test F1"] == "0.500 ± 0.010"
    assert side.loc["rgb_fft", "converged (<= 30): test F1"] == "0.700"
    assert side.loc["rgb_fft", "converged (<= 30): epochs run"] == "30"
    histories, regime = architecture_histories(table, tmp_path)
    assert regime.early_stopping == 5 and len(histories) == 3 * 30
    assert set(histories["run"]) == {f"claims-arch-{a}-s42-30e" for a in scores}
    assert "## The architectures in each regime" in regimes_section(table)


def test_claims_are_declared_data():
    kinds = {c.kind for c in CLAIMS}
    assert {"level", "comparison", "ranking", "curve"} <= kinds
    assert all(c.regime.images == 50_000 for c in CLAIMS)
    findings = [c.finding for c in CLAIMS]
    assert len(findings) == len(set(findings))


def test_notebook_15s_missing_runs_and_the_command_that_makes_them(tmp_path):
    from dflib.study.claims import claims_plan, make_command, missing_runs

    plan = claims_plan(2, size="smoke", img_size=64, epochs=1, early_stopping=3,
                       early_stopping_metric="auc", only=["claims-arch-freqnet-*"])  # fmt: skip
    assert missing_runs(plan, tmp_path) == [run.name for run in plan] and len(plan) == 2
    command = make_command(plan, "reports/runs")
    for part in ("--size smoke", "--img-size 64", "--epochs 1", "--train-images 0",
                 "--early-stopping 3 --early-stopping-metric auc", "--seeds 2",
                 "--out-dir runs --export reports/runs"):  # fmt: skip
        assert part in command, command
    assert f"--out-dir {tmp_path}" in make_command(plan, tmp_path)


def test_one_seed_of_a_longer_regime_does_not_take_the_verdict(tmp_path):
    """A campaign's first runs of a longer regime (one seed) leave the comparison to the
    complete shorter regime, and are named beside it."""
    for seed, jitter in zip((42, 43, 44), (0.0, 0.01, -0.01), strict=True):
        _run(tmp_path, "arch", "freqnet", "recipe", seed, 0.6 + jitter)
        _run(tmp_path, "median", "freqnet", "global_median", seed, 0.7 - jitter,
             filter="global_median")  # fmt: skip
    _run(tmp_path, "arch", "freqnet", "recipe", 42, 0.5, epochs=10,
         name="claims-arch-freqnet-s42-demo-64px-10e")  # fmt: skip
    _run(tmp_path, "median", "freqnet", "global_median", 42, 0.9, epochs=10,
         filter="global_median", name="claims-median-freqnet-global_median-s42-demo-64px-10e")  # fmt: skip
    row = _row(claims(tmp_path), "a global 3x3 median lowers scores vs the Coherent")
    assert row["verdict"] == "refuted at 64 px / 3 epochs", row["verdict"]
    assert "also measured at 64 px / 10 epochs" in row["measured"], row["measured"]
