"""Early stopping: the validation score it watches, and a resume that keeps a stop."""

from __future__ import annotations

import pytest

from dflib.train import fit, get_recipe, loop
from dflib.train.loop import stopped_early, watched

# validation scores per epoch: F1 at 0.5 keeps rising, AUC stops rising after epoch 1
F1 = [0.30, 0.40, 0.50, 0.60, 0.65, 0.70, 0.72, 0.74]
AUC = [0.70, 0.70, 0.69, 0.70, 0.70, 0.70, 0.70, 0.70]


def tiny(**overrides):
    settings = dict(synthetic_size="tiny", train_images=64, img_size=64, batch_size=16)
    return get_recipe("freqnet", **{**settings, **overrides})


@pytest.fixture
def scripted(monkeypatch):
    """Each epoch's validation F1 and AUC set to :data:`F1` / :data:`AUC`."""
    real = loop.history_row

    def row(epoch, finetune, stats, val, lr):
        out = real(epoch, finetune, stats, val, lr)
        return {**out, "val_f1": F1[epoch], "val_auc": AUC[epoch]}

    monkeypatch.setattr(loop, "history_row", row)


def test_the_count_follows_the_watched_score():
    best = {"epoch": -1, "f1": -1.0, "auc": -1.0, "since": 0}
    counts = {}
    for metric in ("f1", "auc"):
        state = dict(best)
        counts[metric] = []
        for f1, auc in zip(F1[:4], AUC[:4], strict=True):
            state = watched(state, {"val_f1": f1, "val_auc": auc}, metric)
            counts[metric].append(state["since"])
    assert counts == {"f1": [0, 0, 0, 0], "auc": [0, 1, 2, 3]}
    config = tiny(early_stopping=2, early_stopping_metric="auc")
    assert not stopped_early({"since": 1}, config) and stopped_early({"since": 2}, config)
    assert not stopped_early({"since": 9}, config.replace(early_stopping=0))


def test_a_metric_it_cannot_watch_is_refused():
    with pytest.raises(ValueError, match=r"early_stopping_metric='loss' \(expected one of"):
        tiny(early_stopping_metric="loss")


def test_auc_stops_where_f1_would_not_and_a_resume_keeps_the_stop(scripted, tmp_path, capsys):
    """F1 rises every epoch (F1 early stopping would not stop), AUC has no better value for
    2 epochs after epoch 1: the run stops after 3 of 4 epochs; a resume asking 8 keeps the
    stop; with early stopping off it trains on from epoch 4 (not from where the stop
    jumped to)."""
    config = tiny(epochs=4, early_stopping=2, early_stopping_metric="auc")
    out = str(tmp_path / "run")
    first = fit(config, out=out, progress=False)
    assert len(first.history) == 3
    assert first.metrics["best_epoch"] == 3  # best.pt is still chosen by F1
    capsys.readouterr()
    longer = fit(config.replace(epochs=8), out=out, resume=True, progress=False)
    assert len(longer.history) == 3
    assert "stays stopped" in capsys.readouterr().out
    on = fit(config.replace(epochs=5, early_stopping=0), out=out, resume=True, progress=False)
    assert on.history["epoch"].tolist() == [1, 2, 3, 4, 5]
