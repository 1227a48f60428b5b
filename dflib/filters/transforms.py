"""The named filters as objects with fixed parameters: :class:`NoiseFilter` (a torchvision
transform, an ``nn.Module``, and the data cache's preprocessing callable with a stable
``cache_key``), one subclass per filter, and the registry functions :func:`get_filter`
and :func:`filter_set`. The filters themselves are in :mod:`dflib.filters.named`.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch

from dflib.environment import split_names
from dflib.filters.named import FILTER_FUNCTIONS, Img, check_tol, list_filters

__all__ = [
    "AdaptiveMedian",
    "CoherentNoiseFilter",
    "FFTWiener",
    "GlobalMedian",
    "NoiseFilter",
    "SelectiveMedian",
    "filter_set",
    "get_filter",
]


class NoiseFilter(torch.nn.Module):
    """A filter with fixed parameters: torchvision transform and data-cache callable.

    Accepts a PIL image, a NumPy ``HxWxC``/``NxHxWxC`` array or a torch
    ``CxHxW``/``NxCxHxW`` tensor (uint8) and returns the same kind.

    Attributes:
        name: registry name of the filter.
        params: the keyword arguments, defaults filled in.
        cache_key: stable string naming filter and parameters, e.g.
            ``"coherent_noise_filter(tol=30)"``.
    """

    def __init__(self, name: str, **kw: Any) -> None:
        super().__init__()
        if name not in FILTER_FUNCTIONS:
            raise ValueError(f"unknown filter {name!r}; valid names: {', '.join(list_filters())}")
        sig = inspect.signature(FILTER_FUNCTIONS[name])
        valid = [p for p in sig.parameters if p != "x"]
        unknown = sorted(set(kw) - set(valid))
        if unknown:
            raise TypeError(
                f"filter {name!r} got unknown parameters {unknown}; "
                f"it accepts {valid or 'no parameters'}"
            )
        bound = sig.bind_partial(**kw)
        bound.apply_defaults()
        params = {
            k: v.item() if isinstance(v, np.generic) else v
            for k, v in bound.arguments.items()
            if k != "x"
        }
        if "tol" in params:
            params["tol"] = check_tol(params["tol"])
        self.name = name
        self.params = params
        args = ",".join(f"{k}={v!r}" for k, v in self.params.items())
        self.cache_key = f"{name}({args})"

    def forward(self, x: Img) -> Img:
        """Filter ``x``; see the class docstring for accepted inputs."""
        return FILTER_FUNCTIONS[self.name](x, **self.params)

    def extra_repr(self) -> str:
        return self.cache_key


class GlobalMedian(NoiseFilter):
    """Transform form of :func:`global_median`."""

    def __init__(self) -> None:
        super().__init__("global_median")


class SelectiveMedian(NoiseFilter):
    """Transform form of :func:`selective_median`."""

    def __init__(self, tol: int = 30) -> None:
        super().__init__("selective_median", tol=tol)


class CoherentNoiseFilter(NoiseFilter):
    """Transform form of :func:`coherent_noise_filter` (the write-up's final filter)."""

    def __init__(self, tol: int = 30) -> None:
        super().__init__("coherent_noise_filter", tol=tol)


class AdaptiveMedian(NoiseFilter):
    """Transform form of :func:`adaptive_median`."""

    def __init__(self, tol: int = 30) -> None:
        super().__init__("adaptive_median", tol=tol)


class FFTWiener(NoiseFilter):
    """Transform form of :func:`fft_wiener`."""

    def __init__(
        self, tol: int = 30, noise_power: float | None = None, masked: bool = False
    ) -> None:
        super().__init__("fft_wiener", tol=tol, noise_power=noise_power, masked=masked)


def get_filter(name: str, **kw: Any) -> NoiseFilter:
    """The filter ``name`` with parameters ``kw`` as a transform / cache callable.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
        TypeError: a parameter the filter does not take.
    """
    return NoiseFilter(name, **kw)


def filter_set(names: str | list[str], tol: int = 30) -> dict[str, NoiseFilter]:
    """Filters by name (a list, or a comma-separated string as a notebook parameter
    gives), with ``tol`` passed to those that take one (``none`` and ``global_median``
    do not)."""
    if isinstance(names, str):
        names = split_names(names)
    built = {}
    for name in names:
        plain = get_filter(name)
        built[name] = get_filter(name, tol=tol) if "tol" in plain.params else plain
    return built
