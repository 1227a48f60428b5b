"""The small CNN probes: shapes, metrics, class weights and that training learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dflib import probes


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models on a shared CPU: one thread avoids oversubscription stalls."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", sorted(probes.PROBES))
def test_probe_shapes_and_gradients(name):
    model = probes.make_probe(name, width=8)
    x = torch.randn(2, 3, 40, 40)
    out = model(x)
    assert out.shape == (2, 2)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) < 200_000


def test_make_probe_is_seeded():
    a, b = probes.make_probe("small_cnn", seed=1), probes.make_probe("small_cnn", seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    with pytest.raises(ValueError, match="unknown probe"):
        probes.make_probe("vit")


def test_metrics_and_threshold():
    y = np.array([0, 0, 0, 1, 1])
    m = probes.evaluate(y, np.array([0.1, 0.2, 0.6, 0.7, 0.9]))
    assert m["auc"] == 1.0 and m["recall"] == 1.0 and m["precision"] == pytest.approx(2 / 3)
    assert m["tuned_f1"] == 1.0 and m["tuned_threshold"] == pytest.approx(0.7)


def _checkerboard_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fakes carry a faint 2-px checkerboard, the fingerprint probes exist to find."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype(int)
    x = rng.normal(128, 20, (n, 16, 16, 3))
    board = (np.indices((16, 16)).sum(0) % 2 * 2 - 1)[None, :, :, None] * 12.0
    x = x + board * y[:, None, None, None]
    return np.clip(x, 0, 255).astype(np.uint8), y


def test_fit_probe_learns_a_fine_trace():
    x, y = _checkerboard_data(192, 0)
    xv, yv = _checkerboard_data(96, 1)
    model = probes.make_probe("small_cnn", width=8)
    result = probes.fit_probe(
        model, x, y, xv, yv, time_budget_s=None, epochs=5, batch_size=32, lr=1e-2, log=False
    )
    assert result.metrics["auc"] > 0.95
    assert result.steps == 5 * 6 and len(result.history) == 5
    assert result.val_prob.shape == (96,)


def test_fit_probe_respects_the_time_budget():
    x, y = _checkerboard_data(64, 2)
    result = probes.fit_probe(
        probes.make_probe("small_resnet", width=4), x, y, x, y,
        time_budget_s=0.5, epochs=1000, batch_size=8, log=False,
    )  # fmt: skip
    assert result.train_seconds < 5 and result.epochs < 1000


def test_fit_probe_needs_a_budget():
    x, y = _checkerboard_data(8, 3)
    with pytest.raises(ValueError, match="time_budget_s, epochs"):
        probes.fit_probe(probes.make_probe(), x, y, x, y, time_budget_s=None, epochs=None)
