"""DeepFakeNet: a residual SiLU CNN pooled two ways, one logit (write-up 2's final model).

Idea: a compact residual CNN (stem with initial down-sampling, four stages of basic
blocks at 32 -> 64 -> 128 -> 256 channels, SiLU activations). The last feature map is
pooled twice and the two vectors are concatenated: global average pooling (everything
counts the same) and adaptive context pooling, a learned attention over positions
(a 1x1 conv scores every position, a softmax over the map turns the scores into weights,
the features are averaged with them) so that a small blended or up-sampled region can
dominate. Dropout, then a linear layer to one logit.

Source: write-up 2's final model (``docs/writeups.md#architectures``). Depths and the head are ours:
2,805,089 parameters with 1 output.

Input contract: RGB ``(N, 3, H, W)``, ImageNet normalisation, any H, W >= 64; trained
at 256x256 (val/test Resize(256)). Output: 1 logit (0.6 BCE + 0.4 focal in the recipe).
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import IMAGENET_MEAN, IMAGENET_STD, ClassifierBase, ModelCfg, init_weights
from ._layers import ConvBnAct, make_stage
from ._registry import register_model

__all__ = ["AdaptiveContextPool", "DeepFakeNet"]


class AdaptiveContextPool(nn.Module):
    """Attention-weighted spatial pooling: ``sum_p softmax(w . x_p) x_p`` per image."""

    def __init__(self, chs: int) -> None:
        super().__init__()
        # no bias: a softmax ignores a constant shift, so a bias would never learn
        self.score = nn.Conv2d(chs, 1, 1, bias=False)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """Weights ``(N, 1, H, W)`` that sum to one over each map."""
        logits = self.score(x).flatten(2).float()
        return logits.softmax(dim=-1).to(x.dtype).view(x.shape[0], 1, *x.shape[-2:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.attention(x)).sum(dim=(-2, -1))


class DeepFakeNet(ClassifierBase):
    """SiLU stem (stride 2) -> 4 residual stages -> [GAP, context pool] -> dropout -> linear."""

    def __init__(
        self,
        num_classes: int = 1,
        in_chans: int = 3,
        widths: tuple[int, ...] = (32, 64, 128, 256),
        depths: tuple[int, ...] = (2, 2, 2, 2),
        drop_rate: float = 0.3,
    ) -> None:
        super().__init__(
            num_classes, in_chans, 2 * widths[-1], drop_rate
        )  # GAP and context pool, concatenated
        self.stem = nn.Sequential(
            ConvBnAct(in_chans, widths[0], 3, 2, act_layer=nn.SiLU),
            ConvBnAct(widths[0], widths[0], 3, 1, act_layer=nn.SiLU),
        )
        stages: list[nn.Module] = []
        in_chs = widths[0]
        for i, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            stride = 1 if i == 0 else 2
            stages.append(make_stage(in_chs, width, depth, stride, act_layer=nn.SiLU))
            in_chs = width
        self.stages = nn.Sequential(*stages)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.context_pool = AdaptiveContextPool(widths[-1])
        self.head_drop = nn.Dropout(drop_rate)
        self.fc = nn.Linear(self.num_features, num_classes)
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.cat([torch.flatten(self.global_pool(x), 1), self.context_pool(x)], dim=1)
        x = self.head_drop(x)
        return x if pre_logits else self.fc(x)


@register_model(
    ModelCfg(
        name="deepfakenet",
        num_classes=1,
        input_size=(3, 256, 256),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        source="write-up 2, final model (docs/writeups.md#architectures)",
    )
)
def deepfakenet(num_classes: int = 1, **kwargs) -> DeepFakeNet:
    """DeepFakeNet: residual SiLU CNN with GAP + adaptive context pooling, 1 logit."""
    return DeepFakeNet(num_classes=num_classes, **kwargs)
