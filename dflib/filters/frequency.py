"""The FFT high-pass residual, and the array-layout helpers that the spectral functions
share with it.

It is a filter (frequencies below a cutoff removed) that filter evaluation needs, and the
filters stage sits below the spectral one, so it lives here;
:mod:`dflib.spectral.spectra` imports the helpers from here and re-exports
:func:`fft_highpass`.

Layouts as in :mod:`dflib.spectral.spectra`: NumPy arrays channel-last (``HxW``,
``HxWxC``, ``NxHxWxC``), torch tensors channel-first (``HxW``, ``CxHxW``, ``NxCxHxW``);
``uint8`` values are scaled to ``[0, 1]``; results come back as the input's library and
layout, in float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

Array = Any  # np.ndarray or torch.Tensor: results follow the input's library


def to_nchw(x: Array) -> tuple[torch.Tensor, bool, bool, bool]:
    """float32 NCHW tensor + (was_numpy, was_batched, had_channels)."""
    if isinstance(x, np.ndarray):
        if x.ndim not in (2, 3, 4):
            raise ValueError(f"expected HxW, HxWxC or NxHxWxC, got shape {x.shape}")
        t = torch.from_numpy(np.ascontiguousarray(x))
        has_c, batched = x.ndim >= 3, x.ndim == 4
        t = t if has_c else t[..., None]
        t = t if batched else t[None]
        t = t.permute(0, 3, 1, 2)
        was_numpy = True
    elif isinstance(x, torch.Tensor):
        if x.ndim not in (2, 3, 4):
            raise ValueError(f"expected HxW, CxHxW or NxCxHxW, got shape {tuple(x.shape)}")
        has_c, batched = x.ndim >= 3, x.ndim == 4
        t = x if has_c else x[None]
        t = t if batched else t[None]
        was_numpy = False
    else:
        raise TypeError(f"expected a NumPy array or a torch tensor, got {type(x).__name__}")
    if t.numel() == 0:
        raise ValueError(f"expected at least one non-empty image, got shape {tuple(x.shape)}")
    t = t.float() / 255.0 if t.dtype == torch.uint8 else t.float()
    return t, was_numpy, batched, has_c


def to_output(t: torch.Tensor, was_numpy: bool) -> Array:
    """``t`` as a NumPy array when the input was one, else the tensor itself."""
    return t.cpu().numpy() if was_numpy else t


def keep_layout(res: torch.Tensor, was_numpy: bool, batched: bool, has_c: bool) -> Array:
    """Back from NCHW to the input's own layout."""
    if was_numpy:
        res = res.permute(0, 2, 3, 1)
        res = res if has_c else res[..., 0]
    else:
        res = res if has_c else res[:, 0]
    res = res if batched else res[0]
    return to_output(res.contiguous(), was_numpy)


def highpass_mask(
    height: int,
    width: int,
    cutoff: float,
    device: torch.device | None = None,
    drop_dc: bool = False,
) -> torch.Tensor:
    """Boolean ``(height, width // 2 + 1)`` mask of the ``rfft2`` bins that are kept: those
    whose radial frequency ``sqrt(fy^2 + fx^2) / 0.5`` (``f`` in cycles per pixel, so 1.0 is
    the Nyquist frequency along an axis) reaches ``cutoff``.

    At ``cutoff=0`` every bin is kept, the DC term (the mean) included, unless ``drop_dc``:
    a model's high-pass layer always drops it, since a feature map's mean is no artifact.
    """
    fy = torch.fft.fftfreq(height, device=device).abs() / 0.5
    fx = torch.fft.rfftfreq(width, device=device) / 0.5
    keep = torch.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2) >= cutoff
    if drop_dc:
        keep[0, 0] = False
    return keep


def highpass(t: torch.Tensor, cutoff: float, drop_dc: bool = False) -> torch.Tensor:
    """The FFT high-pass: the frequencies of each channel below ``cutoff`` (a fraction of
    the Nyquist radius, :func:`highpass_mask`) removed, same shape back. ``t`` is a float
    ``(..., H, W)`` tensor; the filters' residual and the models' layer both call this."""
    height, width = t.shape[-2:]
    keep = highpass_mask(height, width, cutoff, device=t.device, drop_dc=drop_dc)
    spectrum = torch.fft.rfft2(t, norm="ortho")
    return torch.fft.irfft2(spectrum * keep, s=(height, width), norm="ortho")


def fft_highpass(x: Array, cutoff: float = 0.25) -> Array:
    """High-pass residual of images: :func:`highpass` on any array layout.

    ``cutoff=0`` keeps everything (the DC term included), ``cutoff > 0`` removes the DC
    term and the mean with it.

    Returns:
        float32 residual in the input's layout (uint8 inputs in ``[0, 1]`` units).
    """
    if not 0.0 <= cutoff <= np.sqrt(2.0):
        raise ValueError(f"cutoff must be in [0, sqrt(2)], got {cutoff}")
    t, was_numpy, batched, has_c = to_nchw(x)
    return keep_layout(highpass(t, cutoff), was_numpy, batched, has_c)
