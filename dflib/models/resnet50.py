"""ResNet-50 baseline: torchvision's ResNet-50, random weights, 2-output head.

Idea: the standard reference network; write-up 1 trained it from scratch with no
preprocessing for 30 epochs (F1 0.87) and with a selective masked blur (F1 about 0.3).

Source: write-up 1's ResNet-50 baseline (``docs/writeups.md#architectures``, ``#findings``). The class subclasses
``torchvision.models.ResNet`` with ``Bottleneck`` blocks ``[3, 4, 6, 3]`` (what
``resnet50(weights=None, num_classes=2)`` builds), so state-dict keys match
torchvision's; 23,512,130 parameters with 2 outputs.

Input contract: RGB ``(N, 3, H, W)``, pixels in [0, 1] ("no preprocessing"), any
H, W >= 64; trained at 196x196 like the rest of write-up 1. Output: 2 logits.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet

from ._base import ClassifierBase, ModelCfg
from ._registry import register_model

__all__ = ["ResNet50"]


class ResNet50(ClassifierBase, ResNet):
    """torchvision ResNet-50 with the dflib interface (``forward_features``/``forward_head``);
    weight names stay torchvision's, so its state dicts load unchanged."""

    def __init__(self, num_classes: int = 2, drop_rate: float = 0.0) -> None:
        ResNet.__init__(self, Bottleneck, [3, 4, 6, 3], num_classes=num_classes)
        self.num_classes = num_classes
        self.num_features = self.fc.in_features
        self.in_chans = 3
        self.drop_rate = drop_rate

    @property
    def global_pool(self) -> nn.Module:
        """torchvision's ``avgpool`` under the name :class:`ClassifierBase` uses."""
        return self.avgpool

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and the four stages: ``(N, 2048, H/32, W/32)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


@register_model(
    ModelCfg(
        name="resnet50",
        num_classes=2,
        input_size=(3, 196, 196),
        source="write-up 1, ResNet-50 baseline (docs/writeups.md#architectures); torchvision resnet50",
    )
)
def resnet50(num_classes: int = 2, **kwargs) -> ResNet50:
    """torchvision ResNet-50 from scratch (23,512,130 parameters with 2 outputs)."""
    return ResNet50(num_classes=num_classes, **kwargs)
