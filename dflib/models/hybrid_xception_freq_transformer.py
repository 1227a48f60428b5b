"""Hybrid Xception + FreqNet + Transformer (about 5M parameters).

Idea: three views of the same image. An Xception-style CNN (depthwise-separable convs,
residual 1x1 shortcuts, max-pool down-sampling) extracts local texture; a FreqNet branch
(FFT high-pass of the image and of its own feature maps) looks only at the fine
detail where generator artifacts live; a Transformer encoder with a CLS token relates
distant regions (a seam on one side, texture on the other). Skip connections carry
FreqNet features into the CNN: once at stride 8 (added) and once at stride 16, where
they are concatenated with the CNN map before the patch embedding. Every cell of that
stride-16 map is a patch, and the patches become the Transformer's tokens, with a
learned position embedding resized to the grid, so any input size works.

Source: write-up 1's hybrid Xception + FreqNet + Transformer (``docs/writeups.md#architectures``; F1 about
0.75). Sizes are ours: 4,855,042 parameters with 2 outputs.

Input contract: RGB ``(N, 3, H, W)``, pixels in [0, 1], any H, W >= 64; trained at
196x196 (13x13 = 169 tokens). Output: 2 logits (weighted CrossEntropy).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ._base import ClassifierBase, ModelCfg, init_weights
from ._layers import ConvBnAct, FFTHighPass
from ._registry import register_model

__all__ = ["HybridXceptionFreqTransformer", "SeparableConv", "XceptionBlock"]


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 -> pointwise 1x1 -> BN (Xception's separable conv)."""

    def __init__(self, in_chs: int, out_chs: int) -> None:
        super().__init__(
            nn.Conv2d(in_chs, in_chs, 3, 1, 1, groups=in_chs, bias=False),
            nn.Conv2d(in_chs, out_chs, 1, bias=False),
            nn.BatchNorm2d(out_chs),
        )


class XceptionBlock(nn.Module):
    """ReLU-SepConv-ReLU-SepConv-MaxPool(3, 2) plus a strided 1x1 conv shortcut."""

    def __init__(self, in_chs: int, out_chs: int) -> None:
        super().__init__()
        self.rep = nn.Sequential(
            nn.ReLU(),
            SeparableConv(in_chs, out_chs),
            nn.ReLU(),
            SeparableConv(out_chs, out_chs),
            nn.MaxPool2d(3, 2, 1),
        )
        self.skip = ConvBnAct(in_chs, out_chs, 1, 2, act_layer=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rep(x) + self.skip(x)


class HybridXceptionFreqTransformer(ClassifierBase):
    """CNN + FreqNet branch -> stride-16 patches -> CLS Transformer -> linear."""

    def __init__(
        self,
        num_classes: int = 2,
        in_chans: int = 3,
        cnn_widths: tuple[int, int, int, int] = (64, 128, 256, 512),
        freq_widths: tuple[int, int, int, int] = (32, 64, 128, 192),
        embed_dim: int = 256,
        depth: int = 6,
        num_heads: int = 8,
        mlp_ratio: float = 2.5,
        cutoff: float = 0.25,
        img_size: int = 196,
        drop_rate: float = 0.1,
    ) -> None:
        super().__init__(num_classes, in_chans, embed_dim, drop_rate)
        c0, c1, c2, c3 = cnn_widths
        f0, f1, f2, f3 = freq_widths
        # CNN: stride 2 stem, then three Xception blocks (strides 4, 8, 16)
        self.stem = nn.Sequential(ConvBnAct(in_chans, 32, 3, 2), ConvBnAct(32, c0, 3, 1))
        self.block1 = XceptionBlock(c0, c1)
        self.block2 = XceptionBlock(c1, c2)
        self.block3 = XceptionBlock(c2, c3)
        # FreqNet branch: high-pass, strided conv, repeated (strides 2, 4, 8, 16)
        self.freq8 = nn.Sequential(
            FFTHighPass(cutoff),
            ConvBnAct(in_chans, f0, 3, 2),
            FFTHighPass(cutoff),
            ConvBnAct(f0, f1, 3, 2),
            FFTHighPass(cutoff),
            ConvBnAct(f1, f2, 3, 2),
        )
        self.freq16 = nn.Sequential(FFTHighPass(cutoff), ConvBnAct(f2, f3, 3, 2))
        self.freq_skip8 = ConvBnAct(f2, c2, 1, act_layer=None)
        # patches -> tokens
        self.patch_embed = nn.Conv2d(c3 + f3, embed_dim, 1)
        grid = img_size
        for _ in range(4):  # every stride-2 layer maps n -> ceil(n / 2)
            grid = math.ceil(grid / 2)
        self.pos_embed = nn.Parameter(torch.zeros(1, embed_dim, grid, grid))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        layer = nn.TransformerEncoderLayer(
            embed_dim,
            num_heads,
            int(embed_dim * mlp_ratio),
            dropout=drop_rate,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)
        self.fc = nn.Linear(embed_dim, num_classes)
        init_weights(self)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Patch tokens ``(N, h * w, embed_dim)`` with position embedding, no CLS."""
        f8 = self.freq8(x)
        x = self.block2(self.block1(self.stem(x))) + self.freq_skip8(f8)
        x = torch.cat([self.block3(x), self.freq16(f8)], dim=1)
        x = self.patch_embed(x)
        pos = self.pos_embed
        if pos.shape[-2:] != x.shape[-2:]:
            pos = F.interpolate(pos, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return (x + pos.to(x.dtype)).flatten(2).transpose(1, 2)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Encoded tokens ``(N, 1 + h * w, embed_dim)``, CLS first, layer-normed."""
        tokens = self.tokens(x)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1).to(tokens.dtype)
        return self.norm(self.encoder(torch.cat([cls, tokens], dim=1)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = nn.functional.dropout(x[:, 0], self.drop_rate, self.training)
        return x if pre_logits else self.fc(x)


@register_model(
    ModelCfg(
        name="hybrid_xception_freq_transformer",
        num_classes=2,
        input_size=(3, 196, 196),
        source="write-up 1, hybrid Xception + FreqNet + Transformer (docs/writeups.md#architectures)",
    )
)
def hybrid_xception_freq_transformer(
    num_classes: int = 2, **kwargs
) -> HybridXceptionFreqTransformer:
    """Xception CNN + FreqNet branch + CLS-token Transformer (~5M parameters)."""
    return HybridXceptionFreqTransformer(num_classes=num_classes, **kwargs)
