"""Embeddings: token tables and positional encodings (learned table or fixed sinusoidal).

Rotary position embeddings have no parameters and act on queries and keys: they are the
``rotary: true`` option of ``attention``.
"""
import functools
from typing import ClassVar, Literal, Optional

from pydantic import Field

from . import elementwise as costs
from .registry import (Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, numel,
                       normal_weights, register)


@register
class Embedding(LayerSpec):
    """A lookup table: token ids (T,) -> (T, dim). Params: vocab x dim. A gather, 0 FLOPs.

    A later ``linear`` with ``tie: <this path>`` reuses the table as output projection; the
    table is counted once (GPT-2, Transformer base)."""

    kind: Literal["embedding"] = "embedding"
    vocab: Size = Field(..., description="number of rows (vocabulary size)")
    dim: Size = Field(..., description="embedding width")

    family: ClassVar[str] = "embedding"
    takes_ids: ClassVar[bool] = True
    EXAMPLE = {"input": {"tokens": 6}, "layer": {"kind": "embedding", "vocab": 50, "dim": 8}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return (*x, self.dim)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula({"weight": Param((self.vocab, self.dim), "embedding")})

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.Embedding(self.vocab, self.dim)


@functools.cache
def _pos_module():
    import math

    import torch
    from torch import nn

    class PositionalEncoding(nn.Module):
        """Adds a learned table (a parameter) or a sinusoidal table (a buffer) to (B, T, d)."""

        def __init__(self, max_len: int, dim: int, learned: bool):
            super().__init__()
            if learned:
                self.weight = nn.Parameter(normal_weights(max_len, dim, std=0.02))
            else:  # Vaswani et al. 2017, s3.5
                pos = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
                div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
                table = torch.zeros(max_len, dim)
                table[:, 0::2] = torch.sin(pos * div)
                table[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
                self.register_buffer("table", table, persistent=False)
            self.learned = learned

        def forward(self, x):
            table = self.weight if self.learned else self.table
            return x + table[: x.shape[-2]]

    return PositionalEncoding


@register
class PosEmbedding(LayerSpec):
    """Positional encoding added to (T, d): a learned table (max_len x d parameters, GPT-2)
    or fixed sinusoids (no parameters, Vaswani et al. 2017 s3.5). other = T x d adds."""

    kind: Literal["pos_embedding"] = "pos_embedding"
    type: Literal["learned", "sinusoidal"] = Field("learned", description="learned table or fixed sinusoids")
    max_len: Optional[Size] = Field(None, description="table length (default: the sequence length)")

    family: ClassVar[str] = "embedding"
    EXAMPLE = {"input": {"shape": [6, 8]}, "layer": {"kind": "pos_embedding", "max_len": 10}}

    def _len(self, x: Shape) -> int:
        if len(x) != 2:
            raise ShapeError(f"pos_embedding takes a (T, d) sequence, got {tuple(x)}")
        n = self.max_len or x[0]
        if n < x[0]:
            raise ShapeError(f"max_len {n} is shorter than the sequence length {x[0]}")
        return n

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._len(x)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        n = self._len(x)
        params = {"weight": Param((n, x[1]), "embedding")} if self.type == "learned" else {}
        return Formula(params, other=costs.POS_ADD * numel(x))

    def build(self, x: Shape, ctx: Ctx):
        return _pos_module()(self._len(x), x[1], self.type == "learned")


@functools.cache
def _type_module():
    import torch
    from torch import nn

    class TypeEmbedding(nn.Module):
        """Adds row ``index`` of a learned (types, d) table to every position of (B, T, d)."""

        def __init__(self, types: int, dim: int, index: int):
            super().__init__()
            self.weight = nn.Parameter(normal_weights(types, dim, std=0.02))
            self.index = index

        def forward(self, x):
            return x + self.weight[self.index]

    return TypeEmbedding


@register
class TypeEmbedding(LayerSpec):
    """A learned table of ``types`` rows whose row ``index`` is added to every position of a
    (T, d) sequence: BERT's segment (token-type) embeddings, every token of segment A by
    default (Devlin et al. 2019, s3 and Figure 2; transformers' ``token_type_embeddings``,
    kept by RoBERTa with one row). params = types x d; other = T x d adds; a gather, 0 FLOPs."""

    kind: Literal["type_embedding"] = "type_embedding"
    types: Size = Field(..., description="rows of the table (BERT: 2 segments)")
    index: int = Field(0, ge=0, description="the row every position adds (default segment A, 0)")

    family: ClassVar[str] = "embedding"
    EXAMPLE = {"input": {"shape": [6, 8]}, "layer": {"kind": "type_embedding", "types": 2}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if len(x) != 2:
            raise ShapeError(f"type_embedding takes a (T, d) sequence, got {tuple(x)}")
        if self.index >= self.types:
            raise ShapeError(f"index {self.index} is not a row of a {self.types}-row table")
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self.output_shape(x, ctx)
        return Formula({"weight": Param((self.types, x[1]), "embedding")},
                       other=costs.POS_ADD * numel(x))

    def build(self, x: Shape, ctx: Ctx):
        return _type_module()(self.types, x[1], self.index)
