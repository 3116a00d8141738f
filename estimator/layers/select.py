"""The ``select`` layer kind (family: shape-only layers, no parameters, no FLOPs)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Count0, Ctx, Formula, LayerSpec, Shape, ShapeError, register


@functools.cache
def _select_module():
    from torch import nn

    class Select(nn.Module):
        def __init__(self, dim: int, index: int):
            super().__init__()
            self.dim, self.index = dim + 1, index  # past the batch dim

        def forward(self, x):
            return x.select(self.dim, self.index)

    return Select


@register
class Select(LayerSpec):
    """Take one position along a batchless dim, dropping it: BERT's pooler reads the first
    ([CLS]) token, (T, d) -> (d,). An index: no parameters, no FLOPs."""

    kind: Literal["select"] = "select"
    dim: Count0 = Field(0, description="the (batchless) dim to index")
    index: Count0 = Field(0, description="the position taken (0 = first)")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"shape": [5, 8]}, "layer": {"kind": "select"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if self.dim >= len(x):
            raise ShapeError(f"select dim {self.dim} is past the last dim of {tuple(x)}")
        if self.index >= x[self.dim]:
            raise ShapeError(f"select index {self.index} is past the size {x[self.dim]} of dim {self.dim}")
        return (*x[:self.dim], *x[self.dim + 1:])

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        return _select_module()(self.dim, self.index)
