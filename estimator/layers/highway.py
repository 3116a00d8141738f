"""Highway layer: a gated mix of a transform and the input (Srivastava, Greff & Schmidhuber
2015), as in character-level language models' and ELMo's token encoders."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .mlp import ACTIVATIONS, torch_activation
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, numel, register

MIX = 4  # t * h, 1 - t, (1 - t) * x and the add, per element


@functools.cache
def _module():
    import torch
    from torch import nn

    class Highway(nn.Module):
        def __init__(self, d, activation):
            super().__init__()
            self.transform = nn.Linear(d, d)
            self.gate = nn.Linear(d, d)
            self.act = torch_activation(activation)

        def forward(self, x):
            t = torch.sigmoid(self.gate(x))
            return t * self.act(self.transform(x)) + (1 - t) * x

    return Highway


@register
class Highway(LayerSpec):
    """Highway layer (Srivastava, Greff & Schmidhuber 2015, "Highway Networks", arXiv:1505.00387,
    eq. 3): y = T(x) * H(x) + (1 - T(x)) * x with H(x) = act(W_H x + b_H) and the transform gate
    T(x) = sigmoid(W_T x + b_T). Width-preserving: (..., d) -> (..., d).

    params = 2·(d·d + d); FLOPs = 2·2·n·d·d (the two projections of n positions); other = n·d·
    (2 bias adds + activation + sigmoid + 4 for the mix)."""

    kind: Literal["highway"] = "highway"
    activation: Literal[ACTIVATIONS] = Field("relu", description="relu | gelu | gelu_tanh | silu")

    family: ClassVar[str] = "linear"
    EXAMPLE = {"input": {"shape": [3, 4]}, "layer": {"kind": "highway"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if not x:
            raise ShapeError("highway needs an input with a feature dimension")
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self.output_shape(x, ctx)
        n, d = numel(x[:-1]), x[-1]
        p = {"transform.weight": Param((d, d), "dense"), "transform.bias": Param((d,), "dense"),
             "gate.weight": Param((d, d), "dense"), "gate.bias": Param((d,), "dense")}
        other = n * d * (2 * costs.BIAS + 2 * costs.ACTIVATION + MIX)
        return Formula(p, flops=2 * 2 * n * d * d, other=other)

    def build(self, x: Shape, ctx: Ctx):
        return _module()(x[-1], self.activation)
