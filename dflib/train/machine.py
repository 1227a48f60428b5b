"""What a run will use on this machine, said before it starts (``python -m dflib env``).

Each line comes from the function training itself calls, so the report and ``fit`` cannot
disagree: the device (:func:`dflib.runtime.resolve_device`), the precision
(:meth:`dflib.train.loop.Device.for_run`), compile
(:func:`~dflib.train.loop.compile_mode`, :func:`~dflib.train.loop.compile_unsupported`),
AdamW's update (:func:`~dflib.train.optim.fused_on`), the memory format
(:func:`~dflib.train.loop.uses_channels_last`), the CPU's threads
(:func:`~dflib.train.loop.cpu_threads`) and bf16 instructions
(:func:`dflib.runtime.cpu_bf16`), the loader workers
(:func:`~dflib.train.loop.loader_workers`), the cache and run folders
(:mod:`dflib.environment`, :func:`~dflib.train.runs.run_folder`). Then a warning for each
known trap: a GPU the installed torch was not built for, compile asked where it cannot
run, a run or cache folder that cannot be written.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

import dflib
from dflib.environment import (
    cache_dir,
    cpu_name,
    existing_parent,
    num_workers,
    output_dir,
    platform_name,
    writable,
)
from dflib.runtime import amp_note, build_mismatch, built_for, cpu_bf16, cuda_arch, resolve_device
from dflib.train.config import TrainConfig, get_recipe
from dflib.train.loop import (
    Device,
    compile_mode,
    compile_unsupported,
    cpu_threads,
    loader_workers,
    uses_channels_last,
)
from dflib.train.optim import FUSED_DEVICES, fused_on
from dflib.train.runs import run_folder


@dataclass
class MachineReport:
    """The report's lines (``(name, value)``, in order) and its warnings."""

    facts: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> str:
        """The value of the line ``name`` (``report["precision"]``)."""
        for key, value in self.facts:
            if key == name:
                return value
        raise KeyError(name)

    def format(self) -> str:
        """One screen: a line per fact, then the warnings (or that there are none)."""
        width = max(len(key) for key, _ in self.facts)
        lines = [f"{key:<{width}}  {value}" for key, value in self.facts]
        if self.warnings:
            count = len(self.warnings)
            lines += ["", f"{count} warning{'s' if count > 1 else ''}:"]
            lines += [f"  ! {text}" for text in self.warnings]
        else:
            lines += ["", "no known trap found"]
        return "\n".join(lines)


def machine_report(config: TrainConfig | None = None, out: str | None = None) -> MachineReport:
    """What ``fit(config, out=out)`` would use here, and the traps it would meet.

    Args:
        config: the run's settings (default: the default recipe, as ``dflib train``).
        out: the run folder it would write (default: a fresh one under the runs folder).
    """
    config = config or get_recipe("xception_resnet50")
    report = MachineReport()
    fact = report.facts.append
    fact(("dflib", f"{dflib.__version__} ({Path(dflib.__file__).resolve().parent})"))
    fact(("python", f"{platform.python_version()} ({sys.executable})"))
    cuda = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    fact(("torch", f"{torch.__version__}, {cuda}; torchvision {_version('torchvision')}"))
    arch_list = torch.cuda.get_arch_list()
    fact(("torch built for", " ".join(arch_list) or "no GPU architecture"))
    fact(("platform", platform_name()))
    fact(("recipe", f"{config.arch}: {config.img_size} px, batch {config.batch_size}, "
          f"{config.total_epochs} epochs (--arch and train's flags to choose)"))  # fmt: skip

    try:
        device = resolve_device(config.device)
    except RuntimeError as error:
        report.warnings.append(f"{error} The report below is for device=auto.")
        device = resolve_device("auto")
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    used = str(device)
    if gpus > 1 and device.type == "cuda":
        used += (f" (one process uses GPU {device.index or 0}; torchrun --nproc_per_node "
                 f"{gpus} -m dflib train ... uses all {gpus})")  # fmt: skip
    fact(("device", used))
    for index in range(gpus):
        capability = tuple(torch.cuda.get_device_capability(index))
        arch = cuda_arch(capability)
        name = torch.cuda.get_device_name(index)
        supported = built_for(capability, arch_list)
        fact((f"GPU {index}", f"{name}, compute capability {capability[0]}.{capability[1]} "
              f"({arch}: {'in' if supported else 'NOT in'} torch's build)"))  # fmt: skip
        if not supported:
            report.warnings.append(build_mismatch(torch.device("cuda", index)))
    if device.type != "cuda":
        fact(("CPU", f"{cpu_name()}: {num_workers()} cores for this process, training uses "
              f"{cpu_threads()} threads; bf16 instructions: {cpu_bf16() or 'none'}"))  # fmt: skip

    precision = Device.for_run(device, config.amp).describe()
    fact(("precision", f"{precision} (amp={config.amp}{_cpu_reason(config.amp, device)})"))
    if note := amp_note(config.amp, device):
        report.warnings.append(note)
    fact(("compile", _compile_line(config, device)))
    refused = compile_unsupported(device)
    if config.compile and refused:
        report.warnings.append(refused)
    if fused_on(device):
        fact(("AdamW", "fused update (one kernel for every parameter)"))
    else:
        fact(("AdamW", f"default update (the fused one runs on {', '.join(FUSED_DEVICES)} only)"))
    layout = "channels_last" if uses_channels_last(config, device) else "NCHW"
    reason = _cpu_reason(config.channels_last, device)
    fact(("memory format", f"{layout} (channels_last={config.channels_last}{reason})"))
    workers = loader_workers(config, device)
    fact(("loader workers", f"{workers} (batch-reading processes; --workers N to change)"))
    fact(("cache workers", f"{num_workers()} (decoding and caching images, one per core)"))

    cache = cache_dir(create=False)
    fact(("cache folder", f"{cache} (DFLIB_CACHE to move it)"))
    if out:
        run = run_folder(out, config.arch).root
        fact(("run folder", str(run)))
    else:
        run = output_dir()
        fact(("run folders", f"{run}/<arch>-<time> (DFLIB_RUNS or --out to move them)"))
    if not writable(run):
        report.warnings.append(
            f"the run folder {run} cannot be written here ({existing_parent(run)} is read-only; "
            "attached data such as Kaggle's /kaggle/input always is): give --out (out=...) a "
            "writable folder, e.g. /kaggle/working/runs/<name> on Kaggle."
        )
    if not writable(cache):
        report.warnings.append(
            f"the cache folder {cache} cannot be written here ({existing_parent(cache)} is "
            "read-only): set DFLIB_CACHE to a writable folder."
        )
    return report


def _cpu_reason(setting: str, device: torch.device) -> str:
    """Why ``"auto"`` chose as it did on a CPU (precision and memory format follow the same
    fact, :func:`dflib.runtime.cpu_bf16`); "" for a setting given or another device."""
    if setting != "auto" or device.type != "cpu":
        return ""
    native = cpu_bf16()
    if native:
        return f": {native} present, faster in reports/benchmarks.md's CPU table"
    return ": no native bf16 (AMX, AVX512-BF16); emulated bf16 is slower than float32"


def _compile_line(config: TrainConfig, device: torch.device) -> str:
    """Whether the step is compiled, or would be with ``--compile``, or why it cannot be."""
    refused = compile_unsupported(device)
    if refused and config.compile:
        return "asked, but not available here: the step runs eager (see the warning)"
    if refused:
        return f"not available here: {refused}"
    mode = compile_mode(config.replace(compile=True), device, distributed=False)
    if config.compile:
        return f"on: torch.compile ({mode}) of the training step"
    return f"available, off (compile=False); --compile runs torch.compile ({mode})"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
