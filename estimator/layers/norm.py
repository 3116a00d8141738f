"""Normalisation layers: LayerNorm, RMSNorm, BatchNorm, GroupNorm, local response norm.

Parameters are the affine scale (and shift). BatchNorm's running mean/variance are buffers,
not parameters (as in PyTorch), and are not counted. All work is elementwise: other_flops.
"""
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Number, Param, Shape, ShapeError, Size, numel, register


class _Norm(LayerSpec):
    affine: bool = Field(True, description="learn a per-feature scale (and shift)")
    bias: bool = Field(True, description="with affine: learn a shift too")

    family: ClassVar[str] = "norm"
    cost: ClassVar[int] = costs.NORM

    def features(self, x: Shape) -> int:  # the normalised feature count
        return x[-1]

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if not x:
            raise ShapeError(f"{self.kind} needs an input with a feature dimension")
        self.features(x)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = features (scale) + features (shift); other = (cost + affine) per element."""
        c = self.features(x)
        params = {}
        if self.affine:
            params["weight"] = Param((c,), "norm")
            if self.bias:
                params["bias"] = Param((c,), "norm")
        affine = len(params)
        return Formula(params, other=(self.cost + affine) * numel(x))


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


@register
class BatchNorm(_Norm):
    """BatchNorm over channels (Ioffe & Szegedy 2015): 2 x C parameters; running statistics
    are buffers. The input's first (batchless) dim is the channel: (C,), (C, L), (C, H, W)."""

    kind: Literal["batchnorm"] = "batchnorm"
    eps: Number = Field(1e-5, description="numerical epsilon")
    momentum: Number = Field(0.1, description="running-statistics momentum")
    EXAMPLE = {"input": {"image": [4, 5, 5]}, "layer": {"kind": "batchnorm"}}

    def features(self, x: Shape) -> int:
        if len(x) > 4:
            raise ShapeError(f"batchnorm takes (C,), (C, L), (C, H, W) or (C, D, H, W), got {tuple(x)}")
        return x[0]

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        if not self.bias and self.affine:
            raise ShapeError("batchnorm always has a shift when affine (PyTorch): drop 'bias: false'")
        return super().formula(x, ctx)

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        n = {1: 1, 2: 1, 3: 2, 4: 3}[len(x)]
        return getattr(nn, f"BatchNorm{n}d")(x[0], eps=self.eps, momentum=self.momentum,
                                             affine=self.affine)


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


@register
class LocalResponseNorm(LayerSpec):
    """Local response normalisation across channels (AlexNet, Krizhevsky et al. 2012, s3.3):
    no parameters; other ~ ``costs.LRN`` per element."""

    kind: Literal["lrn"] = "lrn"
    size: Size = Field(5, description="channels in the window (n)")
    alpha: Number = Field(1e-4, description="alpha")
    beta: Number = Field(0.75, description="beta")
    k: Number = Field(2.0, description="k")

    family: ClassVar[str] = "norm"
    EXAMPLE = {"input": {"image": [6, 3, 3]}, "layer": {"kind": "lrn", "size": 5}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if len(x) < 2:
            raise ShapeError(f"lrn takes (C, ...) with spatial dims, got {tuple(x)}")
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula(other=costs.LRN * numel(x))

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.LocalResponseNorm(self.size, alpha=self.alpha, beta=self.beta, k=self.k)
