"""The attention of ViTDet's plain backbone and SAM's image encoder on an (H, W, C) map of patch
tokens: window attention with zero padding, or global attention over the whole map, both with
decomposed relative positions (Li, Mao, Girshick & He 2022, "Exploring Plain Vision Transformer
Backbones for Object Detection", ECCV, arXiv:2203.16527, section 3: non-overlapping windows,
a few global blocks, relative position biases; Li, Wu, Fan, Mangalam, Xiong, Malik &
Feichtenhofer 2022, "MViTv2", CVPR, arXiv:2112.01526, section 3.1, Eq. 4: the decomposed
relative position embedding R_{p(i),p(j)} = R^h_{h(i),h(j)} + R^w_{w(i),w(j)}, added to the
logits as q_i · R; Kirillov et al. 2023, "Segment Anything", ICCV, arXiv:2304.02643,
Appendix A: a ViT-H/16 with 14 x 14 windows and four global blocks).
"""

import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Count0, Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, register


@functools.cache
def _module():
    import torch
    from torch import nn
    import torch.nn.functional as F

    def rel_index(q, k):
        """(q, k) indices into a (2·max(q, k) - 1)-row table of relative offsets."""
        qc = torch.arange(q)[:, None] * max(k / q, 1.0)
        kc = torch.arange(k)[None, :] * max(q / k, 1.0)
        return (qc - kc + (k - 1) * max(q / k, 1.0)).long()

    class RelPosAttention(nn.Module):
        """Windows (padded to a multiple of the window) or the whole map; q·k plus the
        decomposed relative positions q·R^h and q·R^w; softmax; values; projection."""

        def __init__(self, dim, heads, window, size, qkv_bias, hw):
            super().__init__()
            self.heads, self.window, self.hw, self.dim = heads, window, hw, dim
            self.scale = (dim // heads) ** -0.5
            self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
            self.proj = nn.Linear(dim, dim)
            e = dim // heads
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * size[0] - 1, e))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * size[1] - 1, e))
            self.register_buffer("index_h", rel_index(size[0], size[0]), persistent=False)
            self.register_buffer("index_w", rel_index(size[1], size[1]), persistent=False)

        def attend(self, x, h, w):                            # (B', h, w, C), sizes fixed at build
            c, heads = self.dim, self.heads
            n, e = h * w, c // heads
            qkv = self.qkv(x).reshape(-1, n, 3, heads, e).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.reshape(3, -1, n, e).unbind(0)   # (B' heads, N, e) each
            attn = (q * self.scale) @ k.transpose(-2, -1)  # (B' heads, N, N)
            rq = q.reshape(-1, h, w, e)
            rel_h = torch.einsum("bhwc,hkc->bhwk", rq, self.rel_pos_h[self.index_h])
            rel_w = torch.einsum("bhwc,wkc->bhwk", rq, self.rel_pos_w[self.index_w])
            attn = (attn.view(-1, h, w, h, w) + rel_h[:, :, :, :, None]
                    + rel_w[:, :, :, None, :]).view(-1, n, n)
            out = (attn.softmax(-1) @ v).view(-1, heads, h, w, e)
            return self.proj(out.permute(0, 2, 3, 1, 4).reshape(-1, h, w, c))

        def forward(self, x):                                 # (B, H, W, C)
            h, w = self.hw
            if not self.window:
                return self.attend(x, h, w)
            m, c = self.window, self.dim
            ph, pw = (m - h % m) % m, (m - w % m) % m         # zeros at the bottom and right
            x = F.pad(x, (0, 0, 0, pw, 0, ph))
            hp, wp = h + ph, w + pw
            win = x.view(-1, hp // m, m, wp // m, m, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, m, m, c)
            out = self.attend(win, m, m).view(-1, hp // m, wp // m, m, m, c).permute(0, 1, 3, 2, 4, 5)
            return out.reshape(-1, hp, wp, c)[:, :h, :w]

    return RelPosAttention


@register
class VitdetAttention(LayerSpec):
    """Multi-head self-attention on an (H, W, C) map with decomposed relative positions
    (MViTv2, Eq. 4), inside M x M windows (``window: M``; the map zero-padded at the bottom and
    right to multiples of M, as ViTDet and SAM do) or over the whole map (``window: 0``, the
    global blocks). Output shape = input shape.

    The relative position tables hold 2S - 1 rows of head width e for each axis, S the window
    side (or the map's height and width for global attention); every head reads the same
    tables (SAM's ``rel_pos_h``, ``rel_pos_w``)."""

    kind: Literal["vitdet_attention"] = "vitdet_attention"
    heads: Size = Field(..., description="attention heads h")
    window: Count0 = Field(14, description="window side M; 0 = global attention over the whole map")
    qkv_bias: bool = Field(True, description="bias on the q, k, v projection")

    family: ClassVar[str] = "vitdet"
    EXAMPLE = {"input": {"shape": [5, 5, 8]},
               "layer": {"kind": "vitdet_attention", "heads": 2, "window": 3}}

    def _dims(self, x: Shape):
        if len(x) != 3:
            raise ShapeError(f"vitdet_attention takes an (H, W, C) map of tokens, got {tuple(x)}")
        height, width, c = x
        if c % self.heads:
            raise ShapeError(f"heads={self.heads} does not divide C={c}")
        m = self.window
        if m:
            hp, wp = -(-height // m) * m, -(-width // m) * m
            return height, width, c, hp * wp, m * m, (m, m)
        return height, width, c, height * width, height * width, (height, width)

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._dims(x)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """With n tokens after padding (Hp·Wp; H·W for global attention), windows of N tokens
        (M², or H·W), sides (S_h, S_w) = (M, M) or (H, W), width C, h heads of e = C/h:
        params = 3·C·C (+ 3·C) (qkv) + C·C + C (proj) + (2·S_h - 1)·e + (2·S_w - 1)·e (the two
        tables); FLOPs = 2·n·C·3C (qkv, on the padded tokens) + 2·n·N·C (scores) + 2·n·N·C
        (values) + 2·n·(S_h + S_w)·C (the relative terms q·R^h, q·R^w: each query against the
        S_h offsets of its column and the S_w of its row, e wide, in every head) + 2·n·C·C
        (proj). other: softmax and scaling (SOFTMAX + 1) per logit, the two relative terms
        added to every logit, the projection biases."""
        _, _, c, n, win, (sh, sw) = self._dims(x)
        h = self.heads
        e = c // h
        p = {"qkv.weight": Param((3 * c, c), "attention"), "proj.weight": Param((c, c), "attention"),
             "proj.bias": Param((c,), "attention"),
             "rel_pos_h": Param((2 * sh - 1, e), "attention"),
             "rel_pos_w": Param((2 * sw - 1, e), "attention")}
        if self.qkv_bias:
            p["qkv.bias"] = Param((3 * c,), "attention")
        flops = (2 * n * c * 3 * c + 2 * 2 * n * win * c + 2 * n * (sh + sw) * c + 2 * n * c * c)
        logits = h * n * win
        other = (costs.BIAS * (3 * n * c if self.qkv_bias else 0) + costs.BIAS * n * c
                 + (costs.SOFTMAX + 1) * logits + 2 * costs.BIAS * logits)
        return Formula(p, flops=flops, other=other)

    def build(self, x: Shape, ctx: Ctx):
        height, width, c, _, _, size = self._dims(x)
        return _module()(c, self.heads, self.window, size, self.qkv_bias, (height, width))
