"""The ``dropout`` layer kind (family: shape-only layers, no parameters, no FLOPs)."""
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Prob, Shape, register


@register
class Dropout(LayerSpec):
    """Dropout: identity at inference, 0 FLOPs, no parameters."""

    kind: Literal["dropout"] = "dropout"
    p: Prob = Field(0.5, description="drop probability")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"vector": 8}, "layer": {"kind": "dropout", "p": 0.1}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.Dropout(self.p)
