"""Impulse-noise filters (``docs/writeups.md#noise-filters``): functions, transforms and cache callables.

Filters (``uint8`` in, ``uint8`` out, deterministic):

- ``global_median``: 3x3 median everywhere (the baseline the write-up rejected).
- ``selective_median(tol)``: per channel, a value is noise if ``v <= tol or
  v >= 255 - tol``; only those values take the 3x3 median of their channel.
- ``coherent_noise_filter(tol=30)``: the per-channel masks OR-combined over the
  channels; a flagged pixel takes the 3x3 median in every channel; every other pixel
  is left bit-for-bit unchanged.
- ``adaptive_median(tol=30)``: coherent mask, but a flagged pixel takes, per channel,
  the median of its *unflagged* 3x3 neighbours only (mean of the two middle values,
  rounded half up, for an even count), which keeps working at dense noise where a
  plain median sees mostly noise. If all 8 neighbours are flagged it falls back to the
  plain 3x3 median (the coherent filter's value).
- ``fft_wiener(tol=30, noise_power=None, masked=False)``: a *spectral* Wiener filter
  per image and channel, ``G(f) = max(0, 1 - sigma^2 / P(f))`` with ``P`` the
  periodogram and ``sigma^2`` the white-noise power, by default measured as the power
  of the impulse residual ``x - coherent_noise_filter(x)``. Spectral rather than the
  local spatial Wiener of ``scipy.signal.wiener`` because the point is frequency
  awareness: a bin whose power stands far above the white noise floor (a generator's
  periodic up-sampling peak) passes with gain near 1, while a local Wiener smooths by
  local variance and cannot tell periodic traces from noise. Linear, so it changes
  every pixel unless ``masked=True`` (then only flagged pixels take its value).
- ``none``: identity, so "no filter" runs through the same code and cache keys.

Border convention (the same for every filter): edge replication, which for a 3x3
window equals ``scipy.ndimage`` ``mode='reflect'``; outputs match the SciPy reference
on the whole image, borders included.

Layouts: NumPy arrays are channel-last (``HxWxC`` image or ``NxHxWxC`` batch, also
``HxW``); torch tensors are channel-first (``CxHxW`` or ``NxCxHxW``, also ``HxW``), on
any device, as in torchvision; PIL images (modes ``RGB`` and ``L``). The output has the
input's type, shape, layout and device. The input is never modified.

Why one torch implementation: the math is written once, in :mod:`dflib.filters.kernels`,
with torch ops. NumPy input enters through ``torch.from_numpy`` (no copy; the kernels
run channel-last, the NumPy layout) and leaves through ``Tensor.numpy()`` (no copy);
the same code runs on CUDA unchanged, and torch's uint8 ``minimum``/``maximum`` are
vectorised and multi-threaded. An array-API version would need ``array_api_compat``
and still lacks a common gather and FFT. So NumPy, torch-CPU and torch-GPU outputs are
identical (``fft_wiener`` up to float64 FFT rounding between devices, at most 1 level).

Data cache contract (:mod:`dflib.filters.transforms`): ``get_filter(name, **kw)``
returns a :class:`~dflib.filters.transforms.NoiseFilter`;
``f(batch)`` with ``batch`` a ``uint8`` ``NxHxWx3`` array returns the filtered
``uint8`` ``NxHxWx3`` array, and ``f.cache_key`` is a stable string such as
``"coherent_noise_filter(tol=30)"`` (defaults filled in). The same object is a
torchvision transform (an ``nn.Module``) and pickles for DataLoader workers.
"""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

import numpy as np
import torch
from PIL import Image

from dflib.filters import kernels as fk

Img = TypeVar("Img", np.ndarray, torch.Tensor, Image.Image)

__all__ = [
    "FILTER_FUNCTIONS",
    "adaptive_median",
    "check_tol",
    "coherent_noise_filter",
    "fft_wiener",
    "global_median",
    "identity",
    "list_filters",
    "selective_median",
]


def check_tol(tol: int) -> int:
    if isinstance(tol, bool) or not isinstance(tol, (int, np.integer)) or not 0 <= tol <= 255:
        raise ValueError(f"tol must be an integer in [0, 255], got {tol!r}")
    return int(tol)


def _to_nhwc(x: Any) -> torch.Tensor:
    """A uint8 NHWC tensor viewing (when possible) the data of ``x``."""
    if isinstance(x, np.ndarray):
        if x.dtype != np.uint8:
            raise TypeError(
                f"expected a uint8 image, got a NumPy array of dtype {x.dtype}; "
                "convert with np.clip(x, 0, 255).astype(np.uint8) (floats in [0, 1]: x * 255)"
            )
        if x.ndim not in (2, 3, 4):
            raise ValueError(f"expected HxW, HxWxC or NxHxWxC, got shape {x.shape}")
        arr = x if x.ndim != 2 else x[..., None]
        arr = arr if arr.ndim == 4 else arr[None]
        with warnings.catch_warnings():  # read-only arrays are fine: kernels never write
            warnings.simplefilter("ignore", UserWarning)
            return torch.from_numpy(np.ascontiguousarray(arr))
    if isinstance(x, torch.Tensor):
        if x.dtype != torch.uint8:
            raise TypeError(
                f"expected a uint8 image, got a tensor of dtype {x.dtype}; put the filter "
                "before ToTensor/ToDtype, or use PILToTensor / v2.ToImage (they keep uint8)"
            )
        if x.ndim not in (2, 3, 4):
            raise ValueError(f"expected HxW, CxHxW or NxCxHxW, got shape {tuple(x.shape)}")
        t = x if x.ndim != 2 else x[None]
        t = t if t.ndim == 4 else t[None]
        return t.permute(0, 2, 3, 1).contiguous()
    raise TypeError(
        f"expected a NumPy array, a torch tensor or a PIL image, got {type(x).__name__}"
    )


def _from_nhwc(y: torch.Tensor, like: Any) -> Any:
    """Give ``y`` (NHWC) the type, layout and shape of the original input ``like``."""
    if isinstance(like, np.ndarray):
        return y.cpu().numpy().reshape(like.shape)
    out = y.permute(0, 3, 1, 2).contiguous().reshape(like.shape)
    if type(like) is not torch.Tensor:  # keep torchvision's tv_tensors.Image wrapper
        out = out.as_subclass(type(like))
    return out


def _run(x: Img, kernel: Any, **kw: Any) -> Img:
    """Convert, run the kernel in chunks, convert back."""
    if isinstance(x, Image.Image):
        if x.mode not in ("RGB", "L"):
            raise ValueError(
                f"expected a PIL image in mode RGB or L, got {x.mode!r}; use img.convert('RGB')"
            )
        return Image.fromarray(_run(np.asarray(x), kernel, **kw), mode=x.mode)
    return _from_nhwc(fk.apply_chunked(kernel, _to_nhwc(x), **kw), x)


def identity(x: Img) -> Img:
    """No filter: returns a copy of the input (validated like every filter)."""
    return _run(x, torch.clone)


def global_median(x: Img) -> Img:
    """3x3 median of every pixel and channel (borders: edge replication)."""
    return _run(x, fk.global_median_kernel)


def selective_median(x: Img, tol: int = 30) -> Img:
    """3x3 median only for values ``<= tol`` or ``>= 255 - tol``, channel by channel."""
    return _run(x, fk.selective_median_kernel, tol=check_tol(tol))


def coherent_noise_filter(x: Img, tol: int = 30) -> Img:
    """3x3 median in every channel of pixels noisy in any channel; others unchanged."""
    return _run(x, fk.coherent_kernel, tol=check_tol(tol))


def adaptive_median(x: Img, tol: int = 30) -> Img:
    """Coherent mask; flagged pixels take the median of their unflagged neighbours."""
    return _run(x, fk.adaptive_kernel, tol=check_tol(tol))


def fft_wiener(
    x: Img, tol: int = 30, noise_power: float | None = None, masked: bool = False
) -> Img:
    """Spectral Wiener filter; see the module docstring.

    Args:
        x: image or batch (uint8).
        tol: tolerance of the impulse mask used to measure the noise power (and to
            choose the pixels replaced when ``masked``).
        noise_power: white-noise variance in squared grey levels; ``None`` measures it
            per image and channel from the impulse residual.
        masked: replace only the pixels of the coherent mask.
    """
    if noise_power is not None and not noise_power >= 0:
        raise ValueError(f"noise_power must be >= 0 or None, got {noise_power!r}")
    return _run(
        x, fk.wiener_kernel, tol=check_tol(tol), noise_power=noise_power, masked=bool(masked)
    )


FILTER_FUNCTIONS = {
    "none": identity,
    "global_median": global_median,
    "selective_median": selective_median,
    "coherent_noise_filter": coherent_noise_filter,
    "adaptive_median": adaptive_median,
    "fft_wiener": fft_wiener,
}


def list_filters() -> list[str]:
    """Names accepted by :func:`get_filter`, in the order of ``docs/writeups.md#noise-filters``."""
    return list(FILTER_FUNCTIONS)
