"""Transposed convolutions: what conv_transpose1d/2d/3d share on top of the convolutions'
rules (conv.py); each kind is in its own file."""
from typing import ClassVar

from pydantic import Field

from .conv import _Conv
from .registry import Count0, Ctx, Shape


class _ConvT(_Conv):
    output_padding: Count0 = Field(0, description="extra size added to one side of the output")
    transposed: ClassVar[bool] = True

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        y = super().output_shape(x, ctx)
        return (y[0], *(v + self.output_padding for v in y[1:]))

    def build(self, x: Shape, ctx: Ctx):
        m = super().build(x, ctx)
        m.output_padding = (self.output_padding,) * self.dims
        return m
