"""Convolutions: the fields and rules conv1d/2d/3d and the transposed forms share (the
transposed add theirs in conv_transpose.py). Each kind is in its own file (conv2d.py, ...), so a
spec builds the classes of the kinds it uses only."""
import math
from typing import ClassVar, Literal, Optional, Union

from pydantic import Field

from . import elementwise as costs
from .registry import (Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, Sizes, Sizes0,
                       per_dim)


class _Conv(LayerSpec):
    """Shared fields and rules of the convolution kinds (not registered itself)."""

    out: Optional[Size] = Field(None, description="output channels (default: input channels, for depthwise)")
    kernel: Sizes = Field(..., description="kernel size, an int or one per spatial dim")
    stride: Sizes = Field(1, description="stride")
    padding: Union[Sizes0, Literal["same", "valid"]] = Field(0, description="zero padding, 'same' or 'valid'")
    dilation: Sizes = Field(1, description="dilation")
    groups: Size = Field(1, description="channel groups (AlexNet's two-GPU split: 2)")
    depthwise: bool = Field(False, description="groups = input channels")
    bias: bool = Field(True, description="add a bias per output channel")

    family: ClassVar[str] = "conv"
    dims: ClassVar[int] = 0
    transposed: ClassVar[bool] = False

    def _geometry(self, x: Shape):
        if len(x) != self.dims + 1:
            raise ShapeError(f"{self.kind} needs a (C, {', '.join('LHW'[-self.dims:] if self.dims < 3 else 'DHW')}) "
                             f"input, got shape {tuple(x)}")
        c_in, spatial = x[0], x[1:]
        c_out = self.out if self.out is not None else c_in
        groups = c_in if self.depthwise else self.groups
        if c_in % groups or c_out % groups:
            raise ShapeError(f"groups={groups} must divide input channels {c_in} and output channels {c_out}")
        k = per_dim(self.kernel, self.dims, "kernel")
        s = per_dim(self.stride, self.dims, "stride")
        d = per_dim(self.dilation, self.dims, "dilation")
        if self.padding == "same":
            if self.transposed or any(v != 1 for v in s):
                raise ShapeError("padding 'same' needs stride 1 (as in PyTorch)")
            p = None
        else:
            p = per_dim(0 if self.padding == "valid" else self.padding, self.dims, "padding")
        return c_in, spatial, c_out, groups, k, s, d, p

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        c_in, spatial, c_out, groups, k, s, d, p = self._geometry(x)
        if p is None:
            return (c_out, *spatial)
        out = []
        for i, L in enumerate(spatial):
            if self.transposed:
                o = (L - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1
            else:
                o = (L + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
            if o <= 0:
                raise ShapeError(f"kernel {k[i]} (dilation {d[i]}) is larger than the padded "
                                 f"input {L} + 2x{p[i]}: output size would be {o}")
            out.append(o)
        return (c_out, *out)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """FLOPs = 2 x C_out x prod(out spatial) x (C_in / groups) x prod(kernel): one
        multiply-add per kernel weight per output position (transposed: per *input*
        position, C_in x C_out/groups weights), as PyTorch's flop counter counts it."""
        c_in, spatial, c_out, groups, k, s, d, p = self._geometry(x)
        y = self.output_shape(x, ctx)
        kk = math.prod(k)
        if self.transposed:
            weight = (c_in, c_out // groups, *k)
            flops = 2 * math.prod(spatial) * kk * c_in * (c_out // groups)
        else:
            weight = (c_out, c_in // groups, *k)
            flops = 2 * math.prod(y[1:]) * kk * c_out * (c_in // groups)
        params = {"weight": Param(weight, "conv")}
        if self.bias:
            params["bias"] = Param((c_out,), "conv")
        return Formula(params, flops=flops, other=costs.BIAS * math.prod(y) if self.bias else 0)

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        c_in, spatial, c_out, groups, k, s, d, p = self._geometry(x)
        cls = getattr(nn, f"Conv{'Transpose' if self.transposed else ''}{self.dims}d")
        return cls(c_in, c_out, k, stride=s, padding="same" if p is None else p, dilation=d,
                   groups=groups, bias=self.bias)
