"""Precision, memory format and threads on a CPU: ``amp="auto"`` and ``channels_last="auto"``
follow the CPU's native bf16 instructions (faked here either way, so the tests say the
same on every machine), the pipeline and the loss stay in float32 under CPU autocast, and
a run resumes across the change of machine (fp32 ``last.pt`` into a bf16 run, and back).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from dflib import environment, runtime
from dflib.train import fit, get_recipe, machine
from dflib.train.config import TrainConfig
from dflib.train.inputs import DevicePipeline
from dflib.train.loop import train_one_epoch
from dflib.train.losses import Loss, make_loss
from dflib.train.machine import Device, machine_report, uses_channels_last

CPU = torch.device("cpu")
CPUS = {  # /proc/cpuinfo flags of the three kinds of CPU
    "sapphire rapids": {"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"},
    "zen 4": {"avx512f", "avx512_bf16"},
    "skylake": {"avx2", "avx512f"},
}


def fake_cpu(monkeypatch, kind: str) -> None:
    """This CPU answers with the flags of ``kind``."""
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset(CPUS[kind]))


@pytest.fixture(autouse=True)
def _folders(monkeypatch, tmp_path):
    monkeypatch.setenv("DFLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DFLIB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.mark.parametrize(
    ("kind", "native", "dtype", "nhwc"),
    [("sapphire rapids", "AMX", torch.bfloat16, True),
     ("zen 4", "AVX512-BF16", torch.bfloat16, True),
     ("skylake", "", None, False)],
)  # fmt: skip
def test_auto_follows_the_cpus_bf16_instructions(monkeypatch, kind, native, dtype, nhwc):
    fake_cpu(monkeypatch, kind)
    assert runtime.cpu_bf16() == native
    assert runtime.autocast_dtype(CPU) == dtype
    assert Device.for_run(CPU, "auto").amp_dtype == dtype
    assert uses_channels_last(TrainConfig(), CPU) is nhwc
    report = machine_report(get_recipe("freqnet", device="cpu"))
    if native:
        assert report["precision"] == (f"bfloat16 autocast (amp=auto: {native} present, "
                                       "faster in reports/benchmarks.md's CPU table)")  # fmt: skip
        assert report["memory format"].startswith("channels_last (channels_last=auto: ")
    else:
        assert report["precision"].startswith("float32 (amp=auto: no native bf16 (AMX, ")
        assert report["memory format"].startswith("NCHW (channels_last=auto: no native bf16")
    assert f"bf16 instructions: {native or 'none'}" in report["CPU"]


def test_a_setting_given_forces_the_old_path_on_a_bf16_cpu(monkeypatch):
    fake_cpu(monkeypatch, "sapphire rapids")
    config = TrainConfig(amp="off", channels_last="off")
    assert Device.for_run(CPU, config.amp).amp_dtype is None
    assert not uses_channels_last(config, CPU)
    report = machine_report(config.replace(arch="freqnet"))
    assert report["precision"] == "float32 (amp=off)"
    assert report["memory format"] == "NCHW (channels_last=off)"
    fake_cpu(monkeypatch, "skylake")  # and the other way: asked for where auto says no
    assert uses_channels_last(TrainConfig(channels_last="on"), CPU)
    assert Device.for_run(CPU, "bf16").amp_dtype == torch.bfloat16


def test_no_onednn_means_no_native_bf16(monkeypatch):
    fake_cpu(monkeypatch, "sapphire rapids")
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    assert runtime.cpu_bf16() == "" and runtime.autocast_dtype(CPU) is None


def test_channels_last_reads_the_old_bools_and_refuses_other_values():
    assert TrainConfig(channels_last=True).channels_last == "auto"  # older params.json
    assert TrainConfig(channels_last=False).channels_last == "off"
    with pytest.raises(ValueError, match=r"channels_last='nhwc' \(expected one of"):
        TrainConfig(channels_last="nhwc")


def test_the_pipeline_and_the_loss_stay_float32_under_cpu_autocast(monkeypatch):
    """In the engine's own step: augmentation runs outside autocast and gives float32,
    the model's logits come out of autocast in bf16, the loss is float32."""
    fake_cpu(monkeypatch, "zen 4")
    dev = Device.for_run(CPU, "auto")
    seen: dict[str, object] = {}
    pipeline = DevicePipeline((0.5,) * 3, (0.5,) * 3, ("hflip", "color_jitter"), 16)
    plain = pipeline.forward

    def watched_pipeline(images, train=False):
        seen["autocast in pipeline"] = torch.is_autocast_enabled("cpu")
        seen["pipeline"] = out = plain(images, train=train)
        return out

    pipeline.forward = watched_pipeline
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2)
    )
    model(torch.zeros(1, 3, 16, 16))
    plain_loss = make_loss("ce", [1.0, 2.0])

    def watched_loss(logits, targets):
        seen["logits"], seen["loss"] = logits, plain_loss(logits, targets)
        return seen["loss"]

    images = torch.randint(0, 256, (4, 16, 16, 3), dtype=torch.uint8)
    batches = [(images, torch.tensor([0, 1, 0, 1]))] * 2
    optimizer = torch.optim.AdamW(model.parameters())
    train_one_epoch(model, batches, pipeline, Loss(watched_loss), optimizer, dev, epoch=0,
                    progress=False)  # fmt: skip
    assert seen["autocast in pipeline"] is False
    assert seen["pipeline"].dtype == torch.float32
    assert seen["logits"].dtype == torch.bfloat16  # autocast was on for the model
    assert seen["loss"].dtype == torch.float32


def tiny(**overrides) -> TrainConfig:
    settings = dict(synthetic_size="tiny", train_images=40, img_size=64, epochs=1, batch_size=8)
    return get_recipe("freqnet", **{**settings, **overrides})


def test_resume_from_an_fp32_last_pt_into_a_bf16_run_and_back(monkeypatch, tmp_path):
    """The same run folder trained on a CPU without bf16 (float32, NCHW), resumed on one
    with it (bf16, channels_last: the checkpoint's NCHW weights load into the NHWC model),
    then back: each part records its precision and step, and the history goes on."""
    out = str(tmp_path / "run")
    steps = []
    for epochs, kind in ((1, "skylake"), (2, "zen 4"), (3, "skylake")):
        fake_cpu(monkeypatch, kind)
        fit(tiny(epochs=epochs), out=out, resume=epochs > 1, progress=False)
        params = json.loads((tmp_path / "run" / "params.json").read_text())
        steps.append((params["precision"], params["step"].split(", ")[1:3]))
    assert steps == [("float32", ["float32", "NCHW"]),
                     ("bfloat16", ["bfloat16 autocast", "channels_last"]),
                     ("float32", ["float32", "NCHW"])]  # fmt: skip
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert np.isfinite(history[["train_loss", "val_loss", "val_auc"]].to_numpy()).all()


def test_threads_follow_the_cgroup_quota_and_the_affinity(monkeypatch, tmp_path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")  # docker --cpus 1.5
    assert environment.cpu_quota(v2) == 1.5
    (v2 / "cpu.max").write_text("max 100000\n")
    assert environment.cpu_quota(v2) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert environment.cpu_quota(v1) == 1.0
    assert environment.cpu_quota(tmp_path / "none") is None

    monkeypatch.setattr(environment.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert environment.available_cores(v2) == 2  # 1.5 CPUs' worth, rounded up
    assert environment.available_cores(tmp_path / "none") == 4  # the affinity mask
    monkeypatch.setattr(machine, "available_cores", lambda: 1)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
    assert machine.cpu_threads() == 1
