"""The one planner (dflib.train.plan) and the campaign that drives it on a lent machine
(scripts/campaign.py), with a stand-in for training that writes a finished run's files."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from dflib.decide import ensure_run
from dflib.study import crossgen
from dflib.study.claims import claims_plan, run_role
from dflib.train import plan as planner
from dflib.train import runs as rf
from dflib.train.config import TrainConfig, get_recipe
from dflib.train.plan import MissingRunError, PlannedRun, ensure_planned, find_finished
from dflib.train.runs import RunFolder, ledger_root


def fake_fit(config: TrainConfig, out: str, resume: bool = False, progress: bool = False):
    """What :func:`dflib.train.fit` leaves for the planner: a finished run's small files."""
    run = RunFolder(Path(out))
    rf.write_json(run.params, {**config.to_dict(), "n_train": 10, "class_weights": [0.6, 2.9]})
    rf.write_predictions(run.predictions_val, range(4), [0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8])
    rf.write_json(run.metrics, {"val": {"f1": 1.0}, "test": None, "images_per_s": 100.0})
    return SimpleNamespace(metrics=run.read_json("metrics"))


@pytest.fixture
def trained(monkeypatch) -> list[str]:
    """The planner trains with :func:`fake_fit`; the names it trained, in order."""
    names = []

    def fit(config, out, **kwargs):
        names.append(Path(out).name)
        return fake_fit(config, out, **kwargs)

    monkeypatch.setattr(planner, "fit", fit)
    return names


def test_missing_runs_are_named_at_once_before_anything_is_trained(tmp_path, trained):
    plan = claims_plan(1, size="tiny", img_size=32, epochs=1, only=["claims-arch-*"],
                       archs=["freqnet", "rgb_fft"])  # fmt: skip
    with pytest.raises(MissingRunError) as error:
        ensure_planned(plan, root=tmp_path, make_missing=False)
    message = str(error.value)
    assert all(p.name in message for p in plan) and "--arch rgb_fft" in message
    assert not trained and not any(tmp_path.iterdir())


def test_missing_runs_are_trained_once_with_their_role_recorded(tmp_path, trained):
    plan = claims_plan(1, size="tiny", img_size=32, epochs=1, only=["claims-median-*"])
    runs = ensure_planned(plan, root=tmp_path)
    assert trained == [p.name for p in plan] and all(rf.is_finished(r) for r in runs)
    params = runs[0].read_json("params")
    assert params["role"] == plan[0].role == "claims/median/freqnet/global_median"
    assert TrainConfig.from_dict(params) == plan[0].config  # the role is not a setting
    assert run_role(params, runs[0].name)["variant"] == "global_median"
    assert ensure_planned(plan, root=tmp_path) == runs and len(trained) == 2  # found, not made


def test_a_finished_run_made_otherwise_is_refused_clearly(tmp_path, trained):
    plan = crossgen.plan_runs("freqnet", prefix="xg", synthetic_size="tiny", epochs=1)
    assert [p.config.fake_families for p in plan[:2]] == [(), ("nearest", "bilinear")]
    assert crossgen.held_out(plan[1]) == "tconv" and crossgen.held_out(plan[0]) == crossgen.ALL
    other = dataclasses.replace(plan[1], config=plan[1].config.replace(fake_families=("tconv",)))
    ensure_planned([other], root=tmp_path)
    with pytest.raises(ValueError, match=r"fake_families: tconv \(planned: nearest,bilinear\)"):
        ensure_planned(plan[1:2], root=tmp_path)
    with pytest.raises(ValueError, match="Delete the run folder"):
        find_finished(plan[1], tmp_path)
    # families in another order are the same families
    swapped = plan[1].config.replace(fake_families=("bilinear", "nearest"))
    assert find_finished(dataclasses.replace(plan[1], config=swapped), tmp_path / "none") is None
    ensure_planned([dataclasses.replace(plan[1], name="xg-b", config=swapped)], root=tmp_path)
    assert find_finished(dataclasses.replace(plan[1], name="xg-b"), tmp_path) is not None


def test_a_named_upstream_run_is_taken_whatever_its_settings(tmp_path, trained):
    made = ensure_run(str(tmp_path / "mine"), "rgb_fft", make_missing=True,
                      synthetic_size="tiny", epochs=1)  # fmt: skip
    found = ensure_run(str(tmp_path / "mine"), "freqnet", epochs=9)  # other arch and epochs
    assert found.root == made.root and trained == ["mine"]
    assert "role" not in made.read_json("params")  # a plain run records none


def test_a_ledger_copy_counts_only_with_the_same_settings(tmp_path, trained):
    planned = claims_plan(1, size="tiny", img_size=32, epochs=1, only=["claims-arch-freqnet-*"])[0]
    ledger = tmp_path / "ledger"
    copy = ensure_planned([planned], root=ledger)[0]
    assert find_finished(planned, tmp_path / "runs", [ledger]) == copy
    other_seed = claims_plan(2, size="tiny", img_size=32, epochs=1,
                             only=["claims-arch-freqnet-*"])[1]  # fmt: skip
    for changed in (dataclasses.replace(other_seed, name=planned.name),
                    dataclasses.replace(planned, config=planned.config.replace(epochs=2)),
                    dataclasses.replace(planned, role="claims/arch/rgb_fft/recipe")):  # fmt: skip
        assert find_finished(changed, tmp_path / "runs", [ledger]) is None
    # an entry made before roles were recorded is taken by its name, seed and regime
    params = json.loads(copy.params.read_text())
    del params["role"]
    copy.params.write_text(json.dumps(params))
    assert find_finished(planned, tmp_path / "runs", [ledger]) == copy


def test_the_committed_ledger_holds_the_short_claims_plan():
    """Its params.json files (some written when the role was a TrainConfig setting) load,
    keep their role, and count as the plan's runs: a clean clone retrains none of them."""
    ledger = ledger_root()
    plan = claims_plan(3, size="demo", img_size=64, epochs=3)
    for planned in plan:
        entry = find_finished(planned, ledger / "no-runs-here", [ledger])
        assert entry is not None, planned.name
        params = entry.read_json("params")
        assert TrainConfig.from_dict(params).seed == planned.seed
        assert params.get("role", planned.role) == planned.role


def test_campaign_skips_finished_runs_and_starts_none_after_its_budget(tmp_path, script):
    short = claims_plan(1, size="demo", img_size=64, epochs=3, only=["claims-arch-freqnet-*"])
    only = claims_plan(1, only=["claims-median-*"])
    fake_fit(short[0].config, str(tmp_path / short[0].name))
    states = script("campaign").train_plan(short + only[1:], tmp_path, budget_min=1e-9)
    assert [s["state"] for s in states] == ["finished", "not started"]


def test_no_run_starts_that_would_end_after_the_deadline(tmp_path, monkeypatch, script):
    def slow_fit(config, out, **kwargs):  # a run of 0.8 s, finished like a real one
        time.sleep(0.8)
        return fake_fit(config, out)

    monkeypatch.setattr(planner, "fit", slow_fit)
    train_plan = script("campaign").train_plan
    plan = claims_plan(2, size="tiny", img_size=32, epochs=1, only=["claims-arch-*"],
                       archs=["freqnet", "rgb_fft"])  # fmt: skip
    assert [r.arch for r in plan] == ["freqnet", "rgb_fft", "freqnet", "rgb_fft"]
    states = train_plan(plan, tmp_path, deadline_min=2.0 / 60)  # 2 s
    # each kind's first run starts (nothing to go by); a second one would end past 2 s
    assert [s["state"] for s in states] == ["trained", "trained", "not started", "not started"]
    assert [s["state"] for s in train_plan(plan, tmp_path)] == ["finished"] * 2 + ["trained"] * 2


def test_campaign_takes_a_ledger_run_only_in_its_own_regime(tmp_path, trained, script):
    campaign, ledger_script = script("campaign"), script("ledger")
    planned = claims_plan(1, size="demo", img_size=64, epochs=3, only=["claims-arch-freqnet-*"])[0]
    run = ensure_planned([planned], root=tmp_path / "runs")[0]
    ledger = tmp_path / "ledger"
    ledger_script.write_entry(run, ledger)
    assert campaign.already_trained(planned, tmp_path / "fresh", ledger)
    states = campaign.train_plan([planned], tmp_path / "fresh", ledger=ledger)  # a clean clone
    assert [s["state"] for s in states] == ["finished"] and len(trained) == 1
    longer = dataclasses.replace(planned, config=planned.config.replace(epochs=10))
    assert not campaign.already_trained(longer, tmp_path / "fresh", ledger)
    # a run of the name made otherwise in the runs folder fails alone, the others go on
    states = campaign.train_plan([longer, planned], tmp_path / "runs")
    assert [s["state"] for s in states] == ["failed", "finished"]


def test_planned_runs_carry_what_they_are():
    planned = PlannedRun("x", get_recipe("freqnet", seed=43))
    assert (planned.arch, planned.seed, planned.role, planned.same) == ("freqnet", 43, "", ())


def test_a_resume_outside_the_planner_keeps_the_role_it_recorded(tmp_path):
    """``python -m dflib train --resume`` rewrites params.json: the planner's role stays."""
    from dflib.train import fit

    config = get_recipe("freqnet", synthetic_size="tiny", train_images=64, img_size=64,
                        batch_size=16, epochs=1)  # fmt: skip
    planned = PlannedRun("claims-arch-freqnet-s42", config, role="claims/arch/freqnet/recipe")
    (run,) = ensure_planned([planned], root=tmp_path)
    assert run.read_json("params")[rf.ROLE] == "claims/arch/freqnet/recipe"
    fit(config.replace(epochs=2), out=str(run.root), resume=True, progress=False)
    params = run.read_json("params")
    assert params["epochs"] == 2 and params[rf.ROLE] == "claims/arch/freqnet/recipe"
