"""The ``transpose`` layer kind (family: shape-only layers, no parameters, no FLOPs)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Count0, Ctx, Formula, LayerSpec, Shape, ShapeError, register


@functools.cache
def _transpose_module():
    from torch import nn

    class Transpose(nn.Module):
        def __init__(self, a: int, b: int):
            super().__init__()
            self.a, self.b = a + 1, b + 1  # past the batch dim

        def forward(self, x):
            return x.transpose(self.a, self.b)

    return Transpose


@register
class Transpose(LayerSpec):
    """Swap two batchless dims: a conv stem's (C, L) becomes a (L, C) sequence for attention
    (Whisper's encoder). A view: no parameters, no FLOPs."""

    kind: Literal["transpose"] = "transpose"
    dims: tuple[Count0, Count0] = Field((0, 1), description="the two (batchless) dims to swap")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"shape": [4, 6]}, "layer": {"kind": "transpose"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        a, b = self.dims
        if max(a, b) >= len(x):
            raise ShapeError(f"transpose dims {a}, {b} go past the last dim of {tuple(x)}")
        out = list(x)
        out[a], out[b] = out[b], out[a]
        return tuple(out)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        return _transpose_module()(*self.dims)
