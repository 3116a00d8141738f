"""The ``layernorm`` layer kind (normalisation; what the family shares is in norm.py)."""
from typing import Literal

from pydantic import Field

from .norm import _Norm
from .registry import Ctx, Number, Shape, register


@register
class LayerNorm(_Norm):
    """LayerNorm over the last dim (Ba et al. 2016): 2 x d parameters (d without bias)."""

    kind: Literal["layernorm"] = "layernorm"
    eps: Number = Field(1e-5, description="numerical epsilon")
    EXAMPLE = {"input": {"shape": [4, 8]}, "layer": {"kind": "layernorm"}}

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.LayerNorm(x[-1], eps=self.eps, elementwise_affine=self.affine,
                            bias=self.bias)
