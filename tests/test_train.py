"""The training engine: learning, reproducibility, resume, divergence, unsafe checkpoints."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import killed_then_resumed
from tqdm.auto import tqdm

from dflib.train import (
    CheckpointError,
    TrainingDiverged,
    fit,
    get_recipe,
    load_checkpoint,
    loop,
    save_checkpoint,
)
from dflib.train.inputs import DevicePipeline, batch_loader, split_batches
from dflib.train.loop import train_one_epoch
from dflib.train.losses import Loss, make_loss
from dflib.train.machine import Device

TIMING = ["seconds", "images_per_s"]


def tiny(**overrides):
    """A seconds-long recipe on the tiny embedded benchmark."""
    arch = overrides.pop("arch", "freqnet")
    settings = dict(synthetic_size="tiny", train_images=80, img_size=64, epochs=2, batch_size=16)
    return get_recipe(arch, **{**settings, **overrides})


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "reference"
    return fit(tiny(), out=str(out), progress=False)


def test_loss_decreases_on_a_tiny_set():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 64, 64, 3), dtype=np.uint8)
    labels = np.array([0, 1] * 16)
    images[labels == 1, ::4, ::4] = 255  # a learnable high-frequency trace on the fakes
    from dflib.models import create_model

    model = create_model("rgb_fft")
    pipeline = DevicePipeline((0.5,) * 3, (0.25,) * 3)
    loss_fn = make_loss("bce", [1.0, 1.0])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = batch_loader(images, labels, split_batches(np.arange(32), 16, drop_last=True))
    dev = Device(torch.device("cpu"))
    losses = [train_one_epoch(model, loader, pipeline, loss_fn, optimizer, dev, epoch=e,
                              progress=False)["loss"] for e in range(8)]  # fmt: skip
    assert losses[-1] < 0.7 * losses[0], losses


def _tiny_step_parts(n=40, batch=2):
    """A tiny model, pipeline, loss and loader (``n / batch`` steps) for engine tests."""
    from dflib.models import create_model

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)
    labels = np.arange(n) % 2
    torch.manual_seed(0)
    model = create_model("rgb_fft")
    pipeline = DevicePipeline((0.5,) * 3, (0.25,) * 3, augment=("hflip",), img_size=64)
    loader = batch_loader(images, labels, split_batches(np.arange(n), batch, drop_last=True))
    return model, pipeline, make_loss("bce", [1.0, 1.0]), loader


@pytest.mark.parametrize("amp", ["off", "fp16"])
def test_clip_grad_norm_bounds_every_update_and_zero_leaves_it_alone(amp):
    """Each update sees gradients of global norm ``clip_grad_norm`` where they were larger
    (under a GradScaler: the unscaled ones, not clipped while scaled and then shrunk by the
    scale); 0 leaves them as they came."""

    def norms_seen(clip):
        model, pipeline, loss_fn, loader = _tiny_step_parts(n=8, batch=2)
        optimizer, norms = torch.optim.SGD(model.parameters(), lr=1e-3), []
        original = optimizer.step

        def step(*args, **kwargs):
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            norms.append(float(torch.linalg.vector_norm(torch.stack(
                [torch.linalg.vector_norm(g) for g in grads]))))  # fmt: skip
            return original(*args, **kwargs)

        optimizer.step = step
        train_one_epoch(model, loader, pipeline, loss_fn, optimizer,
                        Device.for_run(torch.device("cpu"), amp), epoch=0, progress=False,
                        clip_grad_norm=clip)  # fmt: skip
        return norms

    free = norms_seen(0.0)
    limit = min(free) / 4
    clipped = norms_seen(limit)
    # a GradScaler skips the steps whose gradients overflowed, the same ones in both
    assert free and len(clipped) == len(free)
    assert min(free) > 2 * limit  # so every update is clipped: to the limit, not below it
    assert limit * 0.999 <= min(clipped) <= max(clipped) <= limit * 1.001


def test_epoch_loss_equals_an_eager_per_step_reference():
    """The device-side sum gives the mean a host loop of float(loss) gives, bit for bit."""
    import copy

    model, pipeline, loss_fn, loader = _tiny_step_parts()
    reference = copy.deepcopy(model).train()
    dev = Device(torch.device("cpu"))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ref_optimizer = torch.optim.AdamW(reference.parameters(), lr=1e-3)
    for epoch in range(2):
        torch.manual_seed(100 + epoch)
        got = train_one_epoch(model, loader, pipeline, loss_fn, optimizer, dev, epoch=epoch,
                              progress=False)  # fmt: skip
        torch.manual_seed(100 + epoch)
        total, seen = 0.0, 0
        # the loop as it was, one host read per step; through tqdm.auto as the engine goes
        # (its asyncio flavour opens the loader once more, drawing one more seed)
        for images, labels, _ in tqdm(loader, disable=True):
            loss = loss_fn(reference(pipeline(images, train=True)), labels)
            total += float(loss.detach()) * len(labels)
            seen += len(labels)
            ref_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            ref_optimizer.step()
        assert got["images"] == seen and got["loss"] == total / seen
    assert same_weights(model.state_dict(), reference.state_dict())


def test_the_cpu_duration_estimate_leaves_out_the_first_steps_warm_up():
    """A first step that pays the warm-up (10 s here, then 1 s a step of 32 images) is left
    out of the rate: 32,000 images at 1 s per 32, plus evaluation, is about 0.3 h."""
    said = []
    config = get_recipe("freqnet", epochs=1, finetune_epochs=0)
    hook = loop.duration_estimate(config, torch.device("cpu"), 32_000, said.append)
    for index in range(8):
        hook(index, 32 * (index + 1), 10.0 + index)
    assert len(said) == 1 and "about 0.3 h" in said[0], said
    quiet = []
    gpu = loop.duration_estimate(config, torch.device("cuda"), 32_000, quiet.append)
    for index in range(8):
        gpu(index, 32 * (index + 1), 10.0 + index)
    assert quiet == [], "said on a CPU only"


def test_augmentation_runs_in_float32_outside_autocast():
    """Under bf16 autocast the model sees the very images a float32 run sees: blur and
    sharpness convolve in float32, not in the autocast dtype."""
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (16, 64, 64, 3), dtype=np.uint8)
    labels = np.arange(16) % 2
    loader = batch_loader(images, labels, split_batches(np.arange(16), 8, drop_last=True))
    pipeline = DevicePipeline((0.5,) * 3, (0.25,) * 3, ("gaussian_blur", "sharpness"), 64)

    def model_inputs(amp_dtype):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.AdaptiveAvgPool2d(1),
                                    torch.nn.Flatten())  # fmt: skip
        seen = []
        model.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        train_one_epoch(model, loader, pipeline, make_loss("bce", [1.0, 1.0]), optimizer,
                        Device(torch.device("cpu"), amp_dtype), epoch=0, progress=False)  # fmt: skip
        return seen

    under_bf16, in_fp32 = model_inputs(torch.bfloat16), model_inputs(None)
    assert len(under_bf16) == 2
    for a, b in zip(under_bf16, in_fp32, strict=True):
        assert a.dtype == torch.float32 and torch.equal(a, b)


# 1-based; the reads come after step 16 and at the end (step 20)
@pytest.mark.parametrize("bad_batch", [5, 17, 19])
def test_nan_is_reported_at_its_own_batch_between_reads(bad_batch):

    assert loop.CHECK_EVERY == 16 and bad_batch % loop.CHECK_EVERY != 0
    model, pipeline, loss_fn, loader = _tiny_step_parts(n=40, batch=2)  # 20 steps
    calls, hooked = [0], []

    def poisoned(logits, targets):
        calls[0] += 1
        value = loss_fn(logits, targets)
        return value * float("nan") if calls[0] == bad_batch else value

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    with pytest.raises(TrainingDiverged, match=rf"epoch 3, batch {bad_batch} \(lr 0.001\)"):
        train_one_epoch(model, loader, pipeline, poisoned, optimizer, Device(torch.device("cpu")),
                        epoch=2, progress=False, hooks=(lambda i, n, s: hooked.append(i),))  # fmt: skip
    # stopped at the first read after the bad batch: step 16 (before its hook), or the end
    assert len(hooked) == (15 if bad_batch <= 16 else 20)


def test_same_seed_same_history_and_weights(reference_run, tmp_path):
    again = fit(tiny(), out=str(tmp_path / "again"), progress=False)
    pd.testing.assert_frame_equal(
        reference_run.history.drop(columns=TIMING), again.history.drop(columns=TIMING)
    )
    assert same_weights(reference_run.model.state_dict(), again.model.state_dict())


def test_resident_cache_trains_the_same_run(reference_run, tmp_path):
    """The cache held on the device (forced here on the CPU) gives the loader's batches
    in the loader's order: the same history, weights and predictions."""
    held = fit(tiny(resident_data="on"), out=str(tmp_path / "held"), progress=False)
    assert reference_run.config.resident_data == "auto"  # on a CPU: the loader path
    pd.testing.assert_frame_equal(
        reference_run.history.drop(columns=TIMING), held.history.drop(columns=TIMING)
    )
    assert same_weights(reference_run.model.state_dict(), held.model.state_dict())
    pd.testing.assert_frame_equal(reference_run.predictions("val"), held.predictions("val"))


def test_run_folder_contract(reference_run):
    run = reference_run.run
    for path in (run.params, run.environment, run.history, run.metrics, run.predictions_val,
                 run.predictions_test, run.skipped, run.last, run.best):  # fmt: skip
        assert path.is_file(), path
    val = run.read_predictions("val")
    assert (
        list(val.columns) == ["id", "label", "prob"] and len(val) == reference_run.metrics["n_val"]
    )
    test = run.read_predictions("test")
    assert (test["label"] >= 0).all(), "the benchmark's hidden test labels are attached"
    assert reference_run.metrics["test"]["f1"] >= 0
    for path in (run.last, run.best):
        torch.load(path, weights_only=True)  # every checkpoint loads without unpickling


def test_killed_mid_epoch_then_resumed_equals_uninterrupted(reference_run, tmp_path):
    out = str(tmp_path / "killed")

    resumed = killed_then_resumed(tiny(), out)
    pd.testing.assert_frame_equal(
        reference_run.history.drop(columns=TIMING), resumed.history.drop(columns=TIMING)
    )
    assert same_weights(reference_run.model.state_dict(), resumed.model.state_dict())


def test_resuming_a_finished_run_says_so_and_trains_nothing(reference_run, tmp_path, capsys):
    out = tmp_path / "finished"
    shutil.copytree(reference_run.run.root, out)
    again = fit(tiny(), out=str(out), resume=True, progress=False)
    said = capsys.readouterr().out
    assert f"{out} has finished training: evaluating its best.pt" in said
    assert f"resuming {out}" not in said
    pd.testing.assert_frame_equal(reference_run.history, again.history)


@pytest.mark.parametrize("changed", [{"img_size": 72}, {"lr": 0.5}, {"augment": ()}])
def test_resume_refuses_other_settings(reference_run, changed):
    with pytest.raises(CheckpointError, match=next(iter(changed))):
        fit(tiny(**changed), out=str(reference_run.run.root), resume=True, progress=False)


def test_existing_run_is_not_overwritten(reference_run):
    with pytest.raises(FileExistsError, match="resume"):
        fit(tiny(), out=str(reference_run.run.root), progress=False)


def test_nan_loss_stops_with_a_clear_message_and_keeps_last_good(tmp_path, monkeypatch):
    real_make_loss = loop.make_loss

    def poisoned(*args, **kwargs):
        loss, calls = real_make_loss(*args, **kwargs), [0]

        def wrapped(logits, targets):
            calls[0] += logits.requires_grad  # training steps only, not validation
            value = loss(logits, targets)
            return value * float("nan") if calls[0] == 7 else value  # epoch 2 (5 steps each)

        return Loss(wrapped, loss.normaliser)

    monkeypatch.setattr(loop, "make_loss", poisoned)
    with pytest.raises(TrainingDiverged, match=r"epoch 2, batch \d+ \(lr"):
        fit(tiny(), out=str(tmp_path / "nan"), progress=False)
    assert load_checkpoint(tmp_path / "nan" / "last.pt")["epoch"] == 1


class RunsCode:
    """An object whose unpickling would run code (it creates a marker file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_checkpoint_with_a_pickled_object_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)
    assert not marker.exists()


def test_checkpoint_round_trip_is_atomic(tmp_path):
    path = save_checkpoint({"model": {"w": torch.ones(2)}, "epoch": 3}, tmp_path / "c.pt")
    assert load_checkpoint(path)["epoch"] == 3
    assert not list(tmp_path.glob("*.tmp"))
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "broken.pt")


@pytest.mark.parametrize(
    "failure",
    [OSError(28, "No space left on device"),
     RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 189568 vs 189464")],
    ids=["ENOSPC", "zip-writer"],
)  # fmt: skip
def test_a_full_disk_mid_checkpoint_says_so_and_leaves_no_temporary_file(
    tmp_path, monkeypatch, failure
):
    """Kaggle's 20 GB or a full Drive: torch stops with its zip writer's "unexpected pos"
    and the half-written file stayed. The message now names the full disk, where, and
    what the checkpoint needs; the previous checkpoint is kept and nothing else is left."""
    path = save_checkpoint({"model": {"w": torch.ones(2)}, "epoch": 1}, tmp_path / "last.pt")
    real_save = torch.save

    def fill_the_disk(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise failure

    monkeypatch.setattr(torch, "save", fill_the_disk)
    state = {"model": {"w": torch.zeros(1_000_000)}, "epoch": 2}  # 4 MB of tensors
    with pytest.raises(OSError, match=r"disk full: writing .*last\.pt needs about 4 MB") as error:
        save_checkpoint(state, path)
    assert type(error.value).__name__ == "DiskFullError" and error.value.errno == 28
    assert str(tmp_path) in str(error.value) and "MB are free" in str(error.value)
    assert "previous last.pt is kept" in str(error.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    monkeypatch.setattr(torch, "save", real_save)
    assert load_checkpoint(path)["epoch"] == 1


def test_a_failed_checkpoint_write_of_another_kind_is_raised_as_it_is(tmp_path, monkeypatch):
    def interrupted(obj, handle, *args, **kwargs):
        handle.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"epoch": 1}, tmp_path / "best.pt")
    assert not list(tmp_path.iterdir()), "no temporary file left behind"
