"""Threshold search: highest F1 of the fake class, ties to the higher recall."""

import numpy as np
import pytest

from dflib.metrics import best_threshold


def test_ties_go_to_the_lower_threshold():
    t, f1 = best_threshold(np.array([0, 1, 1]), np.array([0.2, 0.2, 0.9]))
    assert t == pytest.approx(0.2) and f1 == pytest.approx(0.8)


def test_matches_a_brute_force_search():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.2).astype(int)
    prob = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1).round(2)
    candidates = np.unique(prob)
    f1s = [2 * ((prob >= t) & (y == 1)).sum() / ((prob >= t).sum() + y.sum()) for t in candidates]
    best = max(f1s)
    expected = min(t for t, f in zip(candidates, f1s, strict=True) if f >= best - 1e-12)
    t, f1 = best_threshold(y, prob)
    assert f1 == pytest.approx(best) and t == pytest.approx(expected)


def test_no_positives():
    assert best_threshold(np.zeros(4, int), np.linspace(0, 1, 4)) == (0.5, 0.0)
