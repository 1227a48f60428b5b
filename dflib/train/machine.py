"""How a training step runs on this machine, and what a run will use here.

The rules every run, prediction and benchmark follows: the precision (:class:`Device`,
from :func:`dflib.runtime.amp_dtype`), compile (:func:`compile_mode`,
:func:`compile_unsupported`, :class:`OneShapeStep`), the memory format
(:func:`uses_channels_last`), the CPU's threads (:func:`cpu_threads`), the loader workers
(:func:`loader_workers`) and the device memory a step takes (:func:`step_memory`, which
sizes a cache held on the GPU).

Then the same rules said before a run starts (``python -m dflib env``,
:func:`machine_report`): each line comes from the function training itself calls, so the
report and ``fit`` cannot disagree: the device (:func:`dflib.runtime.resolve_device`), the
precision, compile, AdamW's update (:func:`~dflib.train.optim.fused_on`), the memory
format, the CPU's threads and bf16 instructions (:func:`dflib.runtime.cpu_bf16`), the
loader workers, the cache and run folders (:mod:`dflib.environment`,
:func:`~dflib.train.runs.run_folder`). Then a warning for each known trap: a GPU the
installed torch was not built for, compile asked where it cannot run, a run or cache folder
that cannot be written.
"""

from __future__ import annotations

import contextlib
import copy
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import dflib
from dflib.environment import (
    available_cores,
    cache_dir,
    cpu_name,
    existing_parent,
    num_workers,
    output_dir,
    platform_name,
    writable,
)
from dflib.runtime import (
    amp_dtype,
    amp_note,
    build_mismatch,
    built_for,
    cpu_bf16,
    cuda_arch,
    resolve_device,
)
from dflib.train import distributed as ddp
from dflib.train.config import TrainConfig, get_recipe
from dflib.train.inputs import eval_batch_size
from dflib.train.optim import FUSED_DEVICES, fused, fused_on, make_optimizer
from dflib.train.runs import run_folder

# --- how a step runs here ---

# the oldest GPU inductor compiles for (Volta); a P100 is 6.0
MIN_COMPILE_CAPABILITY = (7, 0)
# devices where channels_last="auto" is NHWC (tensor cores want it). A CPU is NHWC under
# "auto" where it runs bf16 natively (the benchmark's CPU table measured it faster there),
# NCHW elsewhere, as before. Tests add "cpu" to take the GPU's layout on any CPU.
CHANNELS_LAST_DEVICES = ("cuda",)


@dataclass
class Device:
    """Where and how the model runs: the device, the autocast dtype, the grad scaler."""

    device: torch.device
    amp_dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None

    @classmethod
    def for_run(cls, device: torch.device, amp: str) -> Device:
        """The setup a run's ``amp`` setting asks for (:func:`dflib.runtime.amp_dtype`):
        fp16 steps get a GradScaler on the same device type (gradients of small fp16
        losses would underflow to zero without it)."""
        dtype = amp_dtype(amp, device)
        return cls(
            device, dtype, torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
        )

    def describe(self) -> str:
        """The precision of each step, for the run's ``step:`` line."""
        if self.amp_dtype is None:
            return "float32"
        scaler = " + GradScaler" if self.scaler is not None else ""
        return f"{str(self.amp_dtype).replace('torch.', '')} autocast{scaler}"

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)


def compile_mode(config: TrainConfig, device: torch.device, distributed: bool) -> str | None:
    """``torch.compile``'s mode for the step model (``None``: eager).

    On one CUDA device ``reduce-overhead``: the fixed-shape forward and backward are
    replayed as CUDA graphs, since at the recipes' batch sizes (16-32) the launches, not
    the arithmetic, bound a step. Under DDP and on a CPU the default mode.
    """
    if not config.compile or compile_unsupported(device):
        return None
    return "reduce-overhead" if device.type == "cuda" and not distributed else "default"


def compile_unsupported(device: torch.device) -> str:
    """Why ``torch.compile`` cannot run on ``device`` ("" when it can): inductor's Triton
    kernels need a GPU of compute capability 7.0 or newer, and on an older one (Kaggle's
    P100, 6.0) the first forward crashes."""
    if device.type != "cuda":
        return ""
    capability = torch.cuda.get_device_capability(device)
    if capability >= MIN_COMPILE_CAPABILITY:
        return ""
    return (
        f"compile=True needs a GPU of compute capability >= "
        f"{'.'.join(map(str, MIN_COMPILE_CAPABILITY))} (inductor's Triton kernels); "
        f"{torch.cuda.get_device_name(device)} has {'.'.join(map(str, capability))}, so the "
        "step runs eager. Pass compile=False (--no-compile) to leave it off."
    )


def describe_step(mode: str | None, model: nn.Module, dev: Device, channels_last: bool) -> str:
    """How each training step runs, for the run's log and ``params.json``: compiled or
    eager, its precision, its memory format and AdamW's update."""
    compiled = "eager" if mode is None else f"torch.compile ({mode})"
    layout = "channels_last" if channels_last else "NCHW"
    update = "fused" if fused(list(model.parameters())) else "default"
    return f"{compiled}, {dev.describe()}, {layout}, AdamW {update} update"


def wrap_step(model: nn.Module, mode: str | None, world: ddp.World, device, batch_size: int):
    """DistributedDataParallel across processes, then ``torch.compile`` if asked, for whole
    batches only (:class:`OneShapeStep`).

    Dynamo is reset first: its compiled code and recompile counts are per function, and
    every model shares ``ClassifierBase.forward``, so the runs before this one in the
    process (a notebook training one architecture after another) would count towards
    this one's recompile limit, past which dynamo silently runs eager.
    """
    step_model = model
    if world.active:
        ids = [device.index] if device.type == "cuda" else None
        step_model = DistributedDataParallel(model, device_ids=ids)
    if mode is None:
        return step_model
    torch._dynamo.reset()
    return OneShapeStep(torch.compile(step_model, mode=mode), step_model, batch_size)


class OneShapeStep(nn.Module):
    """The compiled step for whole batches, the eager one for an epoch's smaller last batch.

    Each new input shape makes a compiled module compile a new graph (and under CUDA
    graphs, record a new one): the ragged last batch would add one per run. Only
    ``batch_size`` images ever reach ``compiled``, so the training step is one graph.
    """

    def __init__(self, compiled: nn.Module, eager: nn.Module, batch_size: int) -> None:
        super().__init__()
        self.compiled, self.eager, self.batch_size = compiled, eager, batch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.compiled if len(x) == self.batch_size else self.eager)(x)


def compiled_graphs() -> int:
    """Graphs dynamo has compiled in this process so far."""
    return int(torch._dynamo.utils.counters["stats"]["unique_graphs"])


def step_memory(model: nn.Module, pipeline, loss_fn, dev: Device, config: TrainConfig) -> int:
    """Device bytes one training step and one evaluation batch take beyond what is
    allocated now: a dry step on a copy of the model (forward, backward, AdamW's update
    with its state, then an evaluation batch of :func:`eval_batch_size`), so the resident
    cache is sized after the optimiser state, gradients and activations that do not
    exist yet. The model, its optimiser and every random generator are left as they were.
    """
    device = dev.device
    size, side = config.batch_size, config.img_size
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        dry = copy.deepcopy(model).train()
        optimizer, _ = make_optimizer(dry, config, finetune=False)
        images = torch.zeros((size, side, side, 3), dtype=torch.uint8, device=device)
        labels = torch.zeros(size, dtype=torch.int64, device=device)
        x = pipeline(images, train=True)
        with dev.autocast():
            loss = loss_fn(dry(x), labels)
        loss.backward()
        optimizer.step()
        del x, loss, images, labels
        dry.eval()
        n = eval_batch_size(size, device)
        with torch.no_grad():
            x = pipeline(torch.zeros((n, side, side, 3), dtype=torch.uint8, device=device))
            with dev.autocast():
                dry(x)
        del x, dry, optimizer
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - before
    torch.cuda.empty_cache()
    return max(int(peak), 0)


def uses_channels_last(config: TrainConfig, device: torch.device) -> bool:
    """Whether the model and its batches are NHWC: ``channels_last="on"``, or ``"auto"``
    on one of :data:`CHANNELS_LAST_DEVICES` or on a CPU that runs bf16 natively
    (:func:`dflib.runtime.cpu_bf16`)."""
    if config.channels_last != "auto":
        return config.channels_last == "on"
    kind = torch.device(device).type
    return kind in CHANNELS_LAST_DEVICES or (kind == "cpu" and bool(cpu_bf16()))


def cpu_threads() -> int:
    """Intra-op threads of a CPU run: torch's count, capped by the cores this process may
    use (:func:`dflib.environment.available_cores`: the affinity mask and the cgroup
    quota, where torch counts the host's cores)."""
    return min(torch.get_num_threads(), available_cores())


def loader_workers(config: TrainConfig, device: torch.device) -> int:
    """Batch-reading processes: the recipe's, else 0 on a CPU and 2 on a GPU."""
    if config.workers >= 0:
        return config.workers
    # reading a memmap is cheap: on a CPU the cores are better spent on the model
    return 0 if device.type == "cpu" else 2


# --- what a run will use here, said before it starts (python -m dflib env) ---


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
