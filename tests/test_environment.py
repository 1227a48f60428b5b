"""Paths resolve from the project root whatever the cwd; platform and device defaults."""

import warnings
from pathlib import Path

import pytest
import torch

from dflib import environment, runtime


def test_paths_resolve_from_the_project_root(monkeypatch, tmp_path):
    root = environment.project_root()
    assert (root / "notebooks").is_dir()
    monkeypatch.chdir(root / "notebooks")
    assert environment.project_root() == root
    assert environment.resolve_path("data/x") == root / "data" / "x"
    assert environment.resolve_path(tmp_path) == tmp_path
    monkeypatch.setenv("DFLIB_ROOT", str(tmp_path))
    assert environment.resolve_path("a") == tmp_path / "a"


def test_cache_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("DFLIB_CACHE", str(tmp_path / "c"))
    assert environment.cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()


def test_platform_and_workers():
    assert environment.platform_name() in {"kaggle", "colab", "local"}
    assert environment.num_workers() >= 1 and environment.num_workers(0) == 0


def test_device_auto_and_precision():
    device = runtime.resolve_device("auto")
    assert device.type in {"cpu", "cuda", "mps"}
    native = torch.bfloat16 if runtime.cpu_bf16() else None  # tests/test_cpu_precision.py
    assert runtime.autocast_dtype(torch.device("cpu")) == native
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            runtime.resolve_device("cuda")


def test_seed_everything_repeats():
    runtime.seed_everything(42)
    a = torch.rand(3)
    runtime.seed_everything(42)
    assert torch.equal(a, torch.rand(3))
    assert Path(__file__).exists()


def test_cpu_name_is_a_label():
    name = environment.cpu_name()
    assert isinstance(name, str) and name.strip() and "\n" not in name


def test_fp16_is_a_choice_on_any_device_with_its_grad_scaler():
    """The T4's path (fp16 autocast + GradScaler) runs on a CPU when asked for."""
    from dflib.train.machine import Device

    cpu = torch.device("cpu")
    assert runtime.amp_dtype("auto", cpu) == runtime.autocast_dtype(cpu)
    assert runtime.amp_dtype("off", cpu) is None
    assert runtime.amp_dtype("bf16", cpu) == torch.bfloat16
    dev = Device.for_run(cpu, "fp16")
    assert dev.amp_dtype == torch.float16 and dev.scaler is not None
    assert dev.describe() == "float16 autocast + GradScaler"
    assert Device.for_run(cpu, "bf16").scaler is None
    with pytest.raises(ValueError, match="expected one of"):
        runtime.amp_dtype("fp32", cpu)


def test_deterministic_warns_when_cuda_already_ran_without_the_cublas_setting(monkeypatch):
    """cuBLAS reads CUBLAS_WORKSPACE_CONFIG when it starts: set later, it is ignored."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    try:
        with pytest.warns(UserWarning, match="already used CUDA.*CUBLAS_WORKSPACE_CONFIG"):
            runtime.seed_everything(0, deterministic=True)
        monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # set in time: no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            runtime.seed_everything(0, deterministic=True)
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize(
    ("platform", "runs", "said"),
    [
        ("colab", "/content/runs", "Colab wipes this VM's disk"),
        ("kaggle", "/kaggle/working/runs", "saved with the notebook's output"),
    ],
)
def test_where_runs_go_is_chosen_per_platform_and_said(monkeypatch, tmp_path, platform, runs, said):
    """Runs land in a folder chosen for the platform, not in the working folder, and the
    setup cell's line says where and, on Colab, how to keep them."""
    for name in ("DFLIB_RUNS", "DFLIB_STUDIES", "DFLIB_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(environment, "platform_name", lambda: platform)
    assert environment.output_dir() == Path(runs)
    assert environment.studies_dir() == Path(runs).parent / "studies"
    line = environment.where_outputs_go()
    assert f"runs go to {runs}" in line and said in line
    monkeypatch.setenv("DFLIB_RUNS", "/content/drive/MyDrive/dflib/runs")
    assert "wipes" not in environment.where_outputs_go()
    assert environment.studies_dir() == Path("/content/drive/MyDrive/dflib/studies")


def test_an_install_that_replaced_an_imported_package_asks_for_a_restart(tmp_path):
    import json

    report = tmp_path / "report.json"
    installed = [{"metadata": {"name": "dflib", "version": "0.1.0"}},
                 {"metadata": {"name": "Kornia", "version": "0.9.2"}},
                 {"metadata": {"name": "numpy", "version": "9.0"}}]  # fmt: skip
    report.write_text(json.dumps({"install": installed}))
    assert environment.check_install(report, {"sys", "os"}) == [
        "Kornia==0.9.2", "dflib==0.1.0", "numpy==9.0"
    ]  # fmt: skip
    with pytest.raises(environment.RestartNeeded, match=r"numpy \(now 9.0\).*Restart"):
        environment.check_install(report, {"sys", "numpy"})


def test_every_comma_list_is_read_by_one_function():
    """``split_names`` reads what a user types as a list; no other module splits on commas."""
    import re

    assert environment.split_names(" freqnet, rgb_fft ,,") == ["freqnet", "rgb_fft"]
    assert (
        environment.split_names(["a", " ", 3]) == ["a", "3"] and environment.split_names("") == []
    )
    root = Path(__file__).resolve().parent.parent
    sources = [*root.glob("dflib/**/*.py"), *root.glob("notebooks/[0-9]*.py"),
               *root.glob("bench/*.py"), *root.glob("scripts/*.py")]  # fmt: skip
    readers = [
        str(p.relative_to(root))
        for p in sources
        if re.search(r"\.split\(\s*[\"'],[\"']\s*\)", p.read_text())
    ]
    assert readers == ["dflib/environment.py"], readers
