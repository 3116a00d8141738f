"""Untied biases: one learned bias per element of the input, not per channel (AlphaGo's policy
network, Silver et al. 2016, "Mastering the game of Go with deep neural networks and tree
search", Nature 529, Methods, "Neural network architecture": the final layer "convolves 1
filter of kernel size 1 x 1 with stride 1, with a different bias for each position")."""
import functools
from typing import ClassVar, Literal

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, numel, register


@functools.cache
def _module():
    import torch
    from torch import nn

    class UntiedBias(nn.Module):
        """x + b with b of x's (batchless) shape."""

        def __init__(self, shape):
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(shape))

        def forward(self, x):
            return x + self.bias

    return UntiedBias


@register
class UntiedBias(LayerSpec):
    """A learned bias for every element of its input: y = x + b, b of x's shape (one bias per
    board point for AlphaGo's 1 x 19 x 19 policy map). Output shape = input shape."""

    kind: Literal["untied_bias"] = "untied_bias"

    family: ClassVar[str] = "untied_bias"
    EXAMPLE = {"input": {"image": [1, 3, 3]}, "layer": {"kind": "untied_bias"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = numel(x) (one bias per element); FLOPs = 0; other = numel(x) adds."""
        return Formula({"bias": Param(tuple(x), "dense")}, other=costs.BIAS * numel(x))

    def build(self, x: Shape, ctx: Ctx):
        return _module()(tuple(x))
