"""Reshape: the same elements in a new (batchless) shape, as ``torch.reshape`` does (row-major
order). No parameters, no FLOPs. It lets a spec say what a model's code does between layers,
e.g. a vector (512,) seen as a one-step sequence (1, 512) for a recurrent core, or a row of
option slots (3 x 768,) seen as (3, 768)."""
from __future__ import annotations

import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Shape, ShapeError, Sizes, numel, register


@functools.cache
def _module():
    from torch import nn

    class Reshape(nn.Module):
        """(B, *x) -> (B, *shape)."""

        def __init__(self, shape):
            super().__init__()
            self.shape = tuple(shape)

        def forward(self, x):
            return x.reshape(x.shape[0], *self.shape)

    return Reshape


@register
class Reshape(LayerSpec):
    """Reshape to ``shape`` (batchless, row-major): (512,) -> (1, 512). The element count must
    not change. No parameters, no FLOPs."""

    kind: Literal["reshape"] = "reshape"
    shape: Sizes = Field(..., description="the new batchless shape, e.g. [1, 512]")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"vector": 12}, "layer": {"kind": "reshape", "shape": [3, 4]}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        shape = (self.shape,) if isinstance(self.shape, int) else tuple(self.shape)
        if numel(shape) != numel(x):
            raise ShapeError(f"reshape {tuple(x)} -> {shape}: {numel(x)} elements cannot "
                             f"become {numel(shape)}")
        return shape

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self.output_shape(x, ctx)
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        return _module()(self.output_shape(x, ctx))
