"""Name -> builder registry (timm's ``@register_model``, reduced to what dflib needs)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from ._base import ModelCfg

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}
_CFGS: dict[str, ModelCfg] = {}

F = TypeVar("F", bound=Callable[..., nn.Module])


def register_model(cfg: ModelCfg) -> Callable[[F], F]:
    """Register a builder ``fn(num_classes: int, **kw) -> nn.Module`` under ``cfg.name``."""

    def decorator(fn: F) -> F:
        if cfg.name in _BUILDERS:
            raise ValueError(f"model {cfg.name!r} is registered twice")
        _BUILDERS[cfg.name] = fn
        _CFGS[cfg.name] = cfg
        return fn

    return decorator


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_BUILDERS)


def _check_name(name: str) -> None:
    if name not in _BUILDERS:
        close = difflib.get_close_matches(name, _BUILDERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown model {name!r}. Valid names: {', '.join(list_models())}.{hint}")


def model_cfg(name: str) -> ModelCfg:
    """Default config of a model without building it (input size, normalisation, ...)."""
    _check_name(name)
    return _CFGS[name]


def create_model(name: str, num_classes: int | None = None, **kwargs: Any) -> nn.Module:
    """Build a model from scratch (random weights; there are no pretrained weights).

    Args:
        name: one of :func:`list_models`.
        num_classes: outputs of the head; ``None`` keeps the recipe's (2 or 1).
        **kwargs: architecture options (see the builder's docstring), e.g. ``drop_rate``.

    Returns:
        The model, with ``model.default_cfg`` describing its input contract.

    Raises:
        ValueError: unknown name (the message lists the valid ones), or a request for
            pretrained weights.
    """
    _check_name(name)
    if kwargs.pop("pretrained", False):
        raise ValueError(
            "dflib models are trained from scratch (docs/writeups.md#task-and-data); there are no pretrained "
            "weights. Drop pretrained=True and load a checkpoint with load_state_dict."
        )
    cfg = _CFGS[name]
    n_out = cfg.num_classes if num_classes is None else int(num_classes)
    if n_out < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    model = _BUILDERS[name](num_classes=n_out, **kwargs)
    model.default_cfg = cfg.replace(num_classes=n_out)
    return model
