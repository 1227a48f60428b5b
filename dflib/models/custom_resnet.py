"""Custom ResNet: a plain, small ResNet with ordinary early pooling (the weaker baseline).

Idea: the textbook recipe (7x7/2 conv, 3x3/2 max-pool, four stages of basic blocks,
32 -> 256 channels, global average pooling). It down-samples by 4 before any residual
block, which is exactly what the artifact hypothesis of write-up 2 says destroys the
generator's high-frequency traces; it is kept as the reference point for
``hrnet_artifact`` (no pooling) and ``rgb_fft`` (same body, spectrum channels added).

Source: write-up 2's table ("custom ResNet", val F1 ~0.65; ``docs/writeups.md#write-up-2``). Widths and
depths are ours (ResNet-18 layout at half width): 2,799,137 parameters with 1 output.

Input contract: RGB ``(N, 3, H, W)``, ImageNet normalisation, any H, W >= 64; trained at
256x256 like the rest of write-up 2. Output: 1 logit (BCEWithLogits), as in write-up 2.
"""

from __future__ import annotations

from torch import nn

from ._base import IMAGENET_MEAN, IMAGENET_STD, ClassifierBase, ModelCfg, init_weights
from ._layers import ConvBnAct, make_stage
from ._registry import register_model

__all__ = ["CustomResNet"]


class CustomResNet(ClassifierBase):
    """7x7/2 stem + max-pool, four basic-block stages, global average pool, linear."""

    def __init__(
        self,
        num_classes: int = 1,
        in_chans: int = 3,
        widths: tuple[int, ...] = (32, 64, 128, 256),
        depths: tuple[int, ...] = (2, 2, 2, 2),
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__(num_classes, in_chans, widths[-1], drop_rate)
        self.stem = nn.Sequential(ConvBnAct(in_chans, widths[0], 7, 2), nn.MaxPool2d(3, 2, 1))
        stages: list[nn.Module] = []
        in_chs = widths[0]
        for i, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            stages.append(make_stage(in_chs, width, depth, stride=1 if i == 0 else 2))
            in_chs = width
        self.stages = nn.Sequential(*stages)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.num_features, num_classes)
        init_weights(self)


@register_model(
    ModelCfg(
        name="custom_resnet",
        num_classes=1,
        input_size=(3, 256, 256),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        source="write-up 2 table: custom ResNet with early pooling (docs/writeups.md#write-up-2)",
    )
)
def custom_resnet(num_classes: int = 1, **kwargs) -> CustomResNet:
    """Small plain ResNet with early max-pooling (write-up 2's weaker baseline)."""
    return CustomResNet(num_classes=num_classes, **kwargs)
