"""Normalisation layers: the affine norms' shared rules (each kind is in its own file: layernorm.py,
rmsnorm.py, batchnorm.py, groupnorm.py; local response norm: lrn.py).

Parameters are the affine scale (and shift). BatchNorm's running mean/variance are buffers,
not parameters (as in PyTorch), and are not counted. All work is elementwise: other_flops.
"""
from typing import ClassVar

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, numel


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
