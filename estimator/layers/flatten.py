"""The ``flatten`` layer kind (family: shape-only layers, no parameters, no FLOPs)."""
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Count0, Ctx, Formula, LayerSpec, Shape, ShapeError, numel, register


@register
class Flatten(LayerSpec):
    """Flatten dims from ``start`` on (batchless; default all): (256, 6, 6) -> (9216,)."""

    kind: Literal["flatten"] = "flatten"
    start: Count0 = Field(0, description="first (batchless) dim to flatten")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"image": [2, 3, 3]}, "layer": {"kind": "flatten"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if self.start >= max(len(x), 1):
            raise ShapeError(f"flatten start {self.start} is past the last dim of {tuple(x)}")
        return (*x[:self.start], numel(x[self.start:]))

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.Flatten(self.start + 1)
