"""Adaptive pooling to a fixed output size: what adaptive_avgpool and adaptive_maxpool share
(each kind is in its own file; the input rule is pooling.py's)."""
from typing import ClassVar

from pydantic import Field

from .pooling import _spatial
from .registry import Ctx, Formula, LayerSpec, Shape, Sizes, numel, per_dim


class _Adaptive(LayerSpec):
    output: Sizes = Field(..., description="output spatial size, an int or one per dim")

    family: ClassVar[str] = "pooling"
    op: ClassVar[str] = ""

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        n = _spatial(x, self.kind)
        return (x[0], *per_dim(self.output, n, "output"))

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """other ~ one add/compare per input element."""
        return Formula(other=numel(x))

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return getattr(nn, f"Adaptive{self.op}Pool{_spatial(x, self.kind)}d")(self.output)
