"""Building blocks shared by several architectures: conv-BN-act, a residual basic block,
and the two FFT operations (the feature-map high-pass layer, the log-magnitude spectrum).

The FFT functions run in float32 with autocast switched off (``torch.fft`` has no
bf16 kernels and fp16 only for power-of-two sizes) and hand back the caller's dtype and
memory format, so models that use them work under mixed precision and ``channels_last``.
"""

from __future__ import annotations

import torch
from torch import nn

from dflib.filters.frequency import highpass


def _is_channels_last(x: torch.Tensor) -> bool:
    return (
        x.ndim == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
    )


def _restore(out: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = out.to(like.dtype)
    if _is_channels_last(like):
        out = out.contiguous(memory_format=torch.channels_last)
    return out


def fft_log_magnitude(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Centred log-magnitude spectrum per channel, standardised per image and channel.

    Generator up-sampling leaves periodic peaks in this spectrum; standardising keeps its
    scale comparable to the RGB channels it is stacked with.
    """
    with torch.autocast(device_type=x.device.type, enabled=False):
        spec = torch.fft.fftshift(torch.fft.fft2(x.float(), norm="ortho"), dim=(-2, -1))
        mag = torch.log1p(spec.abs())
        mean = mag.mean(dim=(-2, -1), keepdim=True)
        std = mag.std(dim=(-2, -1), keepdim=True)
        out = (mag - mean) / (std + eps)
    return _restore(out, x)


class FFTHighPass(nn.Module):
    """The FFT high-pass (:func:`dflib.filters.frequency.highpass`, the DC bin always
    dropped) as a layer with no parameters: the maps' low frequencies below ``cutoff`` (a
    fraction of the Nyquist radius) removed, same shape, dtype and memory format back."""

    def __init__(self, cutoff: float = 0.25) -> None:
        super().__init__()
        self.cutoff = cutoff

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = highpass(x.float(), self.cutoff, drop_dc=True)
        return _restore(out, x)

    def extra_repr(self) -> str:
        return f"cutoff={self.cutoff}"


class ConvBnAct(nn.Sequential):
    """``k x k`` conv (no bias, 'same' padding) -> BatchNorm -> activation."""

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        act_layer: type[nn.Module] | None = nn.ReLU,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_chs, out_chs, kernel_size, stride, kernel_size // 2, groups=groups, bias=False
            ),
            nn.BatchNorm2d(out_chs),
        ]
        if act_layer is not None:
            layers.append(act_layer())
        super().__init__(*layers)


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs, projection shortcut when the shape changes."""

    def __init__(
        self, in_chs: int, out_chs: int, stride: int = 1, act_layer: type[nn.Module] = nn.ReLU
    ) -> None:
        super().__init__()
        self.conv1 = ConvBnAct(in_chs, out_chs, 3, stride, act_layer=act_layer)
        self.conv2 = ConvBnAct(out_chs, out_chs, 3, 1, act_layer=None)
        self.shortcut: nn.Module = (
            ConvBnAct(in_chs, out_chs, 1, stride, act_layer=None)
            if stride != 1 or in_chs != out_chs
            else nn.Identity()
        )
        self.act = act_layer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


def make_stage(
    in_chs: int,
    out_chs: int,
    depth: int,
    stride: int,
    act_layer: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """``depth`` basic blocks; the first one changes width and stride."""
    blocks = [BasicBlock(in_chs, out_chs, stride, act_layer)]
    blocks += [BasicBlock(out_chs, out_chs, 1, act_layer) for _ in range(depth - 1)]
    return nn.Sequential(*blocks)
