"""Checkpoints that survive a crash and never run code when loaded, and how a run
continues from its ``last.pt``.

``last.pt`` holds everything needed to continue a run exactly (model, optimiser,
scheduler, grad scaler, epoch, RNG states, history); ``best.pt`` holds the weights
alone. Both are written to a temporary file and renamed over the old one, so a kill in
the middle of a save leaves the previous checkpoint intact. Both contain only tensors,
numbers, strings, lists and dicts, and are read with ``torch.load(weights_only=True)``:
a file carrying a pickled object is refused, and its code never runs.

A run resumes only with the settings that shaped its data and its steps (architecture,
data, image size, filter, seed, split, loss, batch, optimiser, schedule, augmentations):
anything else would silently make a different run under the same name - a changed lr,
say, would be overridden by the saved optimiser state while ``params.json`` claimed it.
Which settings those are is declared once, on each :class:`TrainConfig` field
(:func:`~dflib.train.config.resume_settings`): the epochs, how the steps run (device,
precision, workers, ...) and the loggers may change, so a finished run can be trained
further, elsewhere.
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

from dflib.train.config import TrainConfig, resume_settings
from dflib.train.optim import make_optimizer
from dflib.train.runs import RunFolder

FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: unsafe, corrupt, or from another run."""


class DiskFullError(OSError):
    """A checkpoint did not fit on its disk; the previous one is kept."""

    def __str__(self) -> str:
        return str(self.strerror)  # the whole message; "[Errno 28]" before it adds nothing


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


# --- resuming a run from its last.pt ---


def previous_state(run: RunFolder, config: TrainConfig) -> dict[str, Any] | None:
    """``last.pt`` of ``run`` if there is one and it was made by the same settings.

    Raises:
        CheckpointError: the run was trained with other settings (each one named), or
            ``last.pt`` is unsafe or unreadable.
    """
    if not run.last.is_file():
        return None
    state = load_checkpoint(run.last)
    before = TrainConfig.from_dict(state.get("params", {}))
    changed = [f"{k}: {getattr(before, k)!r} -> {getattr(config, k)!r}"
               for k in resume_settings("fixed") if getattr(before, k) != getattr(config, k)]  # fmt: skip
    if changed:
        raise CheckpointError(
            f"cannot resume {run.root}: it was trained with other settings ({'; '.join(changed)}). "
            "Resume with the run's own settings (a resume may change only "
            f"{', '.join(resume_settings('free'))}), or start a new run."
        )
    _check_stages(run, before, config, int(state.get("epoch", 0)))
    return state


def _check_stages(run: RunFolder, before: TrainConfig, config: TrainConfig, done: int) -> None:
    """Once the fine-tune stage has started, the main stage is closed: more main-stage
    epochs would append fine-tuning to a main stage of the old length, a history that is
    neither the old run nor a straight run of the new length."""
    if not before.finetune_epochs or done <= before.epochs or config.epochs == before.epochs:
        return
    raise CheckpointError(
        f"cannot resume {run.root} with {config.epochs} main-stage epochs: its fine-tune stage "
        f"has already started ({done - before.epochs} of {before.finetune_epochs} fine-tune "
        f"epochs done after {before.epochs} main-stage epochs). Only the fine-tune stage can "
        f"still grow (--finetune-epochs / -p finetune_epochs, keeping --epochs {before.epochs}); "
        "to train the main stage longer, start a new run (--out NEW_NAME --epochs "
        f"{config.epochs})."
    )


def last_state(model, optimizer, scheduler, scaler, epoch, history, best, config, steps=0) -> dict:
    """Everything ``last.pt`` keeps (tensors and plain values only); ``steps``: the
    optimiser steps so far, where a resumed run's loggers continue their step axis."""
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else {},
        "scaler": scaler.state_dict() if scaler is not None else {},
        "epoch": epoch,
        "steps": steps,
        "history": history,
        "best": best,
        "rng": rng_state(),
        "params": config.to_dict(),
    }


def restore(state, model, config, scaler):
    """Load ``state`` into a fresh model; returns optimiser, scheduler, epoch, history, best.

    The random generators are set back to where the run left them too. Each epoch reseeds
    from ``(seed, epoch)`` (:func:`dflib.train.loop.seed_epoch`), so this keeps exact
    only what draws numbers between the restore and the next epoch.
    """
    model.load_state_dict(state["model"])
    if state.get("rng"):
        set_rng_state(state["rng"])
    epoch = int(state["epoch"])
    # past the main stage the optimiser is the fine-tuning one
    optimizer, scheduler = make_optimizer(model, config, finetune=epoch > config.epochs)
    load_optimizer_state(optimizer, state["optimizer"])
    if scheduler is not None and state.get("scheduler"):
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    return optimizer, scheduler, epoch, list(state["history"]), dict(state["best"])


def load_optimizer_state(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """Load a saved optimiser state onto ``optimizer``, laid out for its own update.

    The saver's device and memory format may differ from this run's (both may change on
    a resume), and the fused AdamW kernel needs every state tensor on its parameter's
    device with its parameter's strides. ``Optimizer.load_state_dict`` places ``step`` by
    the *saved* group's ``fused`` flag (pytorch/pytorch#124133: a CPU save resumed on a
    GPU keeps ``step`` on the CPU), so the saved groups get this optimiser's flag first;
    and it keeps the saved moments' strides (NCHW), so each moment is then copied into
    its parameter's layout (``channels_last``).
    """
    # not strict: a different number of groups is load_state_dict's to report
    groups = [{**old, "fused": new["fused"]}
              for old, new in zip(saved["param_groups"], optimizer.param_groups, strict=False)]  # fmt: skip
    optimizer.load_state_dict({**saved, "param_groups": groups})
    for param, values in optimizer.state.items():
        for key, value in values.items():
            if torch.is_tensor(value) and value.shape == param.shape:
                values[key] = torch.empty_like(param).copy_(value)
