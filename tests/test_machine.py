"""``python -m dflib env``: what a run will use here, from the functions training calls.

GPUs are faked on the CPU (torch.cuda's answers about the device), so each GPU a user
meets is checked here: a T4, a P100, an H100, and a GPU the installed torch lacks.
"""

from __future__ import annotations

import os

import pytest
import torch

from dflib import cli, environment, runtime
from dflib.runtime import built_for
from dflib.train import get_recipe
from dflib.train.machine import (
    Device,
    compile_mode,
    compile_unsupported,
    loader_workers,
    machine_report,
)

ARCHS = ["sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]


def fake_gpu(monkeypatch, name: str, capability: tuple[int, int], arch_list=ARCHS, count=1):
    """torch.cuda answering as if ``count`` GPUs ``name`` were visible."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: list(arch_list))


@pytest.fixture(autouse=True)
def _folders(monkeypatch, tmp_path):
    monkeypatch.setenv("DFLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DFLIB_RUNS", str(tmp_path / "runs"))


def test_t4_fp16_with_a_grad_scaler_compile_available_fused(monkeypatch):
    fake_gpu(monkeypatch, "Tesla T4", (7, 5))
    report = machine_report()
    assert report["precision"] == "float16 autocast + GradScaler (amp=auto)"
    assert report["compile"].startswith("available") and "reduce-overhead" in report["compile"]
    assert report["AdamW"].startswith("fused")
    assert report["memory format"] == "channels_last (channels_last=auto)"
    assert report["GPU 0"] == "Tesla T4, compute capability 7.5 (sm_75: in torch's build)"
    assert report["loader workers"].startswith("2 ")
    assert report.warnings == []
    assert "no known trap found" in report.format()


def test_p100_fp16_compile_refused_with_the_reason(monkeypatch):
    fake_gpu(monkeypatch, "Tesla P100-PCIE-16GB", (6, 0))
    report = machine_report()
    assert report["precision"] == "float16 autocast + GradScaler (amp=auto)"
    assert report["compile"].startswith("not available here")
    assert ">= 7.0" in report["compile"] and "has 6.0" in report["compile"]
    assert report["AdamW"].startswith("fused")  # the fused update runs on any CUDA GPU
    assert report.warnings == []  # compile is off by default: nothing asked is refused
    asked = machine_report(get_recipe("freqnet", compile=True))
    assert asked["compile"].startswith("asked, but not available here: the step runs eager")
    assert asked.warnings == [compile_unsupported(torch.device("cuda"))]


def test_h100_bf16_compile_and_fused(monkeypatch):
    fake_gpu(monkeypatch, "NVIDIA H100 80GB HBM3", (9, 0), count=2)
    report = machine_report(get_recipe("freqnet", compile=True))
    assert report["precision"] == "bfloat16 autocast (amp=auto)"
    assert report["compile"] == "on: torch.compile (reduce-overhead) of the training step"
    assert report["AdamW"].startswith("fused")
    assert "torchrun --nproc_per_node 2" in report["device"]
    assert {"GPU 0", "GPU 1"} <= {key for key, _ in report.facts}
    assert report.warnings == []


def test_cpu_without_bf16_float32_default_adamw_no_workers(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"avx2"}))  # no native bf16
    report = machine_report()
    assert report["device"] == "cpu"
    assert report["precision"].startswith("float32 (amp=auto: no native bf16")
    assert report["compile"].startswith("available")
    assert report["AdamW"].startswith("default update")
    assert report["memory format"].startswith("NCHW (channels_last=auto: no native bf16")
    assert report["loader workers"].startswith("0 ")


def test_the_report_says_what_training_decides(monkeypatch):
    """One definition of each fact: the lines are the trainer's own answers."""
    for name, capability in (("Tesla T4", (7, 5)), ("Tesla P100", (6, 0)), ("H100", (9, 0))):
        fake_gpu(monkeypatch, name, capability)
        config, cuda = get_recipe("xception_resnet50", compile=True), torch.device("cuda")
        report = machine_report(config)
        assert report["precision"].startswith(Device.for_run(cuda, config.amp).describe())
        mode = compile_mode(config, cuda, distributed=False)
        assert (mode is not None) == report["compile"].startswith("on:")
        assert report["loader workers"].startswith(f"{loader_workers(config, cuda)} ")


def test_a_gpu_the_installed_torch_was_not_built_for(monkeypatch):
    fake_gpu(monkeypatch, "Tesla P100-PCIE-16GB", (6, 0), arch_list=["sm_75", "sm_80", "sm_90"])
    report = machine_report()
    assert "sm_60: NOT in torch's build" in report["GPU 0"]
    (warning,) = report.warnings
    assert "sm_60" in warning and "sm_75 sm_80 sm_90" in warning and "no kernel image" in warning
    assert "! GPU 0" in report.format()


def test_cuda_binary_compatibility():
    assert built_for((8, 6), ["sm_80"]) and not built_for((8, 0), ["sm_86"])
    assert built_for((8, 9), ["compute_80"]) and not built_for((7, 5), ["compute_80"])
    assert built_for((9, 0), ["sm_90a"]) and not built_for((9, 1), ["sm_90a"])
    assert not built_for((6, 0), ["sm_75", "sm_120"]) and built_for((12, 0), ["sm_120"])
    assert not built_for((7, 5), [])  # a CPU-only build


def test_a_read_only_folder_given_as_the_run_folder(monkeypatch, tmp_path):
    data = tmp_path / "input" / "my-data"  # an attached dataset, read-only like /kaggle/input
    data.mkdir(parents=True)
    data.chmod(0o555)
    if os.access(data, os.W_OK):  # root ignores permission bits: act as the read-only mount
        real = os.access
        monkeypatch.setattr(os, "access",
                            lambda p, mode, **kw: mode != os.W_OK and real(p, mode, **kw)
                            if str(p).startswith(str(data)) else real(p, mode, **kw))  # fmt: skip
    try:
        assert not environment.writable(data / "runs" / "xr50")
        report = machine_report(out=str(data / "runs" / "xr50"))
    finally:
        data.chmod(0o755)
    assert report["run folder"] == str(data / "runs" / "xr50")
    (warning,) = report.warnings
    assert f"{data} is read-only" in warning and "--out" in warning
    assert environment.writable(tmp_path / "runs" / "new")
    assert machine_report(out=str(tmp_path / "runs" / "new")).warnings == []


def test_env_command_prints_one_screen(capsys, monkeypatch):
    fake_gpu(monkeypatch, "Tesla T4", (7, 5))
    assert cli.main(["env", "--arch", "freqnet", "--compile", "--no-amp"]) == 0
    out = capsys.readouterr().out
    assert "precision        float32 (amp=off)" in out
    assert "compile          on: torch.compile (reduce-overhead)" in out
    assert "recipe           freqnet:" in out and "platform" in out
    assert len(out.splitlines()) <= 30


def _no_data_or_model_work(monkeypatch):
    """Reading data or building a model fails the test: a refusal must come first."""
    from dflib.train import loop, predict

    def forbidden(*args, **kwargs):
        raise AssertionError("data or model work began before the device was checked")

    for module, name in ((loop, "prepare"), (loop, "create_model"),
                         (predict, "load_prediction_images"), (predict, "create_model")):  # fmt: skip
        monkeypatch.setattr(module, name, forbidden)


def test_fit_and_predict_refuse_a_gpu_the_build_lacks_before_any_work(monkeypatch, tmp_path,
                                                                      capsys):  # fmt: skip
    """Kaggle's P100 (6.0) under a torch built from sm_75 up: one message up front (the
    device, its capability, the build's architectures, what to do), not "no kernel image is
    available" at the first kernel after the data is cached. ``env`` says the same, and
    goes on."""
    from dflib.train import fit, predict_folder

    fake_gpu(monkeypatch, "Tesla P100-PCIE-16GB", (6, 0), arch_list=["sm_75", "sm_80", "sm_90"])
    _no_data_or_model_work(monkeypatch)
    with pytest.raises(RuntimeError) as refused:
        fit(get_recipe("freqnet", synthetic_size="tiny"), out=str(tmp_path / "run"))
    message = str(refused.value)
    for part in ("Tesla P100-PCIE-16GB", "compute capability 6.0", "sm_60", "sm_75 sm_80 sm_90",
                 "no kernel image", "another", "torch built for sm_60", "--device cpu"):  # fmt: skip
        assert part in message, (part, message)
    with pytest.raises(RuntimeError) as again:
        predict_folder([str(tmp_path / "run")], "synthetic")
    assert str(again.value) == message
    assert cli.main(["predict", "--run", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err.strip() == f"error: {message}"
    report = machine_report()
    assert report.warnings == [message], "env reports the same refusal, without stopping"
    # a GPU the build covers is not refused
    fake_gpu(monkeypatch, "Tesla T4", (7, 5), arch_list=["sm_75", "sm_80", "sm_90"])
    with pytest.raises(AssertionError, match="data or model work"):
        fit(get_recipe("freqnet", synthetic_size="tiny"), out=str(tmp_path / "t4"))


def test_bf16_below_compute_capability_8_runs_fp16_with_a_grad_scaler_and_says_so(monkeypatch):
    """A T4 or P100 has no bfloat16 tensor cores: an explicit amp="bf16" there runs what
    amp="auto" would (fp16 + GradScaler), with one line saying so; an A100 keeps bf16."""
    from dflib.runtime import amp_dtype, amp_note

    cuda = torch.device("cuda")
    fake_gpu(monkeypatch, "Tesla T4", (7, 5))
    assert amp_dtype("bf16", cuda) == torch.float16
    dev = Device.for_run(cuda, "bf16")
    assert dev.amp_dtype == torch.float16 and dev.scaler is not None
    note = amp_note("bf16", cuda)
    for part in ("amp=bf16", "Tesla T4", "compute capability 7.5", "8.0", "float16"):
        assert part in note, (part, note)
    assert "\n" not in note
    assert amp_note("auto", cuda) == amp_note("fp16", cuda) == ""
    report = machine_report(get_recipe("freqnet", amp="bf16"))
    assert report["precision"] == "float16 autocast + GradScaler (amp=bf16)"
    assert report.warnings == [note]
    fake_gpu(monkeypatch, "NVIDIA A100-SXM4-40GB", (8, 0))
    assert amp_dtype("bf16", cuda) == torch.bfloat16 and amp_note("bf16", cuda) == ""
    assert machine_report(get_recipe("freqnet", amp="bf16")).warnings == []


def test_predict_takes_the_precision_of_its_own_device(monkeypatch, tmp_path, capsys):
    """A run trained with amp="bf16" on an A100, predicted on a Kaggle T4: fp16 there."""
    from dflib.models import create_model
    from dflib.train import TrainConfig, load_run_model, run_folder, save_checkpoint
    from dflib.train.runs import write_json

    run = run_folder(tmp_path / "a100-run")
    run.root.mkdir(parents=True)
    write_json(run.params, TrainConfig(arch="rgb_fft", img_size=64, amp="bf16").to_dict())
    save_checkpoint({"model": create_model("rgb_fft").state_dict(), "epoch": 1}, run.best)
    fake_gpu(monkeypatch, "Tesla T4", (7, 5))
    monkeypatch.setattr(torch.nn.Module, "to", lambda self, *args, **kwargs: self)  # no GPU here
    _, config, _, dev = load_run_model(run, "cuda")
    assert config.amp == "bf16" and dev.device.type == "cuda"
    assert dev.amp_dtype == torch.float16, "the T4's precision, not the A100's"
    assert "amp=bf16" in capsys.readouterr().out
