"""The notebooks' checks helper: a failed answer raises with its name, nothing asked is
shown as not checked, and the shuffled-label floor that learned results must clear."""

from __future__ import annotations

import numpy as np
import pytest

from dflib.checks import CheckFailed, Checks
from dflib.metrics import shuffled_floor


def test_checks_pass_fail_and_unchecked_rows(capsys):
    checks = Checks()
    checks.expect("auc", 0.81, low=0.7).expect("ratio", 4.88, low=4.5, high=5.2)
    checks.expect("not at this size", 0.3, None, None).expect("order", "a>b", equals="a>b")
    checks.true("probabilities in [0, 1]", True).expect("psnr", 41.7, equals=41.7, tol=0.01)
    table = checks.done()
    assert table["ok"].tolist() == ["ok", "ok", "-", "ok", "ok", "ok"]
    assert "not checked" in capsys.readouterr().out
    checks.expect("val auc", 0.55, low=0.7).true("weights", False).expect(
        "nan", float("nan"), low=0
    )
    assert checks.failed() == ["val auc", "weights", "nan"]
    with pytest.raises(CheckFailed, match=r"3 of 9 checks failed: val auc; weights; nan"):
        checks.done()
    numpy_values = (
        Checks().expect("gain", np.float64(-0.18), low=0.0).expect("n", np.int64(3), equals=4)
    )
    with pytest.raises(CheckFailed, match=r"2 of 2 checks failed: gain; n"):
        numpy_values.done()


def test_shuffled_floor_is_what_chance_reaches_and_a_learned_score_clears_it():
    rng = np.random.default_rng(1)
    labels = (rng.random(200) < 0.2).astype(int)
    noise = rng.random(200)
    learned = np.clip(0.35 * labels + 0.65 * noise, 0, 1)
    floor = shuffled_floor(labels, learned, "auc", q=99, n=400)
    assert 0.55 < floor < 0.7  # 200 images: chance reaches ~0.6 one time in a hundred
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(labels, learned) > floor
    small = shuffled_floor(labels[:20], learned[:20], "auc", q=99, n=400)
    assert small > floor  # fewer images: luck reaches further
    assert shuffled_floor(labels, learned, "f1", n=50) == shuffled_floor(
        labels, learned, "f1", n=50
    )


def test_a_learned_auc_floor_must_clear_chance_and_be_reached(capsys):
    rng = np.random.default_rng(2)
    labels = (rng.random(200) < 0.2).astype(int)
    learned = np.clip(0.35 * labels + 0.65 * rng.random(200), 0, 1)
    ok = Checks().learned_auc("val AUC", labels, learned, 0.7)
    assert ok.failed() == []
    assert "val AUC of label-shuffled predictions, 99th percentile: 0.6" in capsys.readouterr().out
    # a floor chance reaches cannot fail, so it is itself a failed check
    assert Checks().learned_auc("val AUC", labels, learned, 0.5).failed() == [
        "the val AUC floor clears chance (shuffled 99th pct)"
    ]
    nothing = Checks().learned_auc("val AUC", labels, rng.random(200), 0.7)
    assert nothing.failed() == ["val AUC"]
    assert Checks().learned_auc("val AUC", labels, learned, None).table()["ok"].tolist() == [
        "-",
        "-",
    ]


def test_not_learned_is_one_rule_an_auc_that_chance_reaches():
    """:func:`learning` decides "not learned" for the checks and the studies alike: a
    model whose AUC a label shuffle reaches one time in a hundred has not learned, however
    far above 0.5 it is on a small set."""
    from sklearn.metrics import roc_auc_score

    from dflib.metrics import learning

    rng = np.random.default_rng(3)
    labels = (rng.random(300) < 0.17).astype(int)
    learned = learning(labels, np.clip(0.3 * labels + 0.7 * rng.random(300), 0, 1))
    assert learned.learned and learned.auc > learned.floor
    guessed = learning(labels, rng.random(300))
    assert not guessed.learned and "not learned" in str(guessed)
    few = (rng.random(30) < 0.3).astype(int)
    lucky = np.where(rng.random(30) < 0.5, few, 1 - few) * 0.1 + rng.random(30)
    small = learning(few, lucky)
    assert 0.5 < small.auc <= small.floor  # above 0.5, yet chance reaches it on 30 images
    assert not small.learned
    probs = rng.random(300)
    assert learning(labels, probs).auc == pytest.approx(roc_auc_score(labels, probs))
    with pytest.raises(ValueError, match="both classes"):
        learning(np.zeros(10), rng.random(10))
