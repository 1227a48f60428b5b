"""Frequency analysis of images: spectra, class means, radial profiles, high-pass residuals.

Generators leave traces in the fine detail: periodic up-sampling peaks, checkerboards
at the Nyquist frequency, a distorted high-frequency tail of the radially averaged
spectrum (Durall et al., "Watch your Up-Convolution", CVPR 2020). These functions make
them visible and measurable, vectorised over batches with ``torch.fft`` (CPU or GPU).

Conventions:

- Inputs as in :mod:`dflib.filters`: NumPy arrays channel-last (``HxW``, ``HxWxC``,
  ``NxHxWxC``), torch tensors channel-first (``HxW``, ``CxHxW``, ``NxCxHxW``). ``uint8``
  values are scaled to ``[0, 1]``; float inputs are taken as they are. Results come back
  as the input's library (NumPy or torch, same device), in float32.
- Spectra are **channel-first for both libraries**, ``NxCxHxW`` (or ``NxHxW`` with
  ``grey=True``; no ``N`` for a single image), so the two frequency axes are always the
  last two. Image-like results (:func:`fft_highpass`, :func:`npr_residual`) keep the
  input's layout so they can be shown like the image.
- FFTs use ``norm="ortho"``: white noise of variance ``s^2`` has ``E|F|^2 = s^2`` at any
  image size. Centred spectra (``center=True``) have the DC term at ``(H // 2, W // 2)``
  (``fftshift``); for even sizes the Nyquist frequency is then at index 0.
- Grey is BT.601 luma ``0.299 R + 0.587 G + 0.114 B``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

# fft_highpass lives with the filters (it is one, and filters.evaluation needs it);
# imported here so that ``dflib.spectral.spectra.fft_highpass`` keeps working.
from dflib.filters.frequency import Array, keep_layout, to_nchw, to_output
from dflib.filters.frequency import fft_highpass as fft_highpass

EPS = 1e-8  # floor inside the log so exact zeros stay finite
LUMA = (0.299, 0.587, 0.114)


def luminance(t: torch.Tensor) -> torch.Tensor:
    """BT.601 grey of an NCHW float tensor (N, H, W); one channel is returned as is."""
    if t.shape[1] == 1:
        return t[:, 0]
    if t.shape[1] != 3:
        raise ValueError(f"grey needs 1 or 3 channels, got {t.shape[1]}")
    weights = torch.tensor(LUMA, dtype=t.dtype, device=t.device).view(1, 3, 1, 1)
    return (t * weights).sum(1)


def _log_mag(t: torch.Tensor, grey: bool, center: bool, eps: float) -> torch.Tensor:
    planes = luminance(t) if grey else t
    spec = torch.fft.fft2(planes, norm="ortho")
    if center:
        spec = torch.fft.fftshift(spec, dim=(-2, -1))
    return torch.log(spec.abs() + eps)


def log_magnitude_spectrum(
    x: Array, grey: bool = False, center: bool = True, eps: float = EPS
) -> Array:
    """``log(|FFT| + eps)`` per channel (``NxCxHxW``) or of the grey image (``NxHxW``).

    Args:
        x: image or batch (see module conventions).
        grey: one spectrum of the BT.601 grey image instead of one per channel.
        center: move the DC term to the centre (``fftshift``).
        eps: floor inside the log.
    """
    t, was_numpy, batched, has_c = to_nchw(x)
    spec = _log_mag(t, grey or not has_c, center, eps)  # an HxW input gives HxW
    return to_output(spec if batched else spec[0], was_numpy)


class SpectrumMeans:
    """Streaming per-class mean of log-magnitude spectra (float64 sums).

    Example:
        >>> acc = SpectrumMeans(grey=True)
        >>> for images, labels in batches:  # doctest: +SKIP
        ...     acc.update(images, labels)
        >>> means = acc.means()  # {label: HxW array}
    """

    def __init__(self, grey: bool = True, eps: float = EPS) -> None:
        self.grey, self.eps = grey, eps
        self.sums: dict[Any, torch.Tensor] = {}
        self.counts: dict[Any, int] = {}

    def update(self, x: Array, labels: Any) -> None:
        """Add a batch ``x`` (N images) with its ``labels`` (N ints or strings, e.g. the
        class or the generator family)."""
        t, _, batched, _ = to_nchw(x)
        if not batched:
            raise ValueError("update() needs a batch (N images), got a single image")
        spec = _log_mag(t, self.grey, True, self.eps).double()
        lab = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        lab = lab.reshape(-1)
        if len(lab) != len(spec):
            raise ValueError(f"{len(spec)} images but {len(lab)} labels")
        for value in np.unique(lab):
            rows = torch.from_numpy(np.flatnonzero(lab == value)).to(spec.device)
            part = spec.index_select(0, rows)
            key = value.item()
            total = self.sums.get(key)
            self.sums[key] = part.sum(0) if total is None else total + part.sum(0)
            self.counts[key] = self.counts.get(key, 0) + len(part)

    def means(self) -> dict[Any, np.ndarray]:
        """Mean spectrum per label as float32 NumPy arrays (``HxW`` or ``CxHxW``)."""
        return {k: (self.sums[k] / self.counts[k]).float().cpu().numpy() for k in sorted(self.sums)}


def class_mean_spectra(
    x: Array, labels: Any, grey: bool = True, batch_size: int = 256
) -> dict[Any, np.ndarray]:
    """Mean log-magnitude spectrum per class of a batch (a memmap is fine: read in chunks).

    Returns:
        ``{label: mean}``; each mean is ``HxW`` (grey) or ``CxHxW``, centred, NumPy.
    """
    acc = SpectrumMeans(grey=grey)
    labels = np.asarray(labels)
    for start in range(0, len(x), batch_size):
        acc.update(x[start : start + batch_size], labels[start : start + batch_size])
    return acc.means()


def difference_map(a: Array, b: Array) -> Array:
    """``a - b`` of two (log) spectra, e.g. fake mean minus real mean; same shapes only."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    return a - b


def azimuthal_profile(spectrum: Array, n_bins: int | None = None) -> Array:
    """Azimuthal average of centred spectra over their last two axes.

    The value at radius ``r`` is the mean over the frequencies whose distance to the
    DC term ``(H // 2, W // 2)`` rounds to ``r``. By default the radii run from 0 to
    ``min(H, W) // 2`` (full rings up to the inscribed circle); frequencies further out
    (the corners) are left out.

    Args:
        spectrum: ``(..., H, W)`` array or tensor, DC at the centre.
        n_bins: number of radii kept (``0 .. n_bins - 1``).

    Returns:
        ``(..., n_bins)``, same library as the input.
    """
    was_numpy = isinstance(spectrum, np.ndarray)
    s = torch.from_numpy(np.asarray(spectrum)) if was_numpy else spectrum
    h, w = s.shape[-2:]
    bins = min(h, w) // 2 + 1 if n_bins is None else int(n_bins)
    yy = torch.arange(h, device=s.device, dtype=torch.float64) - h // 2
    xx = torch.arange(w, device=s.device, dtype=torch.float64) - w // 2
    radius = torch.sqrt(yy[:, None] ** 2 + xx[None, :] ** 2).round().long().view(-1)
    radius = radius.clamp(max=bins)  # bin `bins` collects the corners, dropped below
    flat = s.reshape(-1, h * w).to(torch.float64)
    sums = flat.new_zeros(flat.shape[0], bins + 1).index_add_(1, radius, flat)
    counts = torch.bincount(radius, minlength=bins + 1).to(flat)
    prof = (sums / counts)[:, :bins].to(s.dtype if s.is_floating_point() else torch.float32)
    prof = prof.reshape(*s.shape[:-2], bins)
    return prof.numpy() if was_numpy else prof


def radial_profiles(
    x: Array, normalize: bool = False, batch_size: int = 256, eps: float = EPS
) -> Array:
    """1-D spectral profile of each image: azimuthal average of the grey log-magnitude.

    With ``normalize=True`` each profile is min-max scaled to ``[0, 1]`` as in Durall et
    al. 2020, the features of their linear probe. Processed in chunks (memmaps fine).

    Returns:
        ``N x R`` (``R = min(H, W) // 2 + 1``), or ``R`` for a single image.
    """
    was_numpy = isinstance(x, np.ndarray)
    if x.ndim == 4:
        starts = range(0, max(len(x), 1), batch_size)
        chunks = (to_nchw(x[s : s + batch_size])[0] for s in starts)
    else:
        chunks = iter([to_nchw(x)[0]])
    prof = torch.cat([azimuthal_profile(_log_mag(t, True, True, eps)) for t in chunks])
    if normalize:
        lo = prof.amin(-1, keepdim=True)
        span = (prof.amax(-1, keepdim=True) - lo).clamp(min=1e-12)
        prof = (prof - lo) / span
    return to_output(prof if x.ndim == 4 else prof[0], was_numpy)


def npr_residual(x: Array) -> Array:
    """Neighbouring-pixel residual of NPR (Tan et al., CVPR 2024).

    ``x - up(down(x))`` with nearest-neighbour 2x down-sampling (keep every second
    pixel, as ``F.interpolate(scale_factor=0.5, mode="nearest")``) and nearest 2x
    up-sampling, cropped back to ``H x W`` for odd sizes. Zero on any image that is
    itself a nearest 2x up-sampling: it isolates the local correlations that
    up-sampling layers leave.

    Returns:
        float32 residual in the input's layout (uint8 inputs in ``[0, 1]`` units).
    """
    t, was_numpy, batched, has_c = to_nchw(x)
    h, w = t.shape[-2:]
    low = t[..., ::2, ::2]
    up = low.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)[..., :h, :w]
    return keep_layout(t - up, was_numpy, batched, has_c)
