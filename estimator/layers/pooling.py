"""Pooling: the input rule of every pooling kind and what fixed-window max/average pooling share
(adaptive and global pooling add theirs in adaptive_pool.py and global_pool.py). Each kind is in
its own file (maxpool.py, avgpool.py, ...). No parameters, no forward FLOPs; the comparisons/adds
are estimated in ``other_flops``."""
import math
from typing import ClassVar, Optional

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Shape, ShapeError, Sizes, Sizes0, numel, per_dim


def _spatial(x: Shape, kind: str) -> int:
    if len(x) < 2 or len(x) > 4:
        raise ShapeError(f"{kind} needs a (C, L), (C, H, W) or (C, D, H, W) input, got {tuple(x)}")
    return len(x) - 1


class _Window(LayerSpec):
    kernel: Sizes = Field(..., description="window size")
    stride: Optional[Sizes] = Field(None, description="stride (default: the window size)")
    padding: Sizes0 = Field(0, description="implicit padding on both sides")
    ceil_mode: bool = Field(False, description="round the output size up, as Caffe did")

    family: ClassVar[str] = "pooling"
    op: ClassVar[str] = ""

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        """L_out = floor_or_ceil((L + 2p - k) / s) + 1; with ceil_mode the last window must
        start inside the input (PyTorch MaxPool2d docs)."""
        n = _spatial(x, self.kind)
        k = per_dim(self.kernel, n, "kernel")
        s = per_dim(self.stride if self.stride is not None else self.kernel, n, "stride")
        p = per_dim(self.padding, n, "padding")
        out = []
        for L, kk, ss, pp in zip(x[1:], k, s, p):
            if pp * 2 > kk:
                raise ShapeError(f"padding {pp} must be at most half the window {kk}")
            span = L + 2 * pp - kk
            if span < 0:
                raise ShapeError(f"window {kk} is larger than the padded input {L} + 2x{pp}")
            o = (-(-span // ss) if self.ceil_mode else span // ss) + 1
            if self.ceil_mode and (o - 1) * ss >= L + pp:
                o -= 1
            out.append(o)
        return (x[0], *out)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """other = output elements x window size (one compare/add per element in a window)."""
        n = _spatial(x, self.kind)
        return Formula(other=numel(self.output_shape(x, ctx)) * math.prod(per_dim(self.kernel, n, "kernel")))

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        n = _spatial(x, self.kind)
        cls = getattr(nn, f"{self.op}Pool{n}d")
        kw = {"ceil_mode": self.ceil_mode}
        return cls(self.kernel, stride=self.stride, padding=self.padding, **kw)
