"""The decision layer: thresholds, calibration, ensembles, pseudo-labels, upstream runs.

Toy data with known answers (a brute-force threshold search, identical models, a
perfectly calibrated set, a deliberately over-confident one) plus one tiny trained run
for what needs real run folders (TTA, the pseudo-labelled data folder, ensure_run).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.calibration import calibration_curve
from sklearn.metrics import f1_score, log_loss, recall_score, roc_auc_score

from dflib.data import load_split
from dflib.decide import (
    MissingRunError,
    TemperatureScaler,
    align,
    before_after,
    bootstrap_threshold,
    calibration_report,
    calibration_scores,
    compare_frames,
    compare_methods,
    correlation,
    ensure_run,
    expected_calibration_error,
    fit_weights,
    flip_tta_runs,
    flip_tta_scores,
    greedy_selection,
    labelled_sets,
    load_predictions,
    merge,
    pseudo_run_name,
    rank_average,
    rank_scores,
    read_threshold,
    reliability_table,
    retrain_with_pseudo,
    select_pseudo,
    soft_vote,
    threshold_curves,
    threshold_gain,
    train_fake_share,
    tune_threshold,
    write_ensemble,
    write_pseudo_folder,
    write_submission,
    write_threshold,
)
from dflib.decide.ensemble import Aligned
from dflib.metrics import best_threshold
from dflib.train import RunFolder, run_folder


def toy_scores(seed: int, n: int = 300, decimals: int = 2):
    """Skewed labels (about 1 fake in 6) and overlapping scores, rounded so ties occur."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 1 / 6).astype(int)
    prob = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1).round(decimals)
    return y, prob


def brute_force(y, prob, min_recall=None):
    """Every distinct score as the threshold; max F1, then the lowest threshold."""
    best_t, best_f1 = None, -1.0
    for t in np.unique(prob):  # ascending: a later equal F1 never replaces a lower threshold
        pred = prob >= t
        if min_recall is not None and recall_score(y, pred) < min_recall:
            continue
        f1 = f1_score(y, pred)
        if f1 > best_f1 + 1e-12:
            best_t, best_f1 = t, f1
    return best_t, best_f1


# --- thresholds -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_tuned_threshold_equals_brute_force_with_ties(seed):
    y, prob = toy_scores(seed, decimals=1 + seed % 3)
    expected_t, expected_f1 = brute_force(y, prob)
    tuned = tune_threshold(y, prob)
    assert tuned.threshold == pytest.approx(expected_t)
    assert tuned.f1 == pytest.approx(expected_f1)
    assert tuned.recall == pytest.approx(recall_score(y, prob >= tuned.threshold))
    # the tuned threshold is at least as good as 0.5 on the set it was tuned on (an argmax)
    gain = threshold_gain(y, prob, tuned.threshold).loc["validation", "gain"]
    assert gain >= -1e-12


def test_tied_f1_goes_to_the_lower_threshold_on_small_sets():
    """Small sets with few distinct scores often reach the best F1 at several thresholds
    (e.g. tp 1, fp 0 and tp 2, fp 2 with 2 fakes both give 2/3): the lowest must win."""
    ties = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        y = np.r_[1, 0, (rng.random(8) < 0.4).astype(int)]
        prob = rng.integers(1, 6, y.size) / 6
        f1s = [f1_score(y, prob >= t) for t in np.unique(prob)]
        ties += sum(f >= max(f1s) - 1e-12 for f in f1s) > 1
        assert best_threshold(y, prob) == pytest.approx(brute_force(y, prob)), seed
    assert ties >= 10  # the case under test really occurs


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("min_recall", [0.5, 0.8, 0.95, 1.0])
def test_min_recall_is_met_and_is_the_constrained_optimum(seed, min_recall):
    y, prob = toy_scores(seed)
    threshold, f1 = best_threshold(y, prob, min_recall=min_recall)
    assert recall_score(y, prob >= threshold) >= min_recall
    expected_t, expected_f1 = brute_force(y, prob, min_recall)
    assert (threshold, f1) == pytest.approx((expected_t, expected_f1))


def test_min_recall_default_keeps_the_unconstrained_search():
    y, prob = toy_scores(7)
    assert best_threshold(y, prob) == best_threshold(y, prob, min_recall=None)
    assert best_threshold(y, prob) == best_threshold(y, prob, min_recall=0.0)
    unconstrained = best_threshold(y, prob)
    strict = best_threshold(y, prob, min_recall=1.0)
    assert strict[0] <= unconstrained[0] and strict[1] <= unconstrained[1]


def test_threshold_curves_match_sklearn_at_every_threshold():
    y, prob = toy_scores(3)
    curves = threshold_curves(y, prob)
    assert list(curves["threshold"]) == sorted(np.unique(prob), reverse=True)
    for row in curves.sample(10, random_state=0).itertuples():
        assert row.f1 == pytest.approx(f1_score(y, prob >= row.threshold))
        assert row.recall == pytest.approx(recall_score(y, prob >= row.threshold))


def test_bootstrap_is_seeded_and_centred_on_the_tuned_threshold():
    y, prob = toy_scores(1, n=400)
    a = bootstrap_threshold(y, prob, n=30, seed=5)
    b = bootstrap_threshold(y, prob, n=30, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 30 and list(a.columns) == ["threshold", "f1", "f1_full"]
    assert a["threshold"].min() <= tune_threshold(y, prob).threshold <= a["threshold"].max()
    assert (a["f1_full"] <= tune_threshold(y, prob).f1 + 1e-12).all()  # the full set's optimum


def test_threshold_gain_on_another_labelled_set():
    y, prob = toy_scores(2, n=400)
    y2, prob2 = toy_scores(12, n=400)
    threshold = tune_threshold(y, prob).threshold
    table = threshold_gain(y, prob, threshold, {"hidden test": (y2, prob2)})
    val, test = table.loc["validation"], table.loc["hidden test"]
    assert val["f1_tuned"] == pytest.approx(f1_score(y, prob >= threshold))
    assert val["f1_at_0.5"] == pytest.approx(f1_score(y, prob >= 0.5))
    assert test["gain"] == pytest.approx(
        f1_score(y2, prob2 >= threshold) - f1_score(y2, prob2 >= 0.5)
    )
    assert test["gain_kept"] == pytest.approx(test["gain"] / val["gain"])


# --- calibration ------------------------------------------------------------------------


def test_ece_of_a_perfectly_calibrated_set_is_about_zero():
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    y = (rng.random(p.size) < p).astype(int)
    assert expected_calibration_error(y, p, n_bins=10) < 0.01
    # the same labels with over-confident probabilities are far from calibrated
    assert expected_calibration_error(y, expit(3 * logit(p)), n_bins=10) > 0.08


def test_reliability_table_agrees_with_sklearn():
    y, prob = toy_scores(4, n=2000, decimals=3)
    table = reliability_table(y, prob, n_bins=8).query("count > 0")
    frac, mean = calibration_curve(y, prob, n_bins=8, strategy="uniform")
    np.testing.assert_allclose(table["frac_fake"], frac)
    np.testing.assert_allclose(table["mean_prob"], mean)


@pytest.mark.parametrize("stretch", [3.0, 0.4])
def test_temperature_scaling_keeps_the_ranking_and_lowers_nll(stretch):
    rng = np.random.default_rng(1)
    true_p = expit(rng.normal(-1.5, 1.5, 5000))
    y = (rng.random(true_p.size) < true_p).astype(int)
    prob = expit(stretch * logit(true_p))  # over- (3.0) or under- (0.4) confident
    scaler = TemperatureScaler().fit(y, prob)
    calibrated = scaler.transform(prob)
    assert scaler.temperature == pytest.approx(stretch, rel=0.15)
    assert roc_auc_score(y, calibrated) == roc_auc_score(y, prob)
    assert (np.argsort(calibrated, kind="stable") == np.argsort(prob, kind="stable")).all()
    assert log_loss(y, calibrated) < log_loss(y, prob) - 0.01
    before, after = calibration_scores(y, prob), calibration_scores(y, calibrated)
    assert after["ece"] < before["ece"] and after["brier"] < before["brier"]
    t = 0.7
    assert ((calibrated >= scaler.transform_threshold(t)) == (prob >= t)).all()
    report, tables = calibration_report({"val": (y, prob)}, scaler)
    assert report.loc[("val", "scaled"), "nll"] == pytest.approx(after["nll"])
    assert set(tables) == {"val, raw", "val, scaled"}


# --- ensembles --------------------------------------------------------------------------


def aligned(seed: int, models: dict[str, float], n: int = 400) -> Aligned:
    """Models whose scores carry ``signal`` times the label plus independent noise."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 1 / 6).astype(int)
    ids = [f"img{i:04d}" for i in range(n)]
    probs = {
        name: expit(signal * (2 * y - 1) + rng.normal(0, 1, n)) for name, signal in models.items()
    }
    return Aligned(pd.Series(y, index=ids, name="label"), pd.DataFrame(probs, index=ids))


def test_ensemble_of_identical_models_equals_the_model():
    base = aligned(0, {"a": 1.5})
    probs = pd.concat({"a": base.probs["a"], "b": base.probs["a"], "c": base.probs["a"]}, axis=1)
    y = base.labels.to_numpy()
    model = base.probs["a"]
    np.testing.assert_allclose(soft_vote(probs), model)
    np.testing.assert_allclose(soft_vote(probs, {"a": 0.2, "b": 0.5, "c": 0.3}), model)
    np.testing.assert_allclose(soft_vote(probs, fit_weights(probs, y)), model)
    np.testing.assert_allclose(soft_vote(probs, greedy_selection(probs, y).weights), model)
    # rank averaging turns scores into ranks: it equals the model's own ranks
    np.testing.assert_allclose(rank_average(probs), rank_scores(model.to_frame())["a"])
    assert roc_auc_score(y, rank_average(probs)) == pytest.approx(roc_auc_score(y, model))
    assert np.allclose(correlation(probs), 1.0)


def test_fitted_weights_and_greedy_selection_favour_the_informative_model():
    data = aligned(1, {"good": 2.5, "noise": 0.0, "fair": 1.0})
    y = data.labels.to_numpy()
    weights = fit_weights(data.probs, y)
    assert weights.sum() == pytest.approx(1.0) and (weights >= 0).all()
    assert weights["good"] > 0.5 and weights["noise"] < 0.1
    selection = greedy_selection(data.probs, y, metric="auc")
    assert selection.history["added"].iloc[0] == "good"
    assert selection.weights["noise"] == 0.0
    assert selection.history["score"].is_monotonic_increasing


def test_rank_scores_against_a_reference_add_no_ties():
    data = aligned(2, {"a": 1.0})
    ref, new = data.probs.iloc[:200], data.probs.iloc[200:]
    ranks = rank_scores(new, reference=ref)["a"]
    inside = (new["a"] > ref["a"].min()) & (new["a"] < ref["a"].max())
    assert ranks[inside].is_unique and ranks.between(0, 1).all()
    assert (np.argsort(ranks[inside].to_numpy()) == np.argsort(new["a"][inside].to_numpy())).all()


def test_align_names_the_runs_and_ids_that_differ():
    a = pd.DataFrame({"id": ["x1", "x2", "x3"], "label": [0, 1, 0], "prob": [0.1, 0.9, 0.2]})
    b = pd.DataFrame({"id": ["x1", "x2", "y9"], "label": [0, 1, 0], "prob": [0.2, 0.8, 0.3]})
    with pytest.raises(ValueError) as error:
        align({"run-a": a, "run-b": b})
    message = str(error.value)
    assert "run-a" in message and "run-b" in message and "y9" in message and "x3" in message
    shuffled = align({"run-a": a, "run-c": a.iloc[::-1]})
    assert list(shuffled.probs.index) == ["x1", "x2", "x3"]
    assert (shuffled.probs["run-a"] == shuffled.probs["run-c"]).all()
    with pytest.raises(ValueError, match="disagree"):
        align({"run-a": a, "run-d": a.assign(label=[1, 1, 0])})


def test_compare_methods_and_write_ensemble(tmp_path):
    val = aligned(3, {"m1": 1.5, "m2": 1.2, "m3": 0.8})
    test = aligned(4, {"m1": 1.5, "m2": 1.2, "m3": 0.8})
    comparison = compare_methods(val, test, selection_metric="f1")
    table = comparison.table
    assert {"m1", "m2", "m3", "mean", "fitted_weights", "rank_average", "greedy"} <= set(
        table.index
    )
    for method in table.index:  # every threshold is tuned on that method's validation scores
        assert table.loc[method, "threshold"] == pytest.approx(
            best_threshold(val.labels, comparison.val[method])[0]
        )
    assert table.loc["m1", "test_auc"] == pytest.approx(
        roc_auc_score(test.labels, test.probs["m1"])
    )
    path = write_ensemble(tmp_path / "ens", comparison, "mean", runs=["m1", "m2", "m3"])
    sub = pd.read_csv(path)
    expected = (soft_vote(test.probs) >= table.loc["mean", "threshold"]).astype(int)
    assert (sub["label"].to_numpy() == expected.to_numpy()).all()
    record = json.loads((tmp_path / "ens" / "ensemble.json").read_text())
    assert record["method"] == "mean" and record["weights"]["m2"] == pytest.approx(1 / 3)
    both = merge({"": comparison, " + tta": comparison})
    assert len(both.table) == 2 * len(table) and "greedy + tta" in both.test
    assert both.best() == comparison.best()  # a tie keeps the first (plain) row
    best = table["val_f1_tuned"].max()  # the chosen method is the best on validation
    assert table.loc[comparison.best(), "val_f1_tuned"] == best


# --- pseudo-labels ----------------------------------------------------------------------


def skewed_test_scores(seed: int = 0, n: int = 3000):
    """A model far surer of reals than of fakes: one cut-off would over-keep reals."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 1 / 6).astype(int)
    prob = np.where(y == 1, expit(rng.normal(1.5, 1.5, n)), expit(rng.normal(-5, 1.5, n)))
    return [f"t{i:05d}" for i in range(n)], y, prob.round(6)


@pytest.mark.parametrize("share", [1 / 6, 0.3])
def test_per_class_pseudo_cutoffs_hold(share):
    ids, y, prob = skewed_test_scores()
    pseudo = select_pseudo(ids, prob, fake_share=share, min_confidence=0.9)
    kept = pseudo.kept
    fakes, reals = kept[kept["pseudo_label"] == 1], kept[kept["pseudo_label"] == 0]
    assert len(fakes) > 20 and len(reals) > 20
    assert (fakes["prob"] >= pseudo.cutoff_fake).all() and (
        reals["prob"] <= pseudo.cutoff_real
    ).all()
    assert (kept["confidence"] >= 0.9).all()
    assert len(fakes) / len(kept) == pytest.approx(share, abs=0.01)
    # one symmetric cut-off on the same scores amplifies the skew
    single = select_pseudo(ids, prob, fake_share=None, min_confidence=0.9).kept
    assert (single["pseudo_label"] == 1).mean() < share - 0.05


def test_pseudo_report_counts_and_true_purity():
    ids, y, prob = skewed_test_scores(1)
    pseudo = select_pseudo(ids, prob, fake_share=1 / 6)
    report = pseudo.report(1 / 6, pd.DataFrame({"id": ids, "label": y}))
    kept = pseudo.kept
    truth = pd.Series(y, index=ids).loc[kept["id"]].to_numpy()
    assert report["n_kept"] == len(kept) and report["share_kept"] == pytest.approx(
        len(kept) / len(ids)
    )
    assert report["purity"] == pytest.approx((kept["pseudo_label"].to_numpy() == truth).mean())
    assert report["mean_confidence"] == pytest.approx(kept["confidence"].mean())
    assert report["n_fake"] + report["n_real"] == report["n_kept"]


# --- run folders ------------------------------------------------------------------------


def test_write_threshold_and_thresholded_submission(tmp_path, monkeypatch):
    """Notebook 10's threshold and submission go to its study folder, never into the run
    folder, and the run's decision threshold is read from there."""
    monkeypatch.setenv("DFLIB_STUDIES", str(tmp_path / "studies"))
    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    frame = pd.DataFrame({"id": ["a", "b", "c"], "label": -1, "prob": [0.2, 0.41, 0.9]})
    frame.to_csv(run.predictions_test, index=False)
    assert read_threshold(run) == 0.5  # nothing written yet
    y, prob = toy_scores(0)
    tuned = tune_threshold(y, prob, min_recall=0.8)
    path = write_threshold(run, tuned, temperature=1.7)
    written = json.loads(path.read_text())
    assert path == tmp_path / "studies" / "threshold" / "run" / "threshold.json"
    assert written["threshold"] == tuned.threshold and written["min_recall"] == 0.8
    assert written["temperature"] == 1.7 and written["tuned_on"] == "validation"
    write_threshold(run, 0.4)
    assert read_threshold(run) == 0.4
    written = write_submission(run, 0.4)
    assert written.parent == path.parent
    submission = pd.read_csv(written, dtype={"id": str})
    assert submission.to_dict("list") == {"id": ["a", "b", "c"], "label": [0, 1, 1]}
    assert sorted(p.name for p in run.root.iterdir()) == ["predictions_test.csv"]


def test_a_threshold_given_by_hand(tmp_path):
    from dflib.train.runs import given_threshold

    (tmp_path / "threshold.json").write_text('{"threshold": 0.3, "f1": 0.8}')
    (tmp_path / "bare.json").write_text("0.7")
    assert given_threshold("0.25") == 0.25 and given_threshold(0.6) == 0.6
    assert given_threshold(tmp_path / "threshold.json") == 0.3
    assert given_threshold(str(tmp_path / "bare.json")) == 0.7
    for wrong, said in [("1.5", "between 0 and 1"), (tmp_path / "none.json", "no such file"),
                        (tmp_path / "bare.json", None)]:  # fmt: skip
        if said is None:
            (tmp_path / "bare.json").write_text('{"f1": 0.8}')
            said = "holds no finite"
        with pytest.raises(ValueError, match=said):
            given_threshold(wrong)


def test_ensure_run_says_what_is_missing(tmp_path):
    with pytest.raises(MissingRunError) as error:
        ensure_run(str(tmp_path / "no-such-run"), "rgb_fft")
    message = str(error.value)
    assert "no-such-run" in message and "make_missing" in message and "--arch rgb_fft" in message


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> RunFolder:
    """One tiny trained run, made through ensure_run (a few seconds on a CPU)."""
    path = tmp_path_factory.mktemp("runs") / "tiny-rgb_fft"
    return ensure_run(str(path), "rgb_fft", make_missing=True, synthetic_size="tiny",
                      train_images=80, img_size=64, epochs=1, finetune_epochs=0, batch_size=16)  # fmt: skip


def test_ensure_run_makes_then_finds_the_run(tiny_run, capsys):
    assert tiny_run.metrics.is_file() and tiny_run.predictions_test.is_file()
    again = ensure_run(str(tiny_run.root), "rgb_fft")  # found: nothing is trained
    assert again.root == tiny_run.root and "rgb_fft" in capsys.readouterr().out
    both = load_predictions([tiny_run, run_folder(str(tiny_run.root))], "val")
    assert both.names == ["tiny-rgb_fft", "tiny-rgb_fft#2"] and both.has_labels


def test_flip_tta_rescores_the_validation_split(tiny_run):
    gain, aligned_scores = flip_tta_runs([tiny_run], device="cpu")
    assert len(gain) == 2 and set(aligned_scores) == {"val", "val_tta", "test", "test_tta"}
    scores = flip_tta_scores(tiny_run, device="cpu")
    val = tiny_run.read_predictions("val").sort_values("id").reset_index(drop=True)
    plain = scores.frames["val"].sort_values("id").reset_index(drop=True)
    assert (plain["id"] == val["id"]).all()
    np.testing.assert_allclose(plain["prob"], val["prob"], atol=1e-4)  # same weights, same images
    assert not np.allclose(scores.frames["val_tta"]["prob"], scores.frames["val"]["prob"])
    gain = scores.gain()
    assert list(gain["tta"]) == [False, True] and "test_f1_tuned" in gain


def test_pseudo_folder_trains_as_a_csv_layout(tiny_run, tmp_path):
    test = tiny_run.read_predictions("test")
    pseudo = select_pseudo(test["id"], test["prob"], fake_share=train_fake_share(tiny_run),
                           min_confidence=0.51)  # fmt: skip
    root = write_pseudo_folder(tiny_run, pseudo, tmp_path / "pseudo")
    table = load_split(root, "train")
    params = tiny_run.read_json("params")
    assert len(table) == params["n_train"] + params["n_val"] + len(pseudo.kept)
    assert len(table.report.skipped) == 0
    labelled = pd.read_csv(root / "labels.csv")
    from_pseudo = labelled[labelled["source"] == "pseudo"]
    assert sorted(from_pseudo["id"]) == sorted("pseudo-" + pseudo.kept["id"])
    assert len(load_split(root, "test")) == len(test)
    assert set(labelled_sets(tiny_run)) == {"validation", "hidden test"}  # tiny keeps test labels
    with pytest.raises(FileExistsError):
        write_pseudo_folder(tiny_run, pseudo, root)


def test_pseudo_folder_leaves_the_excluded_validation_images_out(tiny_run, tmp_path):
    test = tiny_run.read_predictions("test")
    pseudo = select_pseudo(test["id"], test["prob"], fake_share=None, min_confidence=0.51)
    val = tiny_run.read_predictions("val")
    root = write_pseudo_folder(tiny_run, pseudo, tmp_path / "held", exclude=val)
    labelled = pd.read_csv(root / "labels.csv")
    params = tiny_run.read_json("params")
    assert len(labelled) == params["n_train"] + len(pseudo.kept)
    assert not set(labelled["id"]) & set(val["id"])
    assert len(load_split(root, "train")) == len(labelled)


def test_compare_frames_tunes_on_validation_and_splits_kept_from_unseen():
    y, prob = toy_scores(3, n=200)
    val = pd.DataFrame({"id": [f"v{i}" for i in range(100)], "label": y[:100], "prob": prob[:100]})
    test = pd.DataFrame({"id": [f"t{i}" for i in range(100)], "label": y[100:], "prob": prob[100:]})
    kept = test["id"][::2]
    table = compare_frames({"before": {"val": val, "test": test}}, kept_ids=kept)
    row = table.loc["before"]
    threshold, f1 = best_threshold(val["label"], val["prob"])
    assert row["threshold"] == threshold and row["val_f1_tuned"] == pytest.approx(f1)
    assert row["test_f1_tuned"] == pytest.approx(f1_score(test["label"], test["prob"] >= threshold))
    unseen = test[~test["id"].isin(kept)]
    assert row["test_kept_n"] == 50 and row["test_unseen_n"] == 50
    assert row["test_unseen_f1_tuned"] == pytest.approx(
        f1_score(unseen["label"], unseen["prob"] >= threshold)
    )
    assert table["val_seen"].dtype == bool and not row["val_seen"]


def test_retrain_with_pseudo_scores_both_runs_on_held_out_images(tiny_run, tmp_path, capsys):
    test = tiny_run.read_predictions("test")
    pseudo = select_pseudo(test["id"], test["prob"], fake_share=None, min_confidence=0.51)
    out = tmp_path / pseudo_run_name(tiny_run, pseudo)
    retrained = retrain_with_pseudo(tiny_run, pseudo, out, epochs=1)
    params = retrained.read_json("params")
    assert params["seed"] == tiny_run.read_json("params")["seed"] and params["train_images"] == 0
    assert params["arch"] == "rgb_fft" and params["epochs"] == 1
    n_labelled = tiny_run.read_json("params")["n_train"] + len(pseudo.kept)
    assert params["n_train"] + params["n_val"] == n_labelled  # source validation images left out
    table = before_after(tiny_run, retrained, pseudo, device="cpu")
    assert list(table.index) == ["before", "after"] and not table["val_seen"].any()
    before = tiny_run.read_predictions("val")
    assert table.loc["before", "val_f1_tuned"] == pytest.approx(
        best_threshold(before["label"], before["prob"])[1], abs=1e-3
    )
    capsys.readouterr()
    assert retrain_with_pseudo(tiny_run, pseudo, out, epochs=1) == retrained  # found, not retrained
    assert capsys.readouterr().out.startswith(f"run {retrained.name}: rgb_fft")
    other = select_pseudo(test["id"], test["prob"], fake_share=None, min_confidence=0.501)
    other.frame.loc[0, "pseudo_label"] = 1 - max(other.frame.loc[0, "pseudo_label"], 0)
    assert pseudo_run_name(tiny_run, other) != pseudo_run_name(tiny_run, pseudo)
    with pytest.raises(
        ValueError, match=r"other settings than the plan needs \(data_dir: .*pseudo_data-"
    ):
        retrain_with_pseudo(tiny_run, other, out, epochs=1)  # other pseudo-labels: refused
    with pytest.raises(ValueError, match=r"epochs: 1 \(planned: 2\)"):
        retrain_with_pseudo(tiny_run, pseudo, out, epochs=2)


# --- figures ----------------------------------------------------------------------------


def test_decision_figures_draw(tmp_path):
    from dflib.viz import decisions as figures
    from dflib.viz.plotting import save

    y, prob = toy_scores(0, n=400, decimals=3)
    tuned = tune_threshold(y, prob)
    scaler = TemperatureScaler().fit(y, prob)
    tables = {
        "raw": reliability_table(y, prob),
        "scaled": reliability_table(y, scaler.transform(prob)),
    }
    val = aligned(3, {"m1": 1.5, "m2": 1.2})
    comparison = compare_methods(val, aligned(4, {"m1": 1.5, "m2": 1.2}))
    pseudo = select_pseudo(range(len(prob)), prob, fake_share=1 / 6, min_confidence=0.6)
    drawn = {
        "curves": (figures.threshold_curves(threshold_curves(y, prob), tuned.threshold, 0.8), 1),
        "pr": (figures.pr_curve(y, prob, tuned.threshold), 1),
        "bootstrap": (
            figures.bootstrap(bootstrap_threshold(y, prob, n=10), tuned.threshold, tuned.f1),
            2,
        ),
        "reliability": (figures.reliability(tables, {"raw": calibration_scores(y, prob)}), 2),
        "corr": (figures.correlation_heatmap(correlation(val.probs)), 2),
        "bars": (figures.comparison_bars(comparison.table), 1),
        "pseudo": (figures.pseudo_cutoffs(prob, pseudo.cutoff_fake, pseudo.cutoff_real, y), 1),
    }
    for name, (fig, panels) in drawn.items():
        assert len(fig.axes) == panels, name
        assert save(fig, tmp_path / f"{name}.png").stat().st_size > 1000, name
    bars = drawn["bars"][0].axes[0]
    assert len(bars.containers) == 4  # val / test F1 and AUC


def test_two_processes_asking_for_one_missing_run_train_it_once(tmp_path):
    """Notebooks 10-13 and 16 all make the same smoke run: under parallel test workers
    the first trains it, the others wait for it and read it."""
    import subprocess
    import sys

    script = (
        "from dflib.decide import ensure_run\n"
        f"run = ensure_run({str(tmp_path / 'shared')!r}, 'freqnet', make_missing=True, "
        "synthetic_size='tiny', train_images=24, img_size=64, epochs=1, finetune_epochs=0)\n"
        "print('FINISHED', run.metrics.is_file())\n"
    )
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("training it now" in out for out in outputs) == 1, outputs
    assert all("FINISHED True" in out for out in outputs), outputs
