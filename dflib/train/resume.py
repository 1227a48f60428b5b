"""What ``last.pt`` holds and how a run continues from it.

A run resumes only with the settings that shaped its data and its steps (architecture,
data, image size, filter, seed, split, loss, batch, optimiser, schedule, augmentations):
anything else would silently make a different run under the same name - a changed lr,
say, would be overridden by the saved optimiser state while ``params.json`` claimed it.
Which settings those are is declared once, on each :class:`TrainConfig` field
(:func:`~dflib.train.recipes.resume_settings`): the epochs, how the steps run (device,
precision, workers, ...) and the loggers may change, so a finished run can be trained
further, elsewhere.
"""

from __future__ import annotations

from typing import Any

import torch

from dflib.train.checkpoint import CheckpointError, load_checkpoint, rng_state, set_rng_state
from dflib.train.optim import make_optimizer
from dflib.train.recipes import TrainConfig, resume_settings
from dflib.train.runs import RunFolder


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
    from ``(seed, epoch)`` (:func:`dflib.train.epochs.seed_epoch`), so this keeps exact
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
