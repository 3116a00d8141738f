"""The ``rmsnorm`` layer kind (normalisation; what the family shares is in norm.py)."""
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .norm import _Norm
from .registry import Ctx, Number, Shape, register


@register
class RMSNorm(_Norm):
    """RMSNorm over the last dim (Zhang & Sennrich 2019): d parameters, no shift."""

    kind: Literal["rmsnorm"] = "rmsnorm"
    bias: Literal[False] = Field(False, description="RMSNorm has no shift")
    eps: Number = Field(1e-6, description="numerical epsilon")
    cost: ClassVar[int] = costs.RMSNORM
    EXAMPLE = {"input": {"shape": [4, 8]}, "layer": {"kind": "rmsnorm"}}

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.RMSNorm(x[-1], eps=self.eps, elementwise_affine=self.affine)
