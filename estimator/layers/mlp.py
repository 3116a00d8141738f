"""Feed-forward blocks: plain (up, act, down) and gated (SwiGLU / GeGLU)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, numel, register

ACTIVATIONS = ("relu", "gelu", "gelu_tanh", "silu", "quick_gelu")


@functools.cache
def _quick_gelu():
    from torch import nn

    class QuickGELU(nn.Module):
        """x * sigmoid(1.702 x): CLIP's GELU approximation (Radford et al. 2021, released code)."""

        def forward(self, x):
            return x * (1.702 * x).sigmoid()

    return QuickGELU


def torch_activation(name: str):
    from torch import nn

    if name == "quick_gelu":
        return _quick_gelu()()
    return {"relu": nn.ReLU(), "gelu": nn.GELU(), "gelu_tanh": nn.GELU(approximate="tanh"),
            "silu": nn.SiLU()}[name]


@functools.cache
def _module():
    from torch import nn

    class MLP(nn.Module):
        """down(act(up(x)) [* gate(x)])."""

        def __init__(self, d, hidden, activation, gated, bias):
            super().__init__()
            self.up = nn.Linear(d, hidden, bias=bias)
            self.gate = nn.Linear(d, hidden, bias=bias) if gated else None
            self.act = torch_activation(activation)
            self.down = nn.Linear(hidden, d, bias=bias)

        def forward(self, x):
            h = self.act(self.up(x)) if self.gate is None else self.act(self.gate(x)) * self.up(x)
            return self.down(h)

    return MLP


def mlp_formula(n: int, d: int, hidden: int, gated: bool, bias: bool, ptype: str, prefix: str = ""):
    """Params and FLOPs of a (gated) MLP applied at n positions.

    params = (3 if gated else 2)·d·hidden (+ biases); FLOPs = 2·n·d·hidden per matrix
    (Shazeer 2020, "GLU Variants Improve Transformer", for the gated form)."""
    p = {f"{prefix}up.weight": Param((hidden, d), ptype), f"{prefix}down.weight": Param((d, hidden), ptype)}
    if gated:
        p[f"{prefix}gate.weight"] = Param((hidden, d), ptype)
    if bias:
        p[f"{prefix}up.bias"] = Param((hidden,), ptype)
        p[f"{prefix}down.bias"] = Param((d,), ptype)
        if gated:
            p[f"{prefix}gate.bias"] = Param((hidden,), ptype)
    mats = 3 if gated else 2
    other = n * hidden * (costs.ACTIVATION + (costs.GATE if gated else 0))
    if bias:
        other += costs.BIAS * n * (hidden * (mats - 1) + d)
    return p, mats * 2 * n * d * hidden, other


@register
class MLP(LayerSpec):
    """Position-wise feed-forward: down(act(up(x))) or, gated, down(act(gate(x)) * up(x)).

    params = 2·d·hidden (plain) or 3·d·hidden (SwiGLU/GeGLU) (+ biases);
    FLOPs = 2·T·d·hidden per weight matrix."""

    kind: Literal["mlp"] = "mlp"
    hidden: Size = Field(..., description="hidden width (e.g. 4 * d_model)")
    activation: Literal[ACTIVATIONS] = Field("gelu", description="relu | gelu | gelu_tanh | silu | quick_gelu")
    gated: bool = Field(False, description="gated linear unit (SwiGLU with silu, GeGLU with gelu)")
    bias: bool = Field(True, description="biases on the projections")

    family: ClassVar[str] = "mlp"
    EXAMPLE = {"input": {"shape": [5, 8]}, "layer": {"kind": "mlp", "hidden": 24, "gated": True, "activation": "silu"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if not x:
            raise ShapeError("mlp needs an input with a feature dimension")
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        n, d = numel(x[:-1]), x[-1]
        p, flops, other = mlp_formula(n, d, self.hidden, self.gated, self.bias, "dense")
        mats = {"up": 2 * n * d * self.hidden, "down": 2 * n * d * self.hidden}
        if self.gated:
            mats["gate"] = 2 * n * d * self.hidden
        return Formula(p, flops=flops, other=other, parts={k: (v, 0) for k, v in mats.items()})

    def build(self, x: Shape, ctx: Ctx):
        return _module()(x[-1], self.hidden, self.activation, self.gated, self.bias)
