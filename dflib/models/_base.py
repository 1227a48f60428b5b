"""What every model shares: its default config and the three-step forward interface.

Each architecture declares a :class:`ModelCfg` (input size, normalisation, number of
outputs, where it comes from) and subclasses :class:`ClassifierBase`, so a
notebook can treat every model alike::

    feats = model.forward_features(x)    # backbone output (map or tokens)
    logits = model.forward_head(feats)   # pooling + classifier
    logits = model(x)                    # both
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# "no normalisation": the write-up 1 transforms end at ToTensor(), pixels in [0, 1].
UNIT_MEAN = (0.0, 0.0, 0.0)
UNIT_STD = (1.0, 1.0, 1.0)
MIN_INPUT_SIZE = 64


@dataclass(frozen=True)
class ModelCfg:
    """Default configuration of a registered model (timm's ``default_cfg``, typed).

    Attributes:
        name: registry name.
        num_classes: outputs of the head as its recipe trains it: 2 logits (softmax) or
            1 logit (sigmoid). The loss, like every training setting, is the recipe's
            (:mod:`dflib.train.config`), not the model's.
        input_size: ``(channels, height, width)`` the recipe trains at.
        mean: per-channel normalisation mean (after ``ToTensor``, pixels in [0, 1]).
        std: per-channel normalisation std.
        min_input_size: smallest ``(channels, height, width)`` the model accepts.
        source: where the architecture comes from (write-up and ``docs/writeups.md`` anchor).
    """

    name: str
    num_classes: int
    input_size: tuple[int, int, int] = (3, 196, 196)
    mean: tuple[float, float, float] = UNIT_MEAN
    std: tuple[float, float, float] = UNIT_STD
    min_input_size: tuple[int, int, int] = (3, MIN_INPUT_SIZE, MIN_INPUT_SIZE)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, for ``params.json`` of a run."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> ModelCfg:
        """A copy with some fields changed (e.g. ``num_classes``)."""
        return dataclasses.replace(self, **changes)


def check_input(x: torch.Tensor, in_chans: int, min_size: int = MIN_INPUT_SIZE) -> None:
    """Fail early, with a fix, on inputs the models are not built for."""
    if x.ndim != 4 or x.shape[1] != in_chans:
        raise ValueError(
            f"expected a batch of images shaped (N, {in_chans}, H, W), got {tuple(x.shape)}; "
            "add a batch dimension with x.unsqueeze(0) or convert the images to RGB."
        )
    if min(x.shape[-2:]) < min_size:
        raise ValueError(
            f"images must be at least {min_size}x{min_size} px, got "
            f"{x.shape[-2]}x{x.shape[-1]}; resize them (the recipes use 196 or 256 px)."
        )


def init_weights(module: nn.Module) -> None:
    """He-normal convolutions, unit BatchNorm, small normal linear layers."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ClassifierBase(nn.Module):
    """Shared interface: ``forward = forward_head(forward_features(x))``.

    Subclasses set ``num_classes``, ``num_features`` and ``in_chans``. The defaults
    below serve the common CNN shape (``stem`` -> ``stages`` -> ``global_pool`` ->
    dropout ``drop_rate`` -> ``fc``); other shapes override them. The registry attaches
    ``default_cfg``.
    """

    default_cfg: ModelCfg
    num_classes: int
    num_features: int
    in_chans: int = 3

    def __init__(
        self, num_classes: int, in_chans: int, num_features: int, drop_rate: float = 0.0
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.num_features = num_features
        self.drop_rate = drop_rate

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone: images ``(N, C, H, W)`` to features before pooling."""
        return self.stages(self.stem(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pooling and classifier; ``pre_logits=True`` stops before the last layer."""
        x = torch.flatten(self.global_pool(x), 1)
        x = nn.functional.dropout(x, self.drop_rate, self.training)
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        """The final layer (e.g. to re-initialise it for fine-tuning)."""
        return self.fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``(N, C, H, W)``, normalised as ``default_cfg`` says, to logits."""
        check_input(x, self.in_chans)
        return self.forward_head(self.forward_features(x))
