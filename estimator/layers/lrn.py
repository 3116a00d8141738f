"""The ``lrn`` layer kind (normalisation; it shares nothing with the affine norms of norm.py)."""
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Number, Shape, ShapeError, Size, numel, register


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
