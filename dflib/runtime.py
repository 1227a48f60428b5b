"""Seeding, device choice and mixed precision: one place, so every notebook agrees.

Never hard-code ``"cuda"``: ask for ``"auto"`` and get the best device present. Mixed
precision follows what the device runs natively: bf16 on Ampere and newer GPUs and on
CPUs with bf16 instructions (AMX, AVX512-BF16), fp16 on older GPUs, float32 elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import random
import warnings
from collections.abc import Iterator

import numpy as np
import torch

DEFAULT_SEED = 42
# mixed precision: from the device ("auto"), a named dtype, or none
AMP_MODES = ("auto", "bf16", "fp16", "off")
# the first GPUs with bfloat16 tensor cores (Ampere); a T4 is 7.5, a P100 6.0
BF16_CAPABILITY = (8, 0)
# the CPU flags (as /proc/cpuinfo spells them) of instructions that run bf16 matrix and
# convolution kernels natively in oneDNN, best first, with the name a report gives them.
# Without one, bf16 is emulated through float32 and is slower than float32 itself.
NATIVE_BF16_FLAGS = (("amx_bf16", "AMX"), ("avx512_bf16", "AVX512-BF16"))


def seed_everything(seed: int = DEFAULT_SEED, deterministic: bool = False) -> int:
    """Seed Python, NumPy and torch (all devices).

    Args:
        seed: the seed (the write-ups use 42).
        deterministic: also ask cuDNN and torch for deterministic kernels; slower, and
            some ops then raise. An explicit flag because it costs speed.
    """
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- seeds legacy global-state users too
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        if "CUBLAS_WORKSPACE_CONFIG" not in os.environ and torch.cuda.is_initialized():
            warnings.warn(
                "deterministic=True, but this process has already used CUDA: cuBLAS read "
                "CUBLAS_WORKSPACE_CONFIG (unset) when it started and ignores it now, so matrix "
                "products may stay nondeterministic. Set it before the first CUDA call: "
                "os.environ['CUBLAS_WORKSPACE_CONFIG'] = ':4096:8' in the notebook's first "
                "cell (or export it before Python starts), or restart the kernel and train "
                "with deterministic=True before anything else uses the GPU.",
                stacklevel=2,
            )
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` gives CUDA, then Apple MPS, then CPU; anything else is taken as given."""
    if isinstance(device, torch.device):
        return device
    if device != "auto":
        resolved = torch.device(device)
        if resolved.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"device={device!r} was requested but no CUDA GPU is visible; "
                "use device='auto' or 'cpu'."
            )
        return resolved
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (``/proc/cpuinfo``'s ``flags``; empty where there is none,
    as on macOS and Windows)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_bf16() -> str:
    """The instructions this CPU runs bf16 kernels with (``"AMX"``, ``"AVX512-BF16"``), or
    ``""`` when it has none (bf16 would be emulated, slower than float32): what
    ``amp="auto"`` and the memory format follow on a CPU."""
    if not torch.backends.mkldnn.is_available():  # no oneDNN: no bf16 kernels at all
        return ""
    flags = cpu_flags()
    return next((name for flag, name in NATIVE_BF16_FLAGS if flag in flags), "")


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed-precision dtype for a device: bf16 on Ampere+ (sm >= 8.0), fp16 on older GPUs
    such as the T4 (use a GradScaler then); on a CPU bf16 where it runs natively
    (:func:`cpu_bf16`), else ``None`` (full precision), as on MPS."""
    if device.type == "cpu":
        return torch.bfloat16 if cpu_bf16() else None
    if device.type != "cuda":
        return None
    major, _ = torch.cuda.get_device_capability(device)
    return torch.bfloat16 if major >= 8 else torch.float16


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype a run's ``amp`` setting asks for on ``device``.

    ``"auto"``: :func:`autocast_dtype`; ``"bf16"`` / ``"fp16"``: that dtype on any device
    (fp16 on a CPU runs a T4's path: fp16 autocast and a GradScaler), except bf16 on a GPU
    below compute capability :data:`BF16_CAPABILITY` (a T4, a P100: no bfloat16 tensor
    cores, an error or a crawl), which gets fp16 as ``"auto"`` would (:func:`amp_note` says
    so); ``"off"``: ``None``. A run's ``amp`` thus follows the device it runs on: a run
    trained with ``"bf16"`` on an A100 predicts in fp16 on a T4.

    Raises:
        ValueError: another value.
    """
    if amp not in AMP_MODES:
        raise ValueError(f"amp={amp!r}: expected one of {AMP_MODES}")
    if amp == "auto":
        return autocast_dtype(device)
    if amp == "bf16" and device.type == "cuda":
        if tuple(torch.cuda.get_device_capability(device)) < BF16_CAPABILITY:
            return torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)


def amp_note(amp: str, device: torch.device) -> str:
    """The one line a run (or a prediction) prints when :func:`amp_dtype` does not give
    the precision ``amp`` names on ``device`` ("" when it does)."""
    if amp != "bf16" or amp_dtype(amp, device) == torch.bfloat16:
        return ""
    major, minor = torch.cuda.get_device_capability(device)
    need = ".".join(map(str, BF16_CAPABILITY))
    return (
        f"amp=bf16: {torch.cuda.get_device_name(device)} has compute capability {major}.{minor} "
        f"and bfloat16 needs {need} or newer, so float16 autocast runs instead (with a "
        "GradScaler when training), as amp=auto picks here."
    )


def cuda_arch(capability: tuple[int, int]) -> str:
    """A compute capability as CUDA names its architecture: ``(7, 5)`` -> ``"sm_75"``."""
    return f"sm_{capability[0]}{capability[1]}"


def built_for(capability: tuple[int, int], arch_list: list[str] | None = None) -> bool:
    """Whether the installed torch has kernels for a GPU of ``capability``.

    ``arch_list`` is what torch was compiled for (``torch.cuda.get_arch_list()`` when
    ``None``). A cubin ``sm_XY`` runs on compute capability X.Y and on later minor versions
    of the same major (sm_80 on an 8.6); PTX (``compute_XY``) is compiled when loaded for
    X.Y and every later one. A GPU outside both fails its first kernel with "no kernel image
    is available for execution on the device" (Kaggle's P100, 6.0, under a torch built
    from sm_70 or sm_75 up).
    """
    arch_list = torch.cuda.get_arch_list() if arch_list is None else arch_list
    major, minor = capability
    for arch in arch_list:
        kind, _, number = arch.partition("_")
        digits = number.rstrip("abcdefghijklmnopqrstuvwxyz")
        if not digits.isdigit() or len(digits) < 2:
            continue
        arch_major, arch_minor = int(digits[:-1]), int(digits[-1])
        exact = digits != number  # sm_90a: that capability only
        if (
            kind == "sm"
            and arch_major == major
            and (arch_minor == minor or (not exact and arch_minor <= minor))
        ):
            return True
        if kind == "compute" and not exact and (arch_major, arch_minor) <= (major, minor):
            return True
    return False


def build_mismatch(device: torch.device) -> str:
    """Why the installed torch cannot run on ``device`` ("" when it can): a GPU whose
    compute capability is outside ``torch.cuda.get_arch_list()`` (:func:`built_for`).

    Training and prediction refuse such a GPU up front (:func:`require_built_for`);
    ``python -m dflib env`` shows the same text as a warning.
    """
    if device.type != "cuda":
        return ""
    index = device.index if device.index is not None else 0
    capability = tuple(torch.cuda.get_device_capability(index))
    arch_list = torch.cuda.get_arch_list()
    if built_for(capability, arch_list):
        return ""
    arch = cuda_arch(capability)
    return (
        f"GPU {index} ({torch.cuda.get_device_name(index)}, compute capability "
        f"{capability[0]}.{capability[1]}, {arch}) is not among the architectures torch "
        f"{torch.__version__} was built for ({' '.join(arch_list) or 'none'}): its first CUDA "
        "kernel would fail with 'no kernel image is available for execution on the device'. "
        "Choose another accelerator (on Kaggle: GPU T4 x2), run on the CPU (device='cpu', "
        f"--device cpu), or install a torch built for {arch}."
    )


def require_built_for(device: torch.device) -> None:
    """Stop before any data or model work on a GPU the installed torch cannot run.

    Raises:
        RuntimeError: :func:`build_mismatch`'s message.
    """
    problem = build_mismatch(device)
    if problem:
        raise RuntimeError(problem)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block (a no-op when it already does).

    Small tensor ops end in a thread barrier, so on a machine whose cores are shared with
    other work (CI, a notebook beside a data loader) several threads can be tens of times
    slower than one. Switching the count costs tens of milliseconds, so loops enter this
    once around the loop rather than once per item.
    """
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
