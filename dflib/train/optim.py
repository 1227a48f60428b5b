"""The optimiser of every recipe: AdamW (fused on CUDA), with ReduceLROnPlateau in the
main stage.

Both stages of a run build it here (the fine-tuning stage at its own, lower lr), and so
does a resumed run before it loads the saved optimiser and scheduler states into it.
"""

from __future__ import annotations

import torch
from torch import nn

from dflib.train.config import TrainConfig

# devices whose AdamW takes the fused update (one kernel for every parameter): CUDA.
# Elsewhere the default update, so CPU runs stay as they were; tests add "cpu" (torch >= 2.4
# has a fused CPU AdamW) to run the GPU's update path on a CPU.
FUSED_DEVICES = ("cuda",)


def fused_on(device: torch.device) -> bool:
    """Whether AdamW takes its fused update for parameters on ``device`` (:data:`FUSED_DEVICES`)."""
    return torch.device(device).type in FUSED_DEVICES


def fused(params) -> bool:
    """Whether AdamW takes its fused update for ``params``: all of them on a device of
    :func:`fused_on`."""
    return bool(params) and all(fused_on(p.device) for p in params)


def make_optimizer(model: nn.Module, config: TrainConfig, finetune: bool):
    """AdamW and, in the main stage, ReduceLROnPlateau on the validation loss.

    Returns:
        ``(optimizer, scheduler)``; the scheduler is ``None`` in the fine-tuning stage
        (a fixed ``config.finetune_lr``).
    """
    lr = config.finetune_lr if finetune else config.lr
    params = list(model.parameters())
    optimizer = torch.optim.AdamW(
        params, lr=lr, weight_decay=config.weight_decay, fused=True if fused(params) else None
    )
    if finetune:
        return optimizer, None
    return optimizer, torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.plateau_factor, patience=config.plateau_patience
    )
