"""Losses for the 5:1 data, written once for 1-logit and 2-logit heads.

Every loss works on the *fake logit* ``z``: the single output of a 1-logit head, or
``l1 - l0`` of a 2-logit head (``softmax(l)[1] == sigmoid(l1 - l0)``). So a recipe's
loss never depends on the head, and the probability of "fake" is ``sigmoid(z)`` for
both. Class weights are ``total / (2 * count)`` from the training split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

BCE_SHARE = 0.6  # write-up 2: 0.6 x BCE + 0.4 x Focal


@dataclass(frozen=True)
class Loss:
    """A loss and what it divides each batch's sum by.

    ``loss(logits, targets)`` is the batch's loss, the value a step minimises;
    ``loss.weight(targets)`` is what that value was normalised by (the batch's sum of class
    weights for ``"ce"``, its number of images otherwise). An epoch's loss is then
    ``sum(loss * weight) / sum(weight)``, the loss of the whole epoch taken as one batch,
    whatever the batch size: a mean of batch means would depend on the evaluation batch
    (64 on a CPU, 512 on CUDA), and the lr schedule, which reads it, with it.
    """

    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    normaliser: Callable[[torch.Tensor], torch.Tensor] | None = None  # None: the image count

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.fn(logits, targets)

    def weight(self, targets: torch.Tensor) -> float:
        """What the loss of a batch with these ``targets`` is divided by."""
        return float(self.normaliser(targets)) if self.normaliser else float(len(targets))


def fake_logit(logits: torch.Tensor) -> torch.Tensor:
    """The log-odds of "fake" per image, from ``(N,)``, ``(N, 1)`` or ``(N, 2)`` logits."""
    if logits.ndim == 1:
        return logits
    if logits.shape[1] == 1:
        return logits[:, 0]
    if logits.shape[1] == 2:
        return logits[:, 1] - logits[:, 0]
    raise ValueError(f"expected 1 or 2 logits per image, got shape {tuple(logits.shape)}")


def fake_probability(logits: torch.Tensor) -> torch.Tensor:
    """Probability of "fake" per image, whatever the head."""
    return torch.sigmoid(fake_logit(logits).float())


def _per_sample_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(
        fake_logit(logits).float(), targets.float(), reduction="none"
    )


def weighted_ce(weights: torch.Tensor) -> Loss:
    """Class-weighted cross-entropy, normalised as ``nn.CrossEntropyLoss(weight=...)``
    does (by the sum of the weights in the batch; ``weights`` on the targets' device)."""

    def loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        w = weights[targets]
        return (w * _per_sample_bce(logits, targets)).sum() / w.sum()

    return Loss(loss, lambda targets: weights[targets].sum())


def weighted_bce(weights: torch.Tensor) -> Loss:
    """BCEWithLogits with each image weighted by its class weight (mean over the batch;
    ``weights`` on the targets' device)."""

    def loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (weights[targets] * _per_sample_bce(logits, targets)).mean()

    return Loss(loss)


def focal(gamma: float = 2.0) -> Loss:
    """Focal loss ``(1 - p_t)^gamma x BCE``: easy examples (most real images) count less."""

    def loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        bce = _per_sample_bce(logits, targets)
        p_t = torch.exp(-bce)
        return ((1.0 - p_t) ** gamma * bce).mean()

    return Loss(loss)


def make_loss(
    kind: str, class_weights, focal_gamma: float = 2.0, device: torch.device | str = "cpu"
) -> Loss:
    """The loss a recipe names: ``"ce"``, ``"bce"`` or ``"bce_focal"``, for targets on
    ``device``.

    The class weights are put on ``device`` once, here: a copy from the host at every
    call would be a pageable host-to-device copy, which makes each step wait for the GPU.
    """
    weights = torch.as_tensor(class_weights, dtype=torch.float32, device=device)
    if kind == "ce":
        return weighted_ce(weights)
    if kind == "bce":
        return weighted_bce(weights)
    if kind == "bce_focal":
        bce, foc = weighted_bce(weights), focal(focal_gamma)
        return Loss(
            lambda logits, targets: (
                BCE_SHARE * bce(logits, targets) + (1 - BCE_SHARE) * foc(logits, targets)
            )
        )
    raise ValueError(f"unknown loss {kind!r}; expected 'ce', 'bce' or 'bce_focal'")
