"""RGB + FFT: the image and its log-magnitude spectrum, stacked as 6 input channels.

Idea: up-sampling in a generator leaves periodic peaks in the Fourier spectrum. The
model computes, per colour channel, the centred log-magnitude spectrum
``log(1 + |FFT(x)|)`` (standardised per image) and feeds ``[R, G, B, |F_R|, |F_G|,
|F_B|]`` to the same small ResNet as ``custom_resnet``, so the two rows of the
comparison differ only by the spectrum channels.

Source: write-up 2's table ("RGB + FFT" input model, ``docs/writeups.md#write-up-2``; val F1 ~0.60). The body
is ours (``CustomResNet`` with a 6-channel stem): 2,803,841 parameters with 1 output.

Input contract: RGB ``(N, 3, H, W)``, ImageNet normalisation, any H, W >= 64; trained
at 256x256. The spectrum is computed inside the model (float32, autocast off).
Output: 1 logit (BCEWithLogits).
"""

from __future__ import annotations

import torch

from ._base import IMAGENET_MEAN, IMAGENET_STD, ModelCfg
from ._layers import fft_log_magnitude
from ._registry import register_model
from .custom_resnet import CustomResNet

__all__ = ["RgbFFTNet"]


class RgbFFTNet(CustomResNet):
    """``CustomResNet`` over RGB plus the per-channel log-magnitude spectrum."""

    def __init__(self, num_classes: int = 1, in_chans: int = 3, **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_chans=2 * in_chans, **kwargs)
        self.in_chans = in_chans  # what callers pass; the stem sees twice as many

    def spectrum_input(self, x: torch.Tensor) -> torch.Tensor:
        """The 6-channel input the backbone sees: RGB followed by its spectra."""
        return torch.cat([x, fft_log_magnitude(x)], dim=1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward_features(self.spectrum_input(x))


@register_model(
    ModelCfg(
        name="rgb_fft",
        num_classes=1,
        input_size=(3, 256, 256),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        source="write-up 2 table: RGB + FFT input model (docs/writeups.md#write-up-2)",
    )
)
def rgb_fft(num_classes: int = 1, **kwargs) -> RgbFFTNet:
    """RGB + FFT log-magnitude channels into the ``custom_resnet`` body."""
    return RgbFFTNet(num_classes=num_classes, **kwargs)
