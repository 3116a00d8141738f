"""Linear (dense) layers."""
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, numel, register


@register
class Linear(LayerSpec):
    """A fully connected layer on the last dimension: y = x W^T + b.

    Parameters: out x in (+ out bias). FLOPs: 2 x in x out per position (one multiply-add
    per weight per position; Goodfellow et al., Deep Learning, ch. 6). Other: one bias add
    per output element. ``tie: PATH`` makes the weight the one of another layer (a tied
    output projection: GPT-2's lm_head uses the token embedding).
    """

    kind: Literal["linear"] = "linear"
    out: Size = Field(..., description="output features")
    bias: bool = Field(True, description="add a bias vector")
    ptype: Literal["dense", "attention", "embedding"] = Field(
        "dense", description="parameter type for the typology (e.g. 'embedding' for an lm head)")

    family: ClassVar[str] = "linear"
    EXAMPLE = {"input": {"shape": [4, 16]}, "layer": {"kind": "linear", "out": 8}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if not x:
            raise ShapeError("linear needs an input with a feature dimension")
        return (*x[:-1], self.out)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        n, d_in = numel(x[:-1]), x[-1]
        params = {"weight": Param((self.out, d_in), self.ptype)}
        if self.bias:
            params["bias"] = Param((self.out,), self.ptype)
        return Formula(params, flops=2 * n * d_in * self.out,
                       other=costs.BIAS * n * self.out if self.bias else 0)

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.Linear(x[-1], self.out, bias=self.bias)
