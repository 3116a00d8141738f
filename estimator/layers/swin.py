"""Swin Transformer's layers on an (H, W, C) map of patch tokens (Liu, Lin, Cao, Hu, Wei,
Zhang, Lin & Guo 2021, "Swin Transformer: Hierarchical Vision Transformer using Shifted
Windows", ICCV, arXiv:2103.14030): self-attention inside non-overlapping M x M windows, with
a learned relative position bias and, every other block, windows shifted by M/2 (section 3.2),
and the patch merging layer that halves the resolution between stages (section 3.1).

The map stays (H, W, C), rows of tokens in raster order, so LayerNorm, MLP and linear layers
act on its last dim as they do on a (T, d) sequence.
"""

import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import (Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, normal_weights,
                       register)


def _map(x: Shape, kind: str) -> tuple[int, int, int]:
    if len(x) != 3:
        raise ShapeError(f"{kind} takes an (H, W, C) map of tokens, got {tuple(x)}")
    return x[0], x[1], x[2]


@functools.cache
def _module():
    import torch
    from torch import nn

    class WindowAttention(nn.Module):
        """(W-)MSA and SW-MSA of one Swin block: cyclic shift, window partition, attention with
        the relative position bias (and the shifted windows' mask), window merge, shift back."""

        def __init__(self, dim, heads, window, shift, qkv_bias, height, width):
            super().__init__()
            m, self.heads, self.window, self.shift = window, heads, window, shift
            self.hw = (height, width)
            self.scale = (dim // heads) ** -0.5
            self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
            self.proj = nn.Linear(dim, dim)
            self.relative_position_bias_table = nn.Parameter(
                normal_weights((2 * m - 1) ** 2, heads, std=0.02))
            ij = torch.stack(torch.meshgrid(torch.arange(m), torch.arange(m), indexing="ij")).flatten(1)
            rel = (ij[:, :, None] - ij[:, None, :]) + (m - 1)          # (2, N, N), in 0 .. 2M - 2
            self.register_buffer("index", rel[0] * (2 * m - 1) + rel[1], persistent=False)
            if shift:  # section 3.2: regions of the shifted map that must not attend to each other
                region = torch.zeros(height, width, dtype=torch.long)
                cuts = (slice(0, -m), slice(-m, -shift), slice(-shift, None))
                for a, hs in enumerate(cuts):
                    for b, ws in enumerate(cuts):
                        region[hs, ws] = 3 * a + b
                ids = self._windows(region[None, :, :, None]).squeeze(-1)   # (nW, N)
                mask = (ids[:, :, None] != ids[:, None, :]).float() * -100.0
                self.register_buffer("mask", mask, persistent=False)

        def _windows(self, x):
            b, h, w, c = x.shape
            m = self.window
            x = x.view(b, h // m, m, w // m, m, c).permute(0, 1, 3, 2, 4, 5)
            return x.reshape(-1, m * m, c)

        def forward(self, x):
            b, h, w, c = x.shape
            m, heads = self.window, self.heads
            if self.shift:
                x = torch.roll(x, (-self.shift, -self.shift), dims=(1, 2))
            win = self._windows(x)                                        # (B nW, N, C)
            n = win.shape[1]
            q, k, v = self.qkv(win).reshape(-1, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
            attn = (q * self.scale) @ k.transpose(-2, -1)                # (B nW, h, N, N)
            bias = self.relative_position_bias_table[self.index.flatten()].view(n, n, heads)
            attn = attn + bias.permute(2, 0, 1)[None]
            if self.shift:
                nw = self.mask.shape[0]
                attn = (attn.view(b, nw, heads, n, n) + self.mask[None, :, None]).view(-1, heads, n, n)
            out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(-1, n, c)
            out = self.proj(out).view(b, h // m, w // m, m, m, c).permute(0, 1, 3, 2, 4, 5)
            out = out.reshape(b, h, w, c)
            if self.shift:
                out = torch.roll(out, (self.shift, self.shift), dims=(1, 2))
            return out

    class PatchMerge(nn.Module):
        """(H, W, C) -> (H/2, W/2, 4C): each 2 x 2 group of neighbours concatenated."""

        def forward(self, x):
            return torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)

    return WindowAttention, PatchMerge


@register
class WindowAttention(LayerSpec):
    """Window multi-head self-attention of a Swin block on an (H, W, C) map (Liu et al. 2021,
    section 3.2): the map cut into non-overlapping M x M windows, attention inside each, a
    learned relative position bias B (Eq. 4) from a table of (2M - 1)² entries per head; with
    ``shift`` the windows are displaced by floor(M/2) (cyclic shift, masked, SW-MSA). Output
    shape = input shape.

    As the authors' code does (``SwinTransformerBlock``): when the map is no larger than a
    window (min(H, W) <= M) the window is the whole map and there is no shift. H and W must be
    multiples of the window."""

    kind: Literal["window_attention"] = "window_attention"
    heads: Size = Field(..., description="attention heads h (Swin: C / 32)")
    window: Size = Field(7, description="window side M (7 in Swin-T/S/B/L at 224)")
    shift: bool = Field(False, description="shifted windows (SW-MSA, every second block); the count is unchanged")
    qkv_bias: bool = Field(True, description="bias on the q, k, v projection")

    family: ClassVar[str] = "swin"
    EXAMPLE = {"input": {"shape": [4, 4, 8]},
               "layer": {"kind": "window_attention", "heads": 2, "window": 2, "shift": True}}

    def _dims(self, x: Shape) -> tuple[int, int, int, int, int]:
        height, width, c = _map(x, self.kind)
        m, shift = self.window, (self.window // 2 if self.shift else 0)
        if min(height, width) <= m:
            m, shift = min(height, width), 0
        if height % m or width % m:
            raise ShapeError(f"window {m} does not divide the {height} x {width} map")
        if c % self.heads:
            raise ShapeError(f"heads={self.heads} does not divide C={c}")
        return height, width, c, m, shift

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._dims(x)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """With n = H·W tokens of width C, windows of N = M² tokens, h heads: params = 3·C·C
        (+ 3·C) (qkv) + C·C + C (proj) + (2M - 1)²·h (the bias table); FLOPs = 2·n·C·3C (qkv)
        + 2·n·N·C (scores, each window's N x N for every head of C/h) + 2·n·N·C (values) +
        2·n·C·C (proj): the paper's Eq. 2, 4hwC² + 2M²hwC multiply-adds. other: softmax and
        scaling (SOFTMAX + 1) per logit, the bias added to every logit (and the mask too
        when shifted), the projection biases."""
        height, width, c, m, shift = self._dims(x)
        n, win, h = height * width, m * m, self.heads
        p = {"qkv.weight": Param((3 * c, c), "attention"), "proj.weight": Param((c, c), "attention"),
             "proj.bias": Param((c,), "attention"),
             "relative_position_bias_table": Param(((2 * m - 1) ** 2, h), "attention")}
        if self.qkv_bias:
            p["qkv.bias"] = Param((3 * c,), "attention")
        logits = h * n * win
        flops = 2 * n * c * 3 * c + 2 * 2 * n * win * c + 2 * n * c * c
        other = (costs.BIAS * (3 * n * c if self.qkv_bias else 0) + costs.BIAS * n * c
                 + (costs.SOFTMAX + 1) * logits + costs.BIAS * logits * (2 if shift else 1))
        return Formula(p, flops=flops, other=other)

    def build(self, x: Shape, ctx: Ctx):
        height, width, c, m, shift = self._dims(x)
        return _module()[0](c, self.heads, m, shift, self.qkv_bias, height, width)


@register
class PatchMerge(LayerSpec):
    """Swin's patch merging (Liu et al. 2021, section 3.1): the features of each group of 2 x 2
    neighbouring patches concatenated, (H, W, C) -> (H/2, W/2, 4C); the spec follows it with
    the LayerNorm and the bias-free 4C -> 2C linear layer of the paper. A gather: no
    parameters, no FLOPs."""

    kind: Literal["patch_merge"] = "patch_merge"

    family: ClassVar[str] = "swin"
    EXAMPLE = {"input": {"shape": [4, 6, 3]}, "layer": {"kind": "patch_merge"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        height, width, c = _map(x, self.kind)
        if height % 2 or width % 2:
            raise ShapeError(f"patch_merge needs an even map, got {height} x {width}")
        return (height // 2, width // 2, 4 * c)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = 0; FLOPs = 0; other = 0 (a rearrangement of the input)."""
        self.output_shape(x, ctx)
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        self.output_shape(x, ctx)
        return _module()[1]()
