"""Recipes, losses, the device pipeline, batch order and prediction with a finished run."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dflib.models import list_models
from dflib.train import fit, get_recipe, list_recipes, predict_folder, write_predicted_submission
from dflib.train.config import TrainConfig
from dflib.train.inputs import DevicePipeline, epoch_order
from dflib.train.losses import fake_probability, make_loss


def test_every_model_has_a_recipe_and_unknown_names_are_explained():
    assert list_recipes() == list_models()
    with pytest.raises(ValueError, match="Did you mean 'xception_resnet50'"):
        get_recipe("xception_resnet")
    with pytest.raises(ValueError, match="loss"):
        get_recipe("freqnet", loss="hinge")


def test_recipes_follow_the_writeups():
    x = get_recipe("xception_resnet50")
    assert (x.img_size, x.batch_size, x.lr, x.weight_decay, x.epochs) == (196, 32, 1e-3, 1e-3, 25)
    assert x.filter == "coherent_noise_filter" and x.loss == "ce"
    d = get_recipe("deepfakenet")
    assert (d.img_size, d.batch_size, d.lr, d.epochs, d.finetune_epochs, d.finetune_lr) == (
        256, 16, 1e-4, 20, 5, 5e-5)  # fmt: skip
    assert d.balanced_sampler and d.loss == "bce_focal" and "gaussian_blur" in d.augment
    assert "sharpness" in get_recipe("hrnet_artifact").augment
    assert get_recipe("resnet50").filter == "none" and get_recipe("resnet50").epochs == 30


def test_config_round_trips_through_json_and_reads_notebook_strings():
    config = get_recipe("deepfakenet", augment="hflip, color_jitter", epochs=None)
    assert config.augment == ("hflip", "color_jitter") and config.epochs == 20
    assert TrainConfig.from_dict({**config.to_dict(), "from_the_future": 1}) == config


def test_weighted_ce_matches_torch_and_heads_agree():
    torch.manual_seed(0)
    logits2 = torch.randn(12, 2)
    targets = torch.randint(0, 2, (12,))
    weights = torch.tensor([0.6024, 2.9412])
    expected = nn.CrossEntropyLoss(weight=weights)(logits2, targets)
    assert torch.allclose(make_loss("ce", weights)(logits2, targets), expected, atol=1e-6)
    logit1 = (logits2[:, 1] - logits2[:, 0])[:, None]
    for kind in ("ce", "bce", "bce_focal"):
        loss = make_loss(kind, weights)
        assert torch.allclose(loss(logits2, targets), loss(logit1, targets), atol=1e-6)
    assert torch.allclose(fake_probability(logits2), torch.softmax(logits2, 1)[:, 1], atol=1e-6)


def test_validation_loss_does_not_depend_on_the_evaluation_batch():
    """The epoch's class-weighted CE is the split's loss as one batch, at any batch size.

    Before, it was a mean of batch means: 1e-3 apart between a CPU's evaluation batch and
    CUDA's 512, so ``ce`` runs' ``val_loss`` (and the lr schedule reading it) moved with
    the machine. This moves ``val_loss`` of ``ce`` runs; ``bce`` and ``bce_focal`` are
    image means, whose value this leaves as it was."""
    from dflib.models import create_model
    from dflib.train.inputs import batch_loader, split_batches
    from dflib.train.loop import evaluate
    from dflib.train.machine import Device

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (45, 64, 64, 3), dtype=np.uint8)
    labels = (rng.random(45) < 0.2).astype(np.int64)  # about 5:1 like the data
    torch.manual_seed(0)
    model, pipeline = create_model("rgb_fft"), DevicePipeline((0.5,) * 3, (0.25,) * 3)
    loss_fn = make_loss("ce", [0.6024, 2.9412])
    dev = Device(torch.device("cpu"))

    def val_loss(batch: int) -> float:
        loader = batch_loader(images, labels, split_batches(np.arange(45), batch, False))
        return evaluate(model, loader, pipeline, dev, loss_fn)["loss"]

    whole = val_loss(45)
    assert val_loss(4) == pytest.approx(whole, rel=1e-6, abs=0)
    assert val_loss(16) == pytest.approx(whole, rel=1e-6, abs=0)


def test_losses_copy_no_class_weights_per_call():
    """A loss copying its class weights to the device at each call made every GPU step
    wait (a pageable host-to-device copy); they are put on the device once."""
    from torch.overrides import TorchFunctionMode

    from dflib.train.config import LOSSES

    class Calls(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(getattr(func, "__name__", str(func)))
            return func(*args, **(kwargs or {}))

    logits, targets = torch.randn(6, 2), torch.tensor([0, 1, 0, 0, 1, 0])
    for kind in LOSSES:
        loss = make_loss(kind, [0.6024, 2.9412])  # device="cpu": where the targets are
        with Calls() as calls:
            loss(logits, targets)
            loss.weight(targets)
        assert calls.names and "to" not in calls.names, (kind, calls.names)


def test_focal_down_weights_easy_examples():
    easy = torch.tensor([[6.0]]), torch.tensor([1])
    bce, combo = make_loss("bce", [1.0, 1.0]), make_loss("bce_focal", [1.0, 1.0])
    assert combo(*easy) < bce(*easy)


def test_per_sample_augmentation_differs_across_a_batch():
    torch.manual_seed(0)
    image = torch.randint(0, 256, (1, 32, 32, 3), dtype=torch.uint8)
    batch = image.repeat(16, 1, 1, 1)
    pipeline = DevicePipeline((0.0,) * 3, (1.0,) * 3, ("resized_crop", "color_jitter"), 32)
    out = pipeline(batch, train=True)
    distinct = {tuple(out[i].flatten()[:50].tolist()) for i in range(16)}
    assert len(distinct) > 8
    plain = pipeline(batch, train=False)
    assert torch.equal(plain[0], plain[15]) and plain.shape == (16, 3, 32, 32)


def test_balanced_order_draws_both_classes_equally_and_depends_on_epoch():
    labels = np.array([0] * 500 + [1] * 100)
    order = epoch_order(labels, seed=42, epoch=0, balanced=True)
    assert abs(labels[order].mean() - 0.5) < 0.06
    assert not np.array_equal(order, epoch_order(labels, 42, 1, balanced=True))
    assert np.array_equal(order, epoch_order(labels, 42, 0, balanced=True))
    assert sorted(epoch_order(labels, 42, 0)) == list(range(600))


def test_predict_writes_one_row_per_test_image_even_unreadable(messy_csv_folder, tmp_path):
    (messy_csv_folder / "test" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (messy_csv_folder / "test" / "notes.txt").write_text("not an image")
    config = get_recipe("freqnet", data_dir=str(messy_csv_folder), img_size=64, epochs=1,
                        batch_size=4)  # fmt: skip
    run = fit(config, out=str(tmp_path / "run"), progress=False).run
    predictions = predict_folder([str(run.root)], str(messy_csv_folder), progress=False)
    out = write_predicted_submission(predictions, tmp_path / "submission.csv")
    submission = pd.read_csv(out, dtype={"id": str})
    assert sorted(submission["id"]) == ["broken", "t0", "t1", "t2"]
    assert set(submission["label"]) <= {0, 1}
    unreadable = pd.read_csv(tmp_path / "submission_unreadable.csv")
    assert unreadable["file"].str.endswith("broken.png").all()
    proba = predictions.submission(proba=True)
    assert proba["prob"].between(0, 1).all() and proba["id"].is_unique
    both = predict_folder([str(run.root), str(run.root)], str(messy_csv_folder), progress=False)
    np.testing.assert_allclose(both.frame["prob"], predictions.frame["prob"], atol=1e-6)


def test_restore_puts_the_random_generators_back(tmp_path):
    """``last.pt`` keeps every generator's state and a resumed run starts from it."""
    import random

    from dflib.train.checkpoint import last_state, load_checkpoint, restore, save_checkpoint
    from dflib.train.optim import make_optimizer

    config = TrainConfig(epochs=2)
    model = nn.Linear(3, 2)
    optimizer, scheduler = make_optimizer(model, config, finetune=False)
    torch.manual_seed(3)
    np.random.seed(3)  # noqa: NPY002 - the legacy global generator is what gets restored
    random.seed(3)
    best = {"epoch": 0, "f1": 0.5, "auc": 0.5, "since": 0}
    save_checkpoint(last_state(model, optimizer, scheduler, None, 1, [], best, config),
                    tmp_path / "last.pt")  # fmt: skip
    want = torch.rand(4), np.random.rand(4), random.random()  # noqa: NPY002
    torch.manual_seed(99)
    np.random.seed(99)  # noqa: NPY002
    random.seed(99)
    fresh = nn.Linear(3, 2)
    _, _, epoch, _, _ = restore(load_checkpoint(tmp_path / "last.pt"), fresh, config, None)
    got = torch.rand(4), np.random.rand(4), random.random()  # noqa: NPY002
    assert epoch == 1 and torch.equal(fresh.weight, model.weight)
    assert torch.equal(got[0], want[0]) and np.array_equal(got[1], want[1]) and got[2] == want[2]


def test_compile_runs_eager_and_says_why_below_compute_capability_7(monkeypatch):
    """Inductor's Triton kernels need compute capability 7.0: on Kaggle's P100 (6.0) a
    compiled step crashed at its first forward; it now runs eager, saying so."""
    from dflib.train import machine

    cuda, on = torch.device("cuda"), TrainConfig(compile=True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla P100-PCIE-16GB")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (6, 0))
    assert machine.compile_mode(on, cuda, distributed=False) is None
    compile_mode, compile_unsupported = machine.compile_mode, machine.compile_unsupported
    why = compile_unsupported(cuda)
    assert "compute capability >= 7.0" in why and "Tesla P100-PCIE-16GB has 6.0" in why
    assert "runs eager" in why and "compile=False" in why
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 0))
    assert compile_mode(on, cuda, distributed=False) == "reduce-overhead"
    assert not compile_unsupported(cuda) and not compile_unsupported(torch.device("cpu"))


def test_resume_loads_the_optimiser_state_for_this_runs_fused_update(tmp_path, monkeypatch):
    """A run saved with the default update (a CPU) resumed with the fused one (a GPU, in
    channels_last): the saved state must be loaded with the fused flag already in place,
    or ``load_state_dict`` leaves ``step`` on the saver's device (pytorch/pytorch#124133),
    and every moment must take its parameter's strides, or the fused kernel refuses it.
    On a CPU both would still run, so the causes are checked, not the crash."""
    from dflib.train import optim
    from dflib.train.checkpoint import last_state, load_checkpoint, restore, save_checkpoint

    config = TrainConfig(epochs=2)
    torch.manual_seed(0)
    saver = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    optimizer, scheduler = optim.make_optimizer(saver, config, finetune=False)
    saver(torch.randn(2, 3, 8, 8)).sum().backward()
    optimizer.step()
    best = {"epoch": 0, "f1": 0.5, "auc": 0.5, "since": 0}
    save_checkpoint(last_state(saver, optimizer, scheduler, None, 1, [], best, config),
                    tmp_path / "last.pt")  # fmt: skip

    monkeypatch.setattr(optim, "FUSED_DEVICES", ("cuda", "cpu"))  # the GPU's update
    loaded_with = []
    real_load = torch.optim.Optimizer.load_state_dict

    def load_state_dict(self, state_dict):
        loaded_with.extend(group.get("fused") for group in state_dict["param_groups"])
        return real_load(self, state_dict)

    monkeypatch.setattr(torch.optim.Optimizer, "load_state_dict", load_state_dict)
    model = copy.deepcopy(saver).to(memory_format=torch.channels_last)
    resumed, *_ = restore(load_checkpoint(tmp_path / "last.pt"), model, config, None)
    assert loaded_with == [True], "the saved groups are loaded with this run's fused flag"
    assert resumed.param_groups[0]["fused"] is True
    conv = model[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    for saved, param in zip(saver.parameters(), model.parameters(), strict=True):
        for key in ("exp_avg", "exp_avg_sq"):
            moment = resumed.state[param][key]
            assert moment.stride() == param.stride(), (key, moment.stride(), param.stride())
            assert torch.equal(moment, optimizer.state[saved][key])
    resumed.step()  # the fused update runs on the restored state


def test_step_mode_follows_device_and_flags(monkeypatch):
    """Compiled steps are CUDA graphs on one GPU only; AdamW is fused on CUDA only."""
    from dflib.train.machine import Device, compile_mode, describe_step
    from dflib.train.optim import fused, make_optimizer

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))  # a T4
    assert compile_mode(TrainConfig(), cuda, distributed=False) is None, "off unless asked"
    on = TrainConfig(compile=True)
    assert compile_mode(on, cuda, distributed=False) == "reduce-overhead"
    assert compile_mode(on, cuda, distributed=True) == "default"
    assert compile_mode(on, cpu, distributed=False) == "default"
    model = nn.Linear(3, 2)
    assert not fused(list(model.parameters())) and not fused([])
    optimizer, _ = make_optimizer(model, TrainConfig(), finetune=False)
    assert not optimizer.param_groups[0]["fused"], "CPU runs keep the default update"
    dev = Device(cpu)
    assert describe_step(None, model, dev, False) == "eager, float32, NCHW, AdamW default update"
    assert describe_step("default", model, Device.for_run(cpu, "fp16"), True) == (
        "torch.compile (default), float16 autocast + GradScaler, channels_last, "
        "AdamW default update"
    )
    on_gpu = SimpleNamespace(device=cuda)  # a parameter as fused() sees it
    assert fused([on_gpu, on_gpu]) and not fused([on_gpu, next(model.parameters())])
