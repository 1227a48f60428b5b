"""FreqNet: residual blocks with FFT high-pass layers between them (about 2M parameters).

Idea: generator fingerprints live in the high frequencies (up-sampling checkerboards,
periodic spectral peaks), while image content lives in the low ones. So the image is
high-passed first, and between residual stages a frequency layer takes the feature map
through ``rfft2``, zeroes the low frequencies (radius below ``cutoff`` x Nyquist, the DC
term always) and returns with ``irfft2``, followed by a learned 1x1 conv. The network
therefore learns from fine detail only. The stem keeps full resolution (stride 1) so
that the first high-pass sees the pixels.

Source: write-up 1's FreqNet (``docs/writeups.md#architectures``; F1 0.48 there). Layer sizes are ours: the
write-up gives only "~2M parameters"; this build has 1,998,754 with 2 outputs.

Input contract: RGB ``(N, 3, H, W)``, pixels in [0, 1], any H, W >= 64; trained at
196x196. Output: 2 logits (weighted CrossEntropy). Works under autocast and with
``channels_last`` (the FFTs run in float32).
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ClassifierBase, ModelCfg, init_weights
from ._layers import ConvBnAct, FFTHighPass, make_stage
from ._registry import register_model

__all__ = ["FreqNet", "FrequencyLayer"]


class FrequencyLayer(nn.Sequential):
    """FFT high-pass of the feature map, then a learned 1x1 conv-BN-ReLU."""

    def __init__(self, chs: int, cutoff: float = 0.25) -> None:
        super().__init__(FFTHighPass(cutoff), ConvBnAct(chs, chs, 1))


class FreqNet(ClassifierBase):
    """Image high-pass -> stem -> [residual stage -> frequency layer] x 4 -> pool -> linear."""

    def __init__(
        self,
        num_classes: int = 2,
        in_chans: int = 3,
        stem_width: int = 32,
        widths: tuple[int, ...] = (32, 64, 160, 256),
        depths: tuple[int, ...] = (2, 2, 2, 1),
        cutoff: float = 0.25,
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__(num_classes, in_chans, widths[-1], drop_rate)
        self.input_highpass = FFTHighPass(cutoff)
        self.stem = ConvBnAct(in_chans, stem_width, 3, 1)
        layers: list[nn.Module] = []
        in_chs = stem_width
        for i, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            layers.append(make_stage(in_chs, width, depth, stride=2))
            if i < len(widths) - 1:  # between stages, not after the last one
                layers.append(FrequencyLayer(width, cutoff))
            in_chs = width
        self.stages = nn.Sequential(*layers)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.num_features, num_classes)
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(self.input_highpass(x)))


@register_model(
    ModelCfg(
        name="freqnet",
        num_classes=2,
        input_size=(3, 196, 196),
        source="write-up 1, FreqNet (docs/writeups.md#architectures)",
    )
)
def freqnet(num_classes: int = 2, **kwargs) -> FreqNet:
    """FreqNet with FFT high-pass layers between residual stages (~2M parameters)."""
    return FreqNet(num_classes=num_classes, **kwargs)
