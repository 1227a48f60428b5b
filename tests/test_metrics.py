"""Metrics of the fake class and the constant-predictor yardstick."""

import numpy as np
import pytest

from dflib.metrics import binary_metrics, constant_predictor


def test_always_real_scores_accuracy_but_no_f1():
    labels = np.array([0] * 41_500 + [1] * 8_500)
    scores = constant_predictor(labels, predict=0)
    assert scores["accuracy"] == pytest.approx(0.83)
    assert scores["f1"] == 0.0 and scores["recall"] == 0.0
    always_fake = constant_predictor(labels, predict=1)
    assert always_fake["recall"] == 1.0
    assert always_fake["f1"] == pytest.approx(2 * 0.17 / 1.17)


def test_binary_metrics_threshold_and_auc():
    y = np.array([0, 0, 1, 1])
    prob = np.array([0.1, 0.6, 0.4, 0.9])
    at_half = binary_metrics(y, prob, 0.5)
    assert at_half["precision"] == 0.5 and at_half["recall"] == 0.5 and at_half["auc"] == 0.75
    assert binary_metrics(y, prob, 0.35)["recall"] == 1.0
