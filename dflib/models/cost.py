"""What a model costs: FLOPs of one image, counted by ``torch.utils.flop_counter``.

A multiply-add is 2 FLOPs; convolutions, linear layers and attention matmuls are
counted, BatchNorm, activations, pooling and FFTs are not (``FlopCounterMode``'s rules).
Used by ``scripts/model_report.py`` (the model zoo table) and the leaderboard.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch.utils.flop_counter import FlopCounterMode

from dflib.models._registry import create_model


def flops(model: torch.nn.Module, size: int) -> int:
    """FLOPs of one ``3 x size x size`` image through ``model`` (eval mode, on its device)."""
    model.eval()
    device = next(model.parameters()).device
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.rand(1, 3, size, size, device=device))
    return int(counter.get_total_flops())


@lru_cache(maxsize=64)
def arch_flops(arch: str, size: int) -> int:
    """FLOPs of one image of ``size`` px through a fresh ``arch`` (cached per arch and size)."""
    with torch.random.fork_rng():  # building a model must not move the caller's RNG
        model = create_model(arch)
    return flops(model, size)
