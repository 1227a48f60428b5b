"""Leave-one-generator-family-out: training on some fake families, scoring seen vs unseen."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dflib.data import load_hidden_test_labels, load_split
from dflib.study import crossgen
from dflib.train import get_recipe
from dflib.train.config import TrainConfig, resume_settings
from dflib.train.inputs import prepare
from dflib.train.runs import RunFolder, write_json, write_predictions


def test_fake_families_round_trip_through_params_json():
    config = get_recipe("freqnet", fake_families="nearest, bilinear")
    assert config.fake_families == ("nearest", "bilinear")
    saved = json.loads(json.dumps(config.to_dict()))
    assert saved["fake_families"] == ["nearest", "bilinear"]
    assert TrainConfig.from_dict(saved) == config
    assert TrainConfig.from_dict({k: v for k, v in saved.items() if k != "fake_families"}) == (
        config.replace(fake_families=())
    )  # a params.json from before the field trains on every family
    assert "fake_families" in resume_settings(
        "fixed"
    )  # resuming with other families would be another run


def test_training_cache_holds_no_fake_of_the_held_out_family():
    full = load_split("synthetic", "train", synthetic_size="tiny").frame
    config = get_recipe("freqnet", synthetic_size="tiny", img_size=32,
                        fake_families=("nearest", "bilinear"))  # fmt: skip
    data = prepare(config, progress=False)
    cached = data.cache.frame
    fakes = cached[cached["label"] == 1]
    assert len(fakes) and set(fakes["family"]) == {"nearest", "bilinear"}
    assert (cached["label"] == 0).sum() == (full["label"] == 0).sum()  # every real kept
    expected = full[(full["label"] == 1) & (full["family"] != "tconv")]
    assert set(fakes["id"]) == set(expected["id"])
    assert set(np.concatenate([data.train, data.val])) == set(range(len(cached)))
    assert len(data.test) == len(load_hidden_test_labels(data.test_table.root))  # test untouched


def test_data_without_family_metadata_is_refused_clearly(class_folder_root, tmp_path):
    config = get_recipe("freqnet", data_dir=str(class_folder_root), fake_families=("tconv",))
    with pytest.raises(ValueError, match="no 'family' column"):
        prepare(config, progress=False)
    run = RunFolder(tmp_path / "user-run")
    write_json(run.params, {"data_dir": str(class_folder_root), "synthetic_size": "full"})
    with pytest.raises(ValueError, match="id,label,family"):
        crossgen.test_truth(run)


def test_unknown_family_is_refused():
    config = get_recipe("freqnet", synthetic_size="tiny", fake_families=("stylegan",))
    with pytest.raises(ValueError, match="stylegan"):
        prepare(config, progress=False)


def hand_made() -> pd.DataFrame:
    return pd.DataFrame({
        "label": [0, 0, 0, 0, 1, 1, 1, 1],
        "family": ["", "", "", "", "tconv", "tconv", "nearest", "nearest"],
        "prob": [0.1, 0.2, 0.3, 0.6, 0.9, 0.4, 0.7, 0.8],
    })  # fmt: skip


def test_family_scores_on_a_hand_made_frame():
    scores = crossgen.family_scores(hand_made(), 0.5, trained=("tconv",)).set_index("family")
    assert list(scores.index) == ["tconv", "nearest"]  # one family trained: no pooled row
    tconv, nearest = scores.loc["tconv"], scores.loc["nearest"]
    assert tconv["subset"] == "in-family" and nearest["subset"] == "out-of-family"
    # tconv: TP 1 (0.9), FN 1 (0.4), FP 1 (real 0.6) -> F1 2/4; AUC: 0.9 beats 4 reals, 0.4 beats 3
    assert tconv["f1"] == pytest.approx(0.5) and tconv["auc"] == pytest.approx(7 / 8)
    assert tconv["recall"] == pytest.approx(0.5) and tconv["fpr"] == pytest.approx(0.25)
    # nearest: TP 2, FP 1 -> F1 4/5; both fakes above every real -> AUC 1
    assert nearest["f1"] == pytest.approx(0.8) and nearest["auc"] == pytest.approx(1.0)
    assert (nearest["n_real"], nearest["n_fake"]) == (4, 2)

    every = crossgen.family_scores(hand_made(), 0.5).set_index("family")
    assert set(every["subset"]) == {"in-family"}
    pooled = every.loc["pooled"]  # reals + all four fakes: TP 3, FN 1, FP 1
    assert pooled["f1"] == pytest.approx(6 / 8) and pooled["auc"] == pytest.approx(15 / 16)


def test_summary_compares_in_out_and_baseline():
    frames = []
    for held_out, trained in (("none", ()), ("nearest", ("tconv",))):
        scores = crossgen.family_scores(hand_made(), 0.5, trained)
        frames.append(scores.assign(arch="freqnet", run=f"r-{held_out}", held_out=held_out))
    table = pd.concat(frames, ignore_index=True)[crossgen.COLUMNS]
    summary = crossgen.summarise(table).iloc[0]
    assert summary["held_out"] == "nearest"
    assert summary["in_auc"] == pytest.approx(7 / 8) and summary["out_auc"] == pytest.approx(1.0)
    assert summary["base_auc"] == pytest.approx(1.0)  # the baseline on the nearest fakes
    assert summary["drop_auc"] == pytest.approx(summary["in_auc"] - summary["out_auc"])
    assert summary["gap_auc"] == pytest.approx(summary["base_auc"] - summary["out_auc"])
    assert summary["drop_auc"] == pytest.approx(7 / 8 - 1.0)
    assert "freqnet" in crossgen.conclusion(crossgen.summarise(table))


def test_plan_names_every_run():
    plan = crossgen.plan_runs("freqnet,rgb_fft", prefix="xg")
    assert [p.name for p in plan[:4]] == ["xg-freqnet-all", "xg-freqnet-no-tconv",
                                          "xg-freqnet-no-nearest", "xg-freqnet-no-bilinear"]  # fmt: skip
    assert plan[1].config.fake_families == ("nearest", "bilinear")
    assert plan[0].config.fake_families == ()
    assert len(plan) == 8
    with pytest.raises(ValueError, match="architecture"):
        crossgen.plan_runs("")


def test_score_runs_joins_predictions_with_hidden_families(tmp_path):
    truth = load_hidden_test_labels(load_split("synthetic", "test", synthetic_size="tiny").root)
    plan = crossgen.plan_runs("freqnet", prefix=str(tmp_path / "x"))[:2]
    runs = []
    for p in plan:
        run = RunFolder(tmp_path / p.name.rsplit("/", 1)[-1])
        write_json(run.params, {"arch": "freqnet", "data_dir": "synthetic",
                                "synthetic_size": "tiny",
                                "fake_families": list(p.config.fake_families)})  # fmt: skip
        write_json(run.metrics, {"threshold": 0.5})
        write_predictions(run.predictions_test, truth["id"], truth["label"], truth["label"] * 0.9)
        runs.append(run)
    table = crossgen.score_runs(plan, runs)
    assert set(table["held_out"]) == {"none", "tconv"}
    single = table[table["family"] != "pooled"]
    assert (single["auc"] == 1.0).all() and (single["f1"] == 1.0).all()
    assert table["n_real"].eq((truth["label"] == 0).sum()).all()
    out = table[table["subset"] == "out-of-family"]
    assert list(out["family"]) == ["tconv"]


def test_held_out_fakes_in_validation_are_counted(tmp_path):
    """0 on the split prepare() makes; each fake of the held-out family put into a held-out
    run's validation (a leak) counts, one of another family does not."""
    plan = crossgen.plan_runs("freqnet", families="tconv,nearest", prefix=str(tmp_path / "x"),
                              synthetic_size="tiny", img_size=32)  # fmt: skip
    full = load_split("synthetic", "train", synthetic_size="tiny").frame
    runs = []
    for p in plan:
        run = RunFolder(tmp_path / p.name.rsplit("/", 1)[-1])
        data = prepare(p.config, progress=False)
        val = data.cache.frame.iloc[data.val]
        write_predictions(run.predictions_val, val["id"], val["label"], val["label"] * 0.9)
        runs.append(run)
    assert crossgen.held_out_fakes_validated(plan, runs) == 0
    held = plan.index(next(p for p in plan if crossgen.held_out(p) == "tconv"))
    ids = list(runs[held].read_predictions("val")["id"])
    tconv = list(full[(full["label"] == 1) & (full["family"] == "tconv")]["id"][:2])
    nearest = list(full[(full["label"] == 1) & (full["family"] == "nearest")]["id"][:1])
    leaked = ids + tconv + nearest
    write_predictions(runs[held].predictions_val, leaked, [1] * len(leaked), [0.5] * len(leaked))
    assert crossgen.held_out_fakes_validated(plan, runs) == 2
