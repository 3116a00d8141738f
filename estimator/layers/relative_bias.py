"""T5's relative position bias: a learned scalar per head for each bucket of relative distance.

The table lives once per stack (T5 keeps it in the first layer and passes the computed bias to
every later layer); here it is one layer whose output, a (heads, T, T) tensor, attention layers
read with ``position_bias: PATH`` and add to their logits.
"""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import (Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, normal_weights,
                       register)


@functools.cache
def _module():
    import math

    import torch
    from torch import nn
    import torch.nn.functional as F

    def bucket(rel, bidirectional, n, max_distance):
        """Raffel et al. 2020, s2.1 (and the released mesh-tensorflow code): half the buckets
        hold exact distances, the rest logarithmically wider ones up to ``max_distance``."""
        out = torch.zeros_like(rel)
        if bidirectional:
            n //= 2
            out = out + (rel > 0).long() * n
            rel = rel.abs()
        else:
            rel = -torch.clamp(rel, max=0)
        exact = n // 2
        wide = exact + (torch.log(rel.float().clamp(min=1) / exact) / math.log(max_distance / exact)
                        * (n - exact)).long()
        wide = torch.clamp(wide, max=n - 1)
        return out + torch.where(rel < exact, rel, wide)

    class RelativeBias(nn.Module):
        def __init__(self, heads, buckets, max_distance, bidirectional):
            super().__init__()
            self.weight = nn.Parameter(normal_weights(buckets, heads, std=0.02))
            self.buckets, self.max_distance, self.bidirectional = buckets, max_distance, bidirectional

        def forward(self, x):
            t = x.shape[1]
            pos = torch.arange(t, device=x.device)
            rel = pos[None, :] - pos[:, None]  # key position - query position
            ids = bucket(rel, self.bidirectional, self.buckets, self.max_distance)
            bias = F.embedding(ids, self.weight).permute(2, 0, 1)  # (heads, T, T)
            return bias.unsqueeze(0).expand(x.shape[0], -1, -1, -1)

    return RelativeBias


@register
class RelativeBias(LayerSpec):
    """T5 relative position bias (Raffel et al. 2020, "Exploring the Limits of Transfer
    Learning...", JMLR, s2.1): (T, d) -> a (heads, T, T) bias for attention logits.

    params = buckets x heads (T5: 32 x heads per stack); a table lookup: 0 FLOPs (the bucket
    ids are index arithmetic on positions, like any positional lookup). Attention layers take
    it with ``position_bias: PATH`` (adding heads x T x S to their other FLOPs). Encoders use
    ``bidirectional: true`` (half the buckets for keys after the query), decoders ``false``.
    """

    kind: Literal["relative_bias"] = "relative_bias"
    heads: Size = Field(..., description="attention heads (one scalar per head per bucket)")
    buckets: Size = Field(32, description="relative-distance buckets")
    max_distance: Size = Field(128, description="distance where the widest bucket starts")
    bidirectional: bool = Field(True, description="separate buckets for keys before and after the query")

    family: ClassVar[str] = "attention"
    EXAMPLE = {"input": {"shape": [6, 16]},
               "layer": {"kind": "relative_bias", "heads": 4, "buckets": 8, "max_distance": 16}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if len(x) != 2:
            raise ShapeError(f"relative_bias takes a (T, d) sequence, got {tuple(x)}")
        if self.buckets < (4 if self.bidirectional else 2):
            raise ShapeError(f"relative_bias needs at least {4 if self.bidirectional else 2} buckets")
        return (self.heads, x[0], x[0])

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self.output_shape(x, ctx)
        return Formula({"weight": Param((self.buckets, self.heads), "embedding")})

    def build(self, x: Shape, ctx: Ctx):
        return _module()(self.heads, self.buckets, self.max_distance, self.bidirectional)
