"""DistributedDataParallel on CPU: 2 gloo processes against a single-process run."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp
from conftest import take_the_gpu_path
from test_gpu_path import GPU_STEP, tiny

from dflib.train import TrainingDiverged, fit, get_recipe, load_checkpoint, loop
from dflib.train.distributed import World, shard
from dflib.train.losses import Loss

WORLD = 2


def tiny_config():
    return get_recipe("freqnet", synthetic_size="tiny", train_images=80, img_size=64, epochs=2,
                      batch_size=8, workers=0)  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poison_loss(at_step: int) -> None:
    """This process's training loss becomes NaN at its ``at_step``-th step."""
    real_make_loss, steps = loop.make_loss, [0]

    def make_loss(*args, **kwargs):
        loss = real_make_loss(*args, **kwargs)

        def poisoned(logits, targets):
            steps[0] += logits.requires_grad  # training steps only, not validation
            value = loss(logits, targets)
            return value * float("nan") if steps[0] == at_step else value

        return Loss(poisoned, loss.normaliser)

    loop.make_loss = make_loss


def record_validation_buffers(rank: int, out: str) -> None:
    """Each rank saves its model's buffers (BatchNorm's running statistics) as every
    evaluation of the run begins (rank 0 evaluates again at the end, alone)."""
    real_evaluate, seen = loop.evaluate, []

    def evaluate(model, *args, **kwargs):
        seen.append({k: v.detach().clone() for k, v in model.named_buffers()})
        torch.save(seen, f"{out}/rank{rank}-val-buffers.pt")
        return real_evaluate(model, *args, **kwargs)

    loop.evaluate = evaluate


def _worker(rank: int, port: int, out: str, resume: bool, kill_at: int, nan_at: int,
            gpu_path: bool) -> None:  # fmt: skip
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank))  # fmt: skip
    torch.set_num_threads(1)
    config = tiny_config()
    if gpu_path:  # Kaggle's T4 x2 step: fp16 + GradScaler, fused AdamW, channels_last
        take_the_gpu_path()
        config = tiny(workers=0)
    if nan_at and rank == 1:
        poison_loss(nan_at)
    record_validation_buffers(rank, out)
    calls = [0]

    def kill(index, seen, seconds):
        calls[0] += 1
        if calls[0] == kill_at:
            raise KeyboardInterrupt

    try:
        result = fit(config, out=out, resume=resume, progress=False,
                     hooks=(kill,) if kill_at else ())  # fmt: skip
    except KeyboardInterrupt:
        return
    except TrainingDiverged as error:
        Path(out, f"rank{rank}-diverged.txt").write_text(str(error))
        return
    params = {k: v.detach() for k, v in result.model.named_parameters()}
    torch.save(params, f"{out}/rank{rank}-params.pt")


def run_ddp(out, resume=False, kill_at=0, nan_at=0, gpu_path=False) -> None:
    mp.spawn(_worker, args=(free_port(), str(out), resume, kill_at, nan_at, gpu_path),
             nprocs=WORLD, join=True)  # fmt: skip


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """One uninterrupted two-process run of the step DDP users train with: Kaggle's T4 x2
    (fp16 + GradScaler("cpu"), fused AdamW and channels_last; tests/test_gpu_path.py runs
    the same step in one process)."""
    out = tmp_path_factory.mktemp("ddp") / "run"
    out.mkdir()
    run_ddp(out, gpu_path=True)
    return out


def test_the_process_group_outlasts_a_first_time_cache(monkeypatch):
    """Rank 0 builds the cache while the others wait in a barrier: NCCL's default 10
    minutes would end a first run on a large folder there."""
    from dflib.train import distributed

    calls = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group",
                        lambda *args, **kwargs: calls.append(kwargs))  # fmt: skip
    distributed.join(World(0, 2, 0), torch.device("cpu"))
    assert "timeout" in calls[0], "an explicit timeout, not the backend's default"
    assert calls[0]["timeout"] == distributed.PROCESS_GROUP_TIMEOUT
    assert distributed.PROCESS_GROUP_TIMEOUT.total_seconds() >= 3600


def test_shards_are_disjoint_and_equal_in_batches():
    order = np.random.default_rng(0).permutation(103)
    parts = [shard(order, World(r, 3, r), batch_size=8) for r in range(3)]
    assert len({len(p) for p in parts}) == 1 and len(parts[0]) % 8 == 0
    assert not set(parts[0]) & set(parts[1]) and not set(parts[1]) & set(parts[2])


@pytest.mark.usefixtures("gpu_path")
@pytest.mark.xdist_group("ddp_run")  # one worker makes the run for the three that read it
def test_ddp_keeps_ranks_in_step_and_matches_a_single_process_run(ddp_run, tmp_path):
    assert json.loads((ddp_run / "params.json").read_text())["step"] == GPU_STEP
    # rank 1 ends with the last epoch's parameters, rank 0 saved them in last.pt (its own
    # model then takes best.pt's): synchronised gradients keep them identical
    last = load_checkpoint(ddp_run / "last.pt")["model"]
    rank1 = torch.load(ddp_run / "rank1-params.pt", weights_only=True)
    assert rank1 and all(torch.equal(rank1[k], last[k]) for k in rank1)
    history = pd.read_csv(ddp_run / "history.csv")
    single = fit(tiny(workers=0), out=str(tmp_path / "single"), progress=False)
    assert len(history) == len(single.history) == 2
    val = pd.read_csv(ddp_run / "predictions_val.csv", dtype={"id": str})
    assert sorted(val["id"]) == sorted(single.run.read_predictions("val")["id"]), (
        "validation is gathered from every rank: the whole split, each image once"
    )
    # same data, same epochs: the losses agree to within what sharded BatchNorm changes
    np.testing.assert_allclose(history["train_loss"], single.history["train_loss"], rtol=0.25)
    assert history["val_auc"].notna().all()


@pytest.mark.xdist_group("ddp_run")
def test_ddp_validates_rank_zeros_model_on_every_rank(ddp_run):
    """DDP copies rank 0's buffers to the others at the start of each forward, so after an
    epoch's last step every rank holds its own BatchNorm statistics: validation scored on
    shards mixed models, and history.csv disagreed with metrics.json and
    predictions_val.csv (rank 0's best.pt on every image)."""
    from dflib.metrics import binary_metrics

    metrics = json.loads((ddp_run / "metrics.json").read_text())
    best = pd.read_csv(ddp_run / "history.csv").iloc[metrics["best_epoch"] - 1]
    val = pd.read_csv(ddp_run / "predictions_val.csv")
    scored = binary_metrics(val["label"].to_numpy(), val["prob"].to_numpy())
    for key in ("f1", "recall", "precision", "auc"):
        assert best[f"val_{key}"] == pytest.approx(metrics["val"][key], abs=1e-6), key
        assert scored[key] == pytest.approx(metrics["val"][key], abs=1e-6), key
    rank0, rank1 = (torch.load(ddp_run / f"rank{r}-val-buffers.pt", weights_only=True)
                    for r in range(WORLD))  # fmt: skip
    assert len(rank1) == 2 and rank1[0], "one validation per epoch, buffers recorded"
    for epoch, (ours, theirs) in enumerate(zip(rank0, rank1)):  # noqa: B905 -- rank 0 has more
        for name in theirs:
            assert torch.equal(ours[name], theirs[name]), (epoch, name)


def test_a_nan_loss_on_one_rank_stops_every_rank(tmp_path):
    # rank 1's last step of epoch 2 (4 steps per rank per epoch): rank 0's own losses are
    # finite up to the epoch's end, yet it must stop too, not wait for rank 1 in validation
    run_ddp(tmp_path, nan_at=8)
    messages = [(tmp_path / f"rank{r}-diverged.txt").read_text() for r in range(WORLD)]
    assert all("epoch 2, batch 4 " in m for m in messages), messages
    assert "another rank" in messages[0] and "another rank" not in messages[1]
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1


@pytest.mark.xdist_group("ddp_run")
def test_a_ddp_run_killed_and_resumed_equals_the_uninterrupted_one(ddp_run, tmp_path):
    """Every rank resumes from rank 0's last.pt - model, optimiser, GradScaler and the
    sampler's epoch - so the resumed history equals the whole run's."""
    killed = tmp_path / "killed"
    killed.mkdir()
    run_ddp(killed, kill_at=3, gpu_path=True)  # epoch 2's first step (2 per rank and epoch)
    assert load_checkpoint(killed / "last.pt")["epoch"] == 1
    run_ddp(killed, resume=True, gpu_path=True)
    resumed = pd.read_csv(killed / "history.csv").drop(columns=["seconds", "images_per_s"])
    whole = pd.read_csv(ddp_run / "history.csv").drop(columns=["seconds", "images_per_s"])
    pd.testing.assert_frame_equal(resumed, whole)
