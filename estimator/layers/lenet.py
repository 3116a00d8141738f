"""The layers of LeNet-5 that later frameworks dropped (LeCun, Bottou, Bengio & Haffner 1998,
"Gradient-Based Learning Applied to Document Recognition", Proc. IEEE 86(11), section II.B and
Appendix A): a convolution with a connection table (C3), trainable sub-sampling (S2, S4), the
scaled hyperbolic tangent, and the Euclidean RBF output layer."""
import functools
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from . import elementwise as costs
from .registry import (Ctx, Formula, LayerSpec, Number, Param, Shape, ShapeError, Size, numel,
                       register)


@functools.cache
def _modules():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class TableConv2d(nn.Module):
        """Output map j convolves only the input maps table[j]; the kernels of all maps are
        rows of one weight tensor (sum of |table[j]|, k, k)."""

        def __init__(self, table, kernel, bias):
            super().__init__()
            self.table = [list(t) for t in table]
            self.weight = nn.Parameter(torch.empty(sum(map(len, table)), kernel, kernel))
            self.bias = nn.Parameter(torch.zeros(len(table))) if bias else None
            nn.init.uniform_(self.weight, -0.1, 0.1)

        def forward(self, x):
            outs, start = [], 0
            for j, inputs in enumerate(self.table):
                w = self.weight[start:start + len(inputs)].unsqueeze(0)
                start += len(inputs)
                b = self.bias[j:j + 1] if self.bias is not None else None
                outs.append(F.conv2d(x[:, inputs], w, b))
            return torch.cat(outs, dim=1)

    class Subsample(nn.Module):
        """Sum over k x k windows, times a trainable coefficient, plus a trainable bias, per map."""

        def __init__(self, channels, kernel):
            super().__init__()
            self.kernel = kernel
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))

        def forward(self, x):
            s = F.avg_pool2d(x, self.kernel) * (self.kernel * self.kernel)
            return s * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    class ScaledTanh(nn.Module):
        def __init__(self, amplitude, slope):
            super().__init__()
            self.amplitude, self.slope = amplitude, slope

        def forward(self, x):
            return self.amplitude * torch.tanh(self.slope * x)

    class RBF(nn.Module):
        """y_i = sum_j (x_j - w_ij)^2; fixed centres are a buffer, trainable ones a parameter."""

        def __init__(self, n_in, n_out, fixed):
            super().__init__()
            centres = torch.zeros(n_out, n_in)
            if fixed:
                self.register_buffer("weight", centres)
            else:
                self.weight = nn.Parameter(centres)

        def forward(self, x):
            return ((x.unsqueeze(-2) - self.weight) ** 2).sum(-1)

    return TableConv2d, Subsample, ScaledTanh, RBF


def _map(x: Shape, kind: str) -> None:
    if len(x) != 3:
        raise ShapeError(f"{kind} takes a (C, H, W) map, got {tuple(x)}")


@register
class TableConv2d(LayerSpec):
    """A 2-D convolution (stride 1, no padding) whose output map j sees only the input maps
    listed in ``table[j]`` (LeNet-5's C3, Table I: 6 maps see 3 of S2's, 9 see 4, 1 sees all
    6). Params: sum_j |table[j]| x k x k (+ one bias per output map)."""

    kind: Literal["table_conv2d"] = "table_conv2d"
    table: list[list[int]] = Field(..., description="per output map, the input maps it connects to")
    kernel: Size = Field(..., description="kernel side k")
    bias: bool = Field(True, description="one bias per output map")

    family: ClassVar[str] = "lenet"
    EXAMPLE = {"input": {"image": [3, 6, 6]},
               "layer": {"kind": "table_conv2d", "kernel": 3, "table": [[0, 1], [1, 2], [0, 1, 2]]}}

    @field_validator("table")
    @classmethod
    def _table(cls, v):
        if not v or any(not row or len(set(row)) != len(row) or min(row) < 0 for row in v):
            raise ValueError("table lists, per output map, distinct non-negative input map indices")
        return v

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        _map(x, self.kind)
        top = max(max(row) for row in self.table)
        if top >= x[0]:
            raise ShapeError(f"table names input map {top} but the input has {x[0]} maps")
        h, w = x[1] - self.kernel + 1, x[2] - self.kernel + 1
        if h <= 0 or w <= 0:
            raise ShapeError(f"kernel {self.kernel} is larger than the input {x[1]} x {x[2]}")
        return (len(self.table), h, w)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """With c = sum_j |table[j]| connections between maps, k x k kernels, H' x W' outputs:
        params = c·k² + maps (bias); FLOPs = 2·H'·W'·c·k² (LeCun et al. 1998 s.II.B: C3 has
        60·25 + 16 = 1,516 parameters and 100·(1,500 + 16) = 151,600 connections)."""
        y = self.output_shape(x, ctx)
        c = sum(map(len, self.table))
        k = self.kernel
        params = {"weight": Param((c, k, k), "conv")}
        if self.bias:
            params["bias"] = Param((len(self.table),), "conv")
        return Formula(params, flops=2 * y[1] * y[2] * c * k * k,
                       other=costs.BIAS * numel(y) if self.bias else 0)

    def build(self, x: Shape, ctx: Ctx):
        self.output_shape(x, ctx)
        return _modules()[0](self.table, self.kernel, self.bias)


@register
class Subsample(LayerSpec):
    """Trainable sub-sampling (LeNet-5's S2, S4): each map's non-overlapping k x k sums times a
    trainable coefficient plus a trainable bias. 2 x C parameters, no matrix-class FLOPs."""

    kind: Literal["subsample"] = "subsample"
    kernel: Size = Field(2, description="window side k (stride k)")

    family: ClassVar[str] = "lenet"
    EXAMPLE = {"input": {"image": [3, 4, 4]}, "layer": {"kind": "subsample"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        _map(x, self.kind)
        if x[1] < self.kernel or x[2] < self.kernel:
            raise ShapeError(f"window {self.kernel} is larger than the map {x[1]} x {x[2]}")
        return (x[0], x[1] // self.kernel, x[2] // self.kernel)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = 2·C (coefficient, bias per map; S2: 12, S4: 32); other = per output the
        k² - 1 adds of the window sum and a multiply and an add (S2: 6·14·14 x 5 = 5,880, the
        paper's connection count)."""
        y = self.output_shape(x, ctx)
        params = {"weight": Param((x[0],), "conv"), "bias": Param((x[0],), "conv")}
        return Formula(params, other=numel(y) * (self.kernel ** 2 - 1 + 2))

    def build(self, x: Shape, ctx: Ctx):
        self.output_shape(x, ctx)
        return _modules()[1](x[0], self.kernel)


@register
class ScaledTanh(LayerSpec):
    """A·tanh(S·a), LeNet-5's squashing function (Appendix A: A = 1.7159, S = 2/3)."""

    kind: Literal["scaled_tanh"] = "scaled_tanh"
    amplitude: Number = Field(1.7159, description="A")
    slope: Number = Field(2 / 3, description="S")

    family: ClassVar[str] = "lenet"
    EXAMPLE = {"input": {"shape": [3, 4]}, "layer": {"kind": "scaled_tanh"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """other = 3 per element (scale, tanh, scale)."""
        return Formula(other=(costs.ACTIVATION + 2) * numel(x))

    def build(self, x: Shape, ctx: Ctx):
        return _modules()[2](self.amplitude, self.slope)


@register
class RBF(LayerSpec):
    """Euclidean radial basis function units (LeNet-5's output, Eq. 7): y_i = sum_j (x_j -
    w_ij)². The paper fixes the centres by hand (+1/-1 bitmaps of the characters, "kept fixed,
    at least initially"): with ``fixed`` they are a buffer, not parameters."""

    kind: Literal["rbf"] = "rbf"
    out: Size = Field(..., description="RBF units (classes)")
    fixed: bool = Field(True, description="centres are fixed (a buffer) rather than trained")

    family: ClassVar[str] = "lenet"
    EXAMPLE = {"input": {"vector": 6}, "layer": {"kind": "rbf", "out": 4}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if len(x) != 1:
            raise ShapeError(f"rbf takes a (d,) vector, got {tuple(x)}")
        return (self.out,)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """Computed as Eq. 7 reads, elementwise: other = 3·out·d (subtract, square, add);
        params = out·d only when the centres are trained. (LeNet-5: 10·84 = 840 connections.)"""
        self.output_shape(x, ctx)
        params = {} if self.fixed else {"weight": Param((self.out, x[0]), "dense")}
        return Formula(params, other=3 * self.out * x[0])

    def build(self, x: Shape, ctx: Ctx):
        self.output_shape(x, ctx)
        return _modules()[3](x[0], self.out, self.fixed)

