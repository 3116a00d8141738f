"""The ``identity`` layer kind (family: shape-only layers, no parameters, no FLOPs)."""
from typing import ClassVar, Literal

from .registry import Ctx, Formula, LayerSpec, Shape, register


@register
class Identity(LayerSpec):
    """Identity: passes its input through (a placeholder, or an empty shortcut)."""

    kind: Literal["identity"] = "identity"

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"vector": 8}, "layer": {"kind": "identity"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.Identity()
