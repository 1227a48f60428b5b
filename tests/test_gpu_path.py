"""The step a T4 runs, on the CPU: fp16 autocast, ``GradScaler("cpu")``, AdamW's fused
update and channels_last (torch >= 2.4 has all four on a CPU). CPU runs otherwise keep
the default update and NCHW; the fixture takes the GPU's choices here.

A CPU's fp16 convolution backward is a slow fallback (6 s a step for ``custom_resnet``
at 64 px), so the runs train a narrow ``custom_resnet`` (widths 4-8, one block a
stage): the step path is what is checked, not the architecture.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from conftest import killed_then_resumed

from dflib.train import fit, get_recipe, loop, machine, optim
from dflib.train.loop import train_one_epoch
from dflib.train.losses import make_loss
from dflib.train.machine import Device

TIMING = ["seconds", "images_per_s"]
GPU_STEP = "eager, float16 autocast + GradScaler, channels_last, AdamW fused update"


def tiny(**overrides):
    """Two epochs of 40 images at batch 8 (four whole batches and a ragged one)."""
    settings = dict(synthetic_size="tiny", train_images=40, img_size=64, epochs=2, batch_size=8,
                    finetune_epochs=0, amp="fp16")  # fmt: skip
    return get_recipe("custom_resnet", **{**settings, **overrides})


def test_the_gpu_step_learns_a_fixed_batch(gpu_path):
    config = tiny(lr=1e-2, augment=())
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    model, pipeline = loop.model_and_pipeline(config, cpu)
    optimizer, _ = optim.make_optimizer(model, config, finetune=False)
    dev = Device.for_run(cpu, config.amp)
    assert optimizer.param_groups[0]["fused"] and pipeline.channels_last
    assert machine.describe_step(None, model, dev, pipeline.channels_last) == GPU_STEP
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (8, 64, 64, 3), dtype=np.uint8))
    labels = torch.arange(8) % 2
    images[labels == 1, ::4, ::4] = 255  # a learnable trace on the fakes
    batch = [(images, labels, torch.arange(8))]
    loss_fn = make_loss(config.loss, [1.0, 1.0])
    losses = [train_one_epoch(model, batch, pipeline, loss_fn, optimizer, dev, epoch=e,
                              progress=False)["loss"] for e in range(12)]  # fmt: skip
    assert dev.scaler.get_scale() > 0 and np.isfinite(losses).all()
    assert losses[-1] < 0.8 * losses[0], losses


def test_a_gpu_path_run_killed_and_resumed_equals_the_uninterrupted_one(gpu_path, tmp_path):
    whole = fit(tiny(), out=str(tmp_path / "whole"), progress=False)
    assert whole.run.read_json("params")["step"] == GPU_STEP
    assert whole.metrics["environment"]["precision"] == "float16"
    out = str(tmp_path / "killed")

    resumed = killed_then_resumed(tiny(), out)
    pd.testing.assert_frame_equal(
        whole.history.drop(columns=TIMING), resumed.history.drop(columns=TIMING)
    )
    weights, again = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(weights[k], again[k]) for k in weights)
