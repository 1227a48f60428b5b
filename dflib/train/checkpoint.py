"""Checkpoints that survive a crash and never run code when loaded.

``last.pt`` holds everything needed to continue a run exactly (model, optimiser,
scheduler, grad scaler, epoch, RNG states, history); ``best.pt`` holds the weights
alone. Both are written to a temporary file and renamed over the old one, so a kill in
the middle of a save leaves the previous checkpoint intact. Both contain only tensors,
numbers, strings, lists and dicts, and are read with ``torch.load(weights_only=True)``:
a file carrying a pickled object is refused, and its code never runs.
"""

from __future__ import annotations

import errno
import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: unsafe, corrupt, or from another run."""


class DiskFullError(OSError):
    """A checkpoint did not fit on its disk; the previous one is kept."""


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` atomically (temporary file, fsync, rename).

    A failed write (a full disk, Ctrl-C) removes its temporary file and leaves the
    previous checkpoint at ``path`` as it was.

    Raises:
        DiskFullError: the disk filled up; the message says where, how much the
            checkpoint needs and how much is free. (torch reports it as ``unexpected
            pos ... vs ...`` from its zip writer, or as ENOSPC.)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            torch.save({"format": FORMAT, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if _disk_full(error):
            raise DiskFullError(errno.ENOSPC, _disk_full_message(state, path)) from error
        raise
    return path


def _disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    # torch's zip writer reports a short write as "[enforce fail at inline_container.cc]
    # . unexpected pos N vs M"
    return isinstance(error, RuntimeError) and "unexpected pos" in str(error)


def _disk_full_message(state: dict[str, Any], path: Path) -> str:
    need = _tensor_bytes(state)
    free = shutil.disk_usage(path.parent).free
    kept = f"the previous {path.name} is kept" if path.exists() else f"no {path.name} was written"
    return (
        f"disk full: writing {path} needs about {need / 1e6:,.0f} MB, and {free / 1e6:,.0f} MB "
        f"are free on the disk of {path.parent}; {kept}. Free some space there (old run "
        "folders' *.pt, caches) or train into a folder on a larger disk, then continue with "
        "resume=True (--resume)."
    )


def _tensor_bytes(value: Any) -> int:
    """Bytes of every tensor in a nest of dicts and lists (what a checkpoint mostly is)."""
    if torch.is_tensor(value):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return sum(_tensor_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_tensor_bytes(v) for v in value)
    return 0


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary unpickling).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: the file holds objects other than tensors and plain containers
            (it may run code: it is refused), or it is not a torch checkpoint at all.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"{path} was refused: it holds Python objects other than tensors and plain "
            "containers, which could run code when loaded. Only load checkpoints written "
            f"by dflib or another source you trust. ({str(error).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is not a readable checkpoint: {error}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a checkpoint dict")
    return state


def load_weights(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, torch.Tensor]:
    """The model weights of ``best.pt`` or ``last.pt``."""
    state = load_checkpoint(path, map_location)
    weights = state.get("model")
    if not isinstance(weights, dict):
        raise CheckpointError(f"{path} has no 'model' weights (keys: {sorted(state)})")
    return weights


def rng_state() -> dict[str, Any]:
    """Every random generator's state, as tensors and plain values (weights-only safe)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": [list(v) if isinstance(v, tuple) else v for v in random.getstate()],
    }  # fmt: skip
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        ("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"])
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        # a run saved on more GPUs than this machine has: the devices present get theirs
        for index, cuda in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda, index)
