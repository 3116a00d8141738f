"""Global pooling over all spatial positions: what global_avgpool and global_maxpool share
(each kind is in its own file; the input rule is pooling.py's)."""
from typing import ClassVar

from .pooling import _spatial
from .registry import Ctx, Formula, LayerSpec, Shape, numel


class _Global(LayerSpec):
    family: ClassVar[str] = "pooling"
    op: ClassVar[str] = ""

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        _spatial(x, self.kind)
        return (x[0],)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """other ~ one add/compare per input element."""
        return Formula(other=numel(x))

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        n = _spatial(x, self.kind)
        return nn.Sequential(getattr(nn, f"Adaptive{self.op}Pool{n}d")(1), nn.Flatten(1))
