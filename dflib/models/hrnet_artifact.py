"""Artifact-sensitive HRNet: no pooling, a high-resolution branch kept to the end.

Idea (write-up 2's hypothesis): GANs such as StyleGAN leave high-frequency traces
(checkerboards, up-sampling noise) that early pooling destroys. So the stem has no
pooling (a 3x3 conv, then a strided 3x3 conv: stride 2 in all), and, as in HRNet, the
stride-2 branch runs through the whole depth while lower-resolution branches (strides
4, 8, 16) are added one by one; after every module each branch receives the sum of all
branches (up-sampled with 1x1 conv + nearest, or down-sampled with strided 3x3 convs),
i.e. repeated multi-scale fusion. The head pools every branch globally and
concatenates them, so the full-resolution features reach the classifier directly.

Source: write-up 2's artifact-sensitive HRNet (``docs/writeups.md#architectures``; val F1 ~0.80, less
stable). Widths, module counts and the head are ours: 2,243,905 parameters with
1 output. The recipe swaps GaussianBlur for RandomAdjustSharpness.

Input contract: RGB ``(N, 3, H, W)``, ImageNet normalisation, any H, W >= 64 (odd
sizes are fine: up-sampling targets the exact branch size); trained at 256x256.
Output: 1 logit.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._base import IMAGENET_MEAN, IMAGENET_STD, ClassifierBase, ModelCfg, init_weights
from ._layers import BasicBlock, ConvBnAct
from ._registry import register_model

__all__ = ["HRModule", "HRNetArtifact"]


class HRModule(nn.Module):
    """Basic blocks on every branch, then fusion: branch i += every branch j resized."""

    def __init__(self, widths: tuple[int, ...], depth: int = 1) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*[BasicBlock(w, w) for _ in range(depth)]) for w in widths
        )
        self.fuse = nn.ModuleList()
        for i, w_out in enumerate(widths):
            row = nn.ModuleList()
            for j, w_in in enumerate(widths):
                if j == i:
                    row.append(nn.Identity())
                elif j > i:  # lower resolution: match channels, up-sample in forward
                    row.append(ConvBnAct(w_in, w_out, 1, act_layer=None))
                else:  # higher resolution: i - j strided convs
                    steps = [ConvBnAct(w_in, w_in, 3, 2) for _ in range(i - j - 1)]
                    steps.append(ConvBnAct(w_in, w_out, 3, 2, act_layer=None))
                    row.append(nn.Sequential(*steps))
            self.fuse.append(row)
        self.act = nn.ReLU()

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs, strict=True)]
        out = []
        for i, row in enumerate(self.fuse):
            total = xs[i]
            for j, op in enumerate(row):
                if j == i:
                    continue
                y = op(xs[j])
                if j > i:
                    y = F.interpolate(y, size=xs[i].shape[-2:], mode="nearest")
                total = total + y
            out.append(self.act(total))
        return out


class HRNetArtifact(ClassifierBase):
    """Pooling-free stem, 4 parallel branches (strides 2/4/8/16), GAP of every branch."""

    def __init__(
        self,
        num_classes: int = 1,
        in_chans: int = 3,
        widths: tuple[int, ...] = (24, 48, 96, 192),
        modules_per_stage: tuple[int, ...] = (1, 2, 1),
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__(num_classes, in_chans, sum(widths), drop_rate)
        if len(modules_per_stage) != len(widths) - 1:
            raise ValueError("need one module count per stage with >= 2 branches")
        self.stem = nn.Sequential(
            ConvBnAct(in_chans, widths[0], 3, 1), ConvBnAct(widths[0], widths[0], 3, 2)
        )
        self.layer1 = nn.Sequential(
            BasicBlock(widths[0], widths[0]), BasicBlock(widths[0], widths[0])
        )
        self.transitions = nn.ModuleList()
        self.stages = nn.ModuleList()
        for k, n_modules in enumerate(modules_per_stage, start=1):
            # a new, lower-resolution branch grows out of the lowest existing one
            self.transitions.append(ConvBnAct(widths[k - 1], widths[k], 3, 2))
            self.stages.append(nn.ModuleList(HRModule(widths[: k + 1]) for _ in range(n_modules)))
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.num_features, num_classes)
        init_weights(self)

    def forward_branches(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The final map of every branch, highest resolution first."""
        xs = [self.layer1(self.stem(x))]
        for transition, stage in zip(self.transitions, self.stages, strict=True):
            xs = xs + [transition(xs[-1])]
            for module in stage:
                xs = module(xs)
        return xs

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled branches, concatenated: ``(N, sum(widths))``.

        The branches have different sizes, so the spatial maps are pooled here; use
        :meth:`forward_branches` for the maps themselves.
        """
        return torch.cat(
            [torch.flatten(self.global_pool(b), 1) for b in self.forward_branches(x)], 1
        )

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = nn.functional.dropout(x, self.drop_rate, self.training)
        return x if pre_logits else self.fc(x)


@register_model(
    ModelCfg(
        name="hrnet_artifact",
        num_classes=1,
        input_size=(3, 256, 256),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        source="write-up 2, artifact-sensitive HRNet, experimental (docs/writeups.md#architectures)",
    )
)
def hrnet_artifact(num_classes: int = 1, **kwargs) -> HRNetArtifact:
    """HRNet-style artifact detector: no pooling, stride-2 branch kept to the end."""
    return HRNetArtifact(num_classes=num_classes, **kwargs)
