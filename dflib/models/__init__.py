"""Architecture zoo: every model of ``docs/writeups.md#architectures``, one file each, behind a registry.

>>> from dflib.models import create_model, list_models
>>> model = create_model("xception_resnet50")       # 2 logits, random weights
>>> model.default_cfg.input_size, model.default_cfg.mean
((3, 196, 196), (0.0, 0.0, 0.0))

Every model exposes ``forward_features``, ``forward_head`` and ``forward`` and carries a
:class:`ModelCfg` as ``default_cfg`` (input size, normalisation, outputs). How each is
trained (optimiser, loss, epochs, transforms) is not here: it is data in
:mod:`dflib.train.config`, a layer above the models.

- :mod:`~dflib.models._base`: the default config and the three-step forward every model
  shares; :mod:`~dflib.models._layers`: building blocks used by several architectures;
  :mod:`~dflib.models._registry`: name -> builder (``create_model``, ``list_models``);
  :mod:`~dflib.models.cost`: FLOPs of one image;
- one file per architecture: :mod:`~dflib.models.xception_resnet50`,
  :mod:`~dflib.models.resnet50`, :mod:`~dflib.models.freqnet`,
  :mod:`~dflib.models.hybrid_xception_freq_transformer` (write-up 1);
  :mod:`~dflib.models.deepfakenet`, :mod:`~dflib.models.hrnet_artifact`,
  :mod:`~dflib.models.custom_resnet`, :mod:`~dflib.models.rgb_fft` (write-up 2).

Nothing is downloaded: there are no pretrained weights (``docs/writeups.md#task-and-data``).
"""

from torch import nn

# Importing the architecture modules registers them.
from . import (  # noqa: F401
    custom_resnet,
    deepfakenet,
    freqnet,
    hrnet_artifact,
    hybrid_xception_freq_transformer,
    resnet50,
    rgb_fft,
    xception_resnet50,
)
from ._base import IMAGENET_MEAN, IMAGENET_STD, ClassifierBase, ModelCfg
from ._registry import create_model, list_models, model_cfg, register_model

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ClassifierBase",
    "ModelCfg",
    "count_params",
    "create_model",
    "list_models",
    "model_cfg",
    "register_model",
]


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not) of a model."""
    return sum(p.numel() for p in model.parameters())
