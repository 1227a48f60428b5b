"""From a uint8 batch to the model's input, on the device, with per-sample augmentation.

Batches travel from the cache as uint8 NHWC (a quarter of float32's bytes, pinned,
copied without blocking); conversion, augmentation and normalisation then run where the
model runs. kornia.augmentation draws random parameters *per sample* for a whole batch
at once, so a GPU never waits for per-image Python code; the same code runs on CPU.
Its randomness comes from torch's global generator, which the engine seeds per epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# The write-ups name the operations, not their strengths: these are torchvision's usual ones.
CROP_SCALE = (0.8, 1.0)
JITTER = {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.02}
BLUR = {"kernel_size": (5, 5), "sigma": (0.1, 2.0), "p": 0.3}
SHARPNESS = {"sharpness": 1.0, "p": 0.5}


def build_augmentations(names: Sequence[str], img_size: int) -> nn.Module:
    """kornia augmentations for the recipe's ``names``, in a fixed order (geometry first)."""
    import kornia.augmentation as K

    makers = {
        "resized_crop": lambda: K.RandomResizedCrop((img_size, img_size), scale=CROP_SCALE),
        "hflip": lambda: K.RandomHorizontalFlip(p=0.5),
        "color_jitter": lambda: K.ColorJitter(**JITTER, p=0.8),
        "gaussian_blur": lambda: K.RandomGaussianBlur(**BLUR),
        "sharpness": lambda: K.RandomSharpness(**SHARPNESS),
    }
    unknown = sorted(set(names) - set(makers))
    if unknown:
        raise ValueError(f"unknown augmentations {unknown}; expected names from {sorted(makers)}")
    ops = [makers[name]() for name in makers if name in names]
    return nn.Sequential(*ops) if ops else nn.Identity()


class DevicePipeline(nn.Module):
    """uint8 NHWC batch on any device -> normalised float NCHW, augmented in training.

    Args:
        mean, std: the model's normalisation (``model.default_cfg``), pixels in [0, 1].
        augment: names of the training augmentations (empty: none).
        img_size: side of the images (for RandomResizedCrop's output).
        channels_last: return NHWC-strided tensors (faster convolutions on CUDA).
    """

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        augment: Sequence[str] = (),
        img_size: int = 196,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        self.augment = build_augmentations(augment, img_size)
        self.channels_last = channels_last

    def forward(self, batch: torch.Tensor, train: bool = False) -> torch.Tensor:
        x = batch.permute(0, 3, 1, 2).float().div_(255.0)
        if train:
            x = self.augment(x)
        x = (x - self.mean) / self.std
        if self.channels_last:
            return x.contiguous(memory_format=torch.channels_last)
        return x.contiguous()
