"""LayerScale: a learned per-channel scale on a residual branch's output (Touvron, Cord,
Sablayrolles, Synnaeve & Jégou 2021, "Going deeper with Image Transformers" (CaiT), ICCV,
section 3, Eq. 6: x' = x + diag(λ_1..λ_d) × SA(η(x)); used by ConvNeXt, Liu et al. 2022,
section 2.6, and DINOv2, Oquab et al. 2023)."""
import functools
from typing import ClassVar, Literal

from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, numel, register


@functools.cache
def _module():
    import torch
    from torch import nn

    class LayerScale(nn.Module):
        """x * gamma over the last dim."""

        def __init__(self, dim):
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            return x * self.gamma

    return LayerScale


@register
class LayerScale(LayerSpec):
    """A learned scale per channel of the last dim: y = x ⊙ γ, γ of width d (CaiT's diagonal
    matrix, Eq. 6). Output shape = input shape."""

    kind: Literal["layer_scale"] = "layer_scale"

    family: ClassVar[str] = "layer_scale"
    EXAMPLE = {"input": {"shape": [3, 4]}, "layer": {"kind": "layer_scale"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if not x:
            raise ShapeError("layer_scale needs at least one dim")
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = d (the last dim); FLOPs = 0; other = numel(x) multiplies."""
        self.output_shape(x, ctx)
        return Formula({"gamma": Param((x[-1],), "dense")}, other=numel(x))

    def build(self, x: Shape, ctx: Ctx):
        self.output_shape(x, ctx)
        return _module()(x[-1])
