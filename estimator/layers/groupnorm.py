"""The ``groupnorm`` layer kind (normalisation; what the family shares is in norm.py)."""
from typing import Literal

from pydantic import Field

from .norm import _Norm
from .registry import Ctx, Formula, Number, Shape, ShapeError, Size, register


@register
class GroupNorm(_Norm):
    """GroupNorm (Wu & He 2018): channels split into groups; 2 x C parameters."""

    kind: Literal["groupnorm"] = "groupnorm"
    groups: Size = Field(..., description="number of channel groups (must divide C)")
    eps: Number = Field(1e-5, description="numerical epsilon")
    EXAMPLE = {"input": {"image": [4, 3, 3]}, "layer": {"kind": "groupnorm", "groups": 2}}

    def features(self, x: Shape) -> int:
        if len(x) < 2:
            raise ShapeError(f"groupnorm takes (C, ...) with spatial dims, got {tuple(x)}")
        if x[0] % self.groups:
            raise ShapeError(f"groups={self.groups} must divide channels {x[0]}")
        return x[0]

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        if not self.bias and self.affine:
            raise ShapeError("groupnorm always has a shift when affine (PyTorch): drop 'bias: false'")
        return super().formula(x, ctx)

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.GroupNorm(self.groups, x[0], eps=self.eps, affine=self.affine)
