"""The ``reshape`` layer kind (family: shape-only layers, no parameters, no FLOPs)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Shape, ShapeError, Sizes, numel, register


@functools.cache
def _reshape_module():
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
        return _reshape_module()(self.output_shape(x, ctx))
