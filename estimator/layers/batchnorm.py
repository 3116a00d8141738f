"""The ``batchnorm`` layer kind (normalisation; what the family shares is in norm.py)."""
from typing import Literal

from pydantic import Field

from .norm import _Norm
from .registry import Ctx, Formula, Number, Shape, ShapeError, register


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
