"""The benchmark script: it runs end to end at a tiny size, and its report marks each
target from the numbers (no timing is asserted: speed lives in reports/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dflib import runtime

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def bench_modules():
    sys.path.insert(0, str(BENCH))
    try:
        import run

        import report

        yield run, report
    finally:
        sys.path.remove(str(BENCH))


def _results(device_type: str, **sections) -> dict:
    name = "CPU (test)" if device_type == "cpu" else "GPU (test)"
    env = {"device": name, "device_type": device_type, "torch": "x", "cores": 2,
           "torch_threads": 2, "date": "today", "benchmark": "tiny"}  # fmt: skip
    return {"environment": env, "sections": sections, "command": "python bench/run.py"}


def _seed_rows(seed_ips: float, cache_ips: float) -> list[dict]:
    return [
        {"pipeline": "seed-style (PIL)", "measured": "data alone", "img/s": seed_ips},
        {"pipeline": "dflib cache", "measured": "data alone", "img/s": cache_ips},
        {"pipeline": "seed-style (PIL)", "measured": "end-to-end", "img/s": 1.0},
        {"pipeline": "dflib cache", "measured": "end-to-end", "img/s": 2.0},
    ]


def _cost(anon: list[float]) -> list[dict]:
    return [{"arch": "xception_resnet50", "px": 196, "images": n, "epoch s": 20.0 + i,
             "peak anonymous MiB": a} for i, (n, a) in enumerate(zip([1000, 50000], anon, strict=True))]  # fmt: skip


def test_targets_are_marked_from_the_numbers(bench_modules):
    _, report = bench_modules
    met = report.targets([_results("cpu", seed=_seed_rows(100, 600), cost=_cost([700, 720]))])
    assert "| met |" in met[2] and "6.0x" in met[2]
    assert "open" in met[3] and "open" in met[4]  # no GPU measured
    assert met[5].endswith("| met |")
    slow = report.targets([_results("cpu", seed=_seed_rows(100, 300), cost=_cost([700, 1400]))])
    assert slow[2].endswith("| not met |") and slow[5].endswith("| not met |")
    gpu = _results("cuda", arch=[{"arch": "a", "model img/s": 100.0, "end-to-end img/s": 95.0},
                                 {"arch": "b", "model img/s": 100.0, "end-to-end img/s": 80.0}],
                   cost=_cost([900, 900]))  # fmt: skip
    lines = report.targets([gpu])
    assert "b 0.80" in lines[3] and lines[3].endswith("| not met |")
    assert "21.0 s" in lines[4] and lines[4].endswith("| met |")  # 50,000 images in 21 s


def test_merge_replaces_only_the_measured_architectures(bench_modules):
    run, _ = bench_modules
    old = _results("cpu", arch=[{"arch": "a", "v": 1}, {"arch": "b", "v": 1}], cost=_cost([1, 1]))
    new = {"environment": old["environment"], "sections": {"arch": [{"arch": "b", "v": 2}]}}
    merged = run.merged(old, new, "python bench/run.py --merge")
    assert merged["sections"]["arch"] == [{"arch": "a", "v": 1}, {"arch": "b", "v": 2}]
    assert merged["sections"]["cost"] == old["sections"]["cost"]
    assert merged["command"].endswith("; python bench/run.py --merge")


def test_bench_runs_every_cpu_table_at_a_tiny_size(
    bench_modules, tmp_path, monkeypatch, eager_backend
):
    run, _ = bench_modules
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset())  # float32 and NCHW here
    args = ["--quick", "--size", "tiny", "--archs", "freqnet", "--batch-size", "4",
            "--seconds", "0.05", "--images", "24", "--predict-images", "8",
            "--cost-sizes", "24,48", "--augment-archs", "deepfakenet,hrnet_artifact,freqnet",
            "--augment-px", "32", "--epochs-archs", "freqnet", "--epochs-images", "24",
            "--sections", "arch,precision,cpu,seed,predict,cost,augment,epochs,syncs", "--dry",
            "--cpu-px", "64", "--cpu-batch", "2", "--cpu-rounds", "1", "--cpu-steps", "1",
            "--results", str(tmp_path), "--out", str(tmp_path / "b.md")]  # fmt: skip
    assert run.main(args) == 0
    saved = json.loads((tmp_path / "quick" / "cpu.json").read_text())
    # --dry: the GPU-only precision table runs on the CPU too
    assert set(saved["sections"]) == {"arch", "seed", "predict", "cost", "augment", "epochs",
                                      "precision", "cpu", "syncs"}  # fmt: skip
    cpu = saved["sections"]["cpu"]  # the CPU table: both steps, the four cells each
    assert [(r["arch"], r["measured"], r["bf16 kernels"]) for r in cpu] == [
        ("freqnet", "train step", "none"), ("freqnet", "inference", "none")]  # fmt: skip
    cells = [f"{p} {m} img/s" for p in ("fp32", "bf16") for m in ("contiguous", "channels_last")]
    assert all(r[cell] > 0 for r in cpu for cell in cells)
    assert saved["sections"]["syncs"] == [
        {"arch": "freqnet", "steps": 0, "site": "none: not a CUDA device", "syncs": 0}
    ]
    epochs = saved["sections"]["epochs"]  # eager, then torch.compile (default mode on a CPU)
    assert [r["step"] for r in epochs] == [
        "eager, float32, NCHW, AdamW default update",
        "torch.compile (default), float32, NCHW, AdamW default update",
    ]
    assert all(r["steady epoch s"] > 0 and r["first / steady"] > 0 for r in epochs)
    augment = saved["sections"]["augment"]  # freqnet: its one op, hflip
    sets = {(r["recipe"], r["op"], r["pipeline"]) for r in augment}
    assert ("deepfakenet", "gaussian_blur", "batched") in sets
    assert ("hrnet_artifact", "sharpness", "kornia") in sets
    assert ("freqnet", "all", "batched") in sets
    assert all(r["px"] == 32 and r["batch"] == 4 and r["img/s"] > 0 for r in augment)
    arch = saved["sections"]["arch"][0]
    assert arch["arch"] == "freqnet" and arch["model img/s"] > 0 and arch["data img/s"] > 0
    assert [r["images"] for r in saved["sections"]["cost"]] == [24, 48]
    text = (tmp_path / "b.md").read_text()
    assert "## Targets" in text and "cache pipeline >= 5x" in text
    assert "Training augmentation alone" in text and "| augmentation >= 20,000" in text


def test_the_gpu_call_gives_each_stage_a_budget_within_nine_minutes():
    """The compiled epochs (cold compiles) once ran before the precision table and left it
    no time: each stage now has its own budget, the compiles last, 540 s in all."""
    script = BENCH / "gpu.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    line = next(x for x in script.read_text().splitlines() if x.startswith("BUDGETS=("))
    stages = [s.split(":") for s in line.removeprefix("BUDGETS=(").removesuffix(")").split()]
    names, seconds = [n for n, _ in stages], [int(b) for _, b in stages]
    assert sum(seconds) <= 540, stages
    assert names[0] == "tests" and names[-2:] == ["epochs", "goals"], names
    assert {"augment", "arch", "precision", "syncs"} <= set(names)


def test_goals_gather_the_gpu_speed_figures_in_one_table(bench_modules):
    _, report = bench_modules
    arch = [{"arch": "xception_resnet50", "px": 196, "batch": 32, "end-to-end img/s": 900.0,
             "model img/s": 1000.0}]  # fmt: skip
    augment = [{"op": "all", "augment": "resized_crop+hflip", "pipeline": "batched", "px": 256,
                "img/s": 25000.0}]  # fmt: skip
    epochs = [{"arch": "xception_resnet50", "step": "eager", "first / steady": 1.2,
               "first epoch s": 12.0, "steady epoch s": 10.0}]  # fmt: skip
    table = report.goals([_results("cuda", arch=arch, augment=augment, epochs=epochs)])
    assert (
        "| GPU (test) | xception_resnet50 end to end at 196 px / batch 32 | 900 img/s, 0.90"
        in table
    )
    assert "at 256 px | 25,000 img/s |" in table and "| 1.20 (12.0 s / 10.0 s) |" in table
    assert "nothing measured" in report.goals([])


def test_the_cpu_defaults_target_asks_1_5x_with_native_bf16_and_no_loss_without(bench_modules):
    _, report = bench_modules

    def line(step: str, ratio: float) -> str:
        rows = [{"arch": "freqnet", "settings": "defaults", "step": step, "vs the old path": ratio,
                 "last epoch img/s": 150.0}]  # fmt: skip
        return report.targets([_results("cpu", defaults=rows)])[-1]

    bf16 = "eager, bfloat16 autocast, channels_last, AdamW default update"
    assert line(bf16, 1.6).endswith("| met |") and "1.5x" in line(bf16, 1.6)
    assert line(bf16, 1.4).endswith("| not met |")
    fp32 = "eager, float32, NCHW, AdamW default update"
    assert line(fp32, 0.98).endswith("| met |") and "not slower" in line(fp32, 0.98)
    assert line(fp32, 0.8).endswith("| not met |")
