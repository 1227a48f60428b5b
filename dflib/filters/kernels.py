"""Torch kernels behind :mod:`dflib.filters`: one implementation, CPU and GPU alike.

Every kernel takes and returns a ``uint8`` tensor in NHWC layout (channel last, the
layout of NumPy images and of the data cache, so NumPy batches enter without a copy).
The public wrappers in :mod:`dflib.filters` convert inputs and outputs; nothing here
checks types.

Border convention: edge replication (a one-pixel border repeating the edge pixel).
For a 3x3 window this is exactly ``scipy.ndimage`` ``mode='reflect'`` (and
``mode='nearest'``): half-sample reflection of a one-pixel border repeats the edge
pixel. So every filter matches its SciPy reference on the whole image, borders included.

The 3x3 median is the classic column-sort network (Paeth; the 19 compare-exchanges of
``opt_med9``): sort each vertical triple once (3 compare-exchanges, shared by the three
windows that contain that column), then the median of the window is
``med3(max of the lows, med3 of the middles, min of the highs)``. Only elementwise
``minimum``/``maximum`` on shifted views: no sort, no Python loop over pixels, exact on
integers. Batches are processed in chunks of about ``CPU_CHUNK_BYTES`` so the
intermediates stay in cache; on CUDA chunks are up to ``GPU_CHUNK_BYTES``.

Threads: the CPU kernels use torch's intra-op threads (``torch.set_num_threads``). Each
op ends in a thread barrier, so on a machine whose cores are busy with other processes
several threads can be far slower than one; use one thread per process there (the
parallel cache build does: one thread per worker process).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

CPU_CHUNK_BYTES = 1 << 19  # ~0.5 MB of input per chunk: 4 images of 196 px; tuned on 2 cores
GPU_CHUNK_BYTES = 1 << 29

_min = torch.minimum
_max = torch.maximum


def _med3(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Elementwise median of three (4 min/max operations)."""
    return _max(_min(a, b), _min(_max(a, b), c))


def replicate_pad(x: torch.Tensor) -> torch.Tensor:
    """Pad an NHWC tensor by one pixel on each side, repeating the edge pixels."""
    n, h, w, c = x.shape
    out = x.new_empty((n, h + 2, w + 2, c))
    out[:, 1:-1, 1:-1] = x
    out[:, 0, 1:-1] = x[:, 0]
    out[:, -1, 1:-1] = x[:, -1]
    out[:, :, 0] = out[:, :, 1]
    out[:, :, -1] = out[:, :, -2]
    return out


def median3x3(x: torch.Tensor) -> torch.Tensor:
    """3x3 median of every pixel, per channel, of an NHWC uint8 tensor."""
    n, h, w, c = x.shape
    # Rows of the padded image flattened to (W + 2) * C values: a one-pixel shift along
    # W is a shift of C values, and every view below is a plain slice.
    p = replicate_pad(x).view(n, h + 2, (w + 2) * c)
    top, mid, bot = p[:, :-2], p[:, 1:-1], p[:, 2:]
    lo, hi = _min(top, mid), _max(top, mid)
    mid, hi = _min(hi, bot), _max(hi, bot)
    lo, mid = _min(lo, mid), _max(lo, mid)
    span = w * c

    def cols(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return t[..., :span], t[..., c : c + span], t[..., 2 * c : 2 * c + span]

    l0, l1, l2 = cols(lo)
    m0, m1, m2 = cols(mid)
    h0, h1, h2 = cols(hi)
    out = _med3(_max(_max(l0, l1), l2), _med3(m0, m1, m2), _min(_min(h0, h1), h2))
    return out.view(n, h, w, c)


def noise_mask(x: torch.Tensor, tol: int) -> torch.Tensor:
    """Per-channel impulse mask ``(v <= tol) | (v >= 255 - tol)`` of a uint8 tensor.

    Computed as one wrapping subtraction and one comparison: ``v - (255 - tol)`` modulo
    256 maps ``[255 - tol, 255]`` to ``[0, tol]`` and ``[0, tol]`` to
    ``[tol + 1, 2 tol + 1]``, so the mask is ``(v - (255 - tol)) mod 256 <= 2 tol + 1``.
    """
    shifted = x.sub(255 - tol)  # uint8 arithmetic wraps modulo 256
    return shifted <= min(2 * tol + 1, 255)


def coherent_mask(x: torch.Tensor, tol: int) -> torch.Tensor:
    """Mask of pixels noisy in any channel, shape (N, H, W, 1)."""
    shifted = x.sub(255 - tol)
    lowest = shifted[..., :1]
    for ch in range(1, x.shape[-1]):
        lowest = _min(lowest, shifted[..., ch : ch + 1])
    return lowest <= min(2 * tol + 1, 255)


def global_median_kernel(x: torch.Tensor) -> torch.Tensor:
    """3x3 median everywhere."""
    return median3x3(x)


def selective_median_kernel(x: torch.Tensor, tol: int) -> torch.Tensor:
    """3x3 median only where that channel is noisy."""
    return torch.where(noise_mask(x, tol), median3x3(x), x)


def coherent_kernel(x: torch.Tensor, tol: int) -> torch.Tensor:
    """3x3 median in all channels where any channel is noisy.

    The select copies whole flagged pixels by index: a ``torch.where`` with the
    (N, H, W, 1) mask broadcast over the 3 channels costs more than the median itself.
    """
    c = x.shape[-1]
    flagged = coherent_mask(x, tol).view(-1).nonzero().squeeze(1)
    out = x.clone()
    out.view(-1, c).index_copy_(0, flagged, median3x3(x).view(-1, c).index_select(0, flagged))
    return out


_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1))


def adaptive_kernel(x: torch.Tensor, tol: int) -> torch.Tensor:
    """Coherent mask; each flagged pixel takes, per channel, the median of its unflagged
    3x3 neighbours (mean of the two middle values, rounded half up, when their count is
    even). With no unflagged neighbour it falls back to the plain 3x3 median.

    Works on the flagged pixels only: gather their 9 neighbours from the padded image,
    sort the 9 values with flagged ones pushed to the end, pick by the valid count.
    """
    n, h, w, c = x.shape
    flag = coherent_mask(x, tol)[..., 0]
    pad_x = replicate_pad(x)
    pad_flag = replicate_pad(flag.unsqueeze(-1))[..., 0]
    centre = torch.zeros_like(pad_flag)
    centre[:, 1:-1, 1:-1] = flag
    where = centre.view(-1).nonzero().squeeze(1)  # flat indices into the padded image
    out = pad_x.clone()
    if where.numel():
        row = w + 2
        offsets = torch.tensor([dy * row + dx for dy, dx in _OFFSETS], device=x.device)
        idx = where.unsqueeze(0) + offsets.unsqueeze(1)  # (9, K)
        values = pad_x.view(-1, c)[idx].to(torch.int16)  # (9, K, C)
        valid = ~pad_flag.view(-1)[idx]  # (9, K); the centre is flagged, never valid
        count = valid.sum(0)  # (K,)
        # 256 sorts after every uint8 value, so valid values come first.
        ranked = values.masked_fill(~valid.unsqueeze(-1), 256).sort(dim=0).values
        lower = ((count - 1).clamp(min=0) // 2).view(1, -1, 1).expand(1, -1, c)
        upper = (count // 2).clamp(max=8).view(1, -1, 1).expand(1, -1, c)
        med = (ranked.gather(0, lower) + ranked.gather(0, upper) + 1).div(2, rounding_mode="floor")
        plain = values.sort(dim=0).values[4:5]
        med = torch.where((count == 0).view(1, -1, 1), plain, med)
        out.view(-1, c)[where] = med[0].to(torch.uint8)
    return out[:, 1:-1, 1:-1]


def wiener_kernel(
    x: torch.Tensor, tol: int, noise_power: float | None, masked: bool
) -> torch.Tensor:
    """Spectral Wiener filter per image and channel (float64 FFT).

    Gain per frequency ``G = max(0, 1 - noise_power / P)``, ``P = |X|^2 / (H W)`` the
    periodogram, the DC term kept. With ``noise_power=None`` the white-noise power of
    each image and channel is the mean square of the impulse residual
    ``x - coherent_filter(x)``, i.e. the power of the salt-and-pepper component.
    """
    n, h, w, c = x.shape
    dtype = torch.float32 if x.device.type == "mps" else torch.float64  # MPS: no float64
    xf = x.permute(0, 3, 1, 2).to(dtype)
    if noise_power is None:
        residual = xf - coherent_kernel(x, tol).permute(0, 3, 1, 2).to(dtype)
        sigma2 = residual.square().mean(dim=(-2, -1), keepdim=True)
    else:
        sigma2 = torch.tensor(float(noise_power), dtype=dtype, device=x.device)
    spec = torch.fft.rfft2(xf)
    power = spec.real.square() + spec.imag.square()
    power = power / (h * w)
    gain = (1.0 - sigma2 / power.clamp(min=1e-12)).clamp(min=0.0)
    gain[..., 0, 0] = 1.0
    y = torch.fft.irfft2(spec * gain, s=(h, w)).round().clamp(0, 255).to(torch.uint8)
    y = y.permute(0, 2, 3, 1)
    if masked:
        y = torch.where(coherent_mask(x, tol), y, x)
    return y.contiguous()


def apply_chunked(kernel: Callable[..., torch.Tensor], x: torch.Tensor, **kw) -> torch.Tensor:
    """Run ``kernel(chunk, **kw)`` over chunks of the batch; the result is independent
    of the chunk size (every kernel works per image)."""
    if x.shape[0] == 0:
        return x.clone()
    budget = GPU_CHUNK_BYTES if x.device.type == "cuda" else CPU_CHUNK_BYTES
    step = max(1, budget // max(1, x[0].numel()))
    if step >= x.shape[0]:
        return kernel(x, **kw).contiguous()
    out = torch.empty_like(x)
    for start in range(0, x.shape[0], step):
        out[start : start + step] = kernel(x[start : start + step], **kw)
    return out
