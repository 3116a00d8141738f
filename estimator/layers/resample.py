"""Resampling without weights: nearest-neighbour up-sampling of a feature map (the U-Net
decoders of latent diffusion and its autoencoder: Rombach et al. 2022, "High-Resolution Image
Synthesis with Latent Diffusion Models", CVPR, Appendix; as in Ho et al. 2020's DDPM U-Net,
whose up-sampling is nearest-neighbour interpolation followed by a 3 x 3 convolution)."""
from __future__ import annotations

import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Shape, ShapeError, Size, register


@functools.cache
def _module():
    import torch.nn.functional as F
    from torch import nn

    class Upsample(nn.Module):
        """(B, C, *spatial) -> (B, C, *spatial x s) by repeating each element."""

        def __init__(self, scale):
            super().__init__()
            self.scale = scale

        def forward(self, x):
            return F.interpolate(x, scale_factor=self.scale, mode="nearest")

    return Upsample


@register
class Upsample(LayerSpec):
    """Nearest-neighbour up-sampling: every spatial size times ``scale``, each element copied
    into a scale x scale block: (C, H, W) -> (C, sH, sW) (1-D and 3-D maps likewise).

    A copy: no parameters, no FLOPs (PyTorch's flop counter counts none for interpolate)."""

    kind: Literal["upsample"] = "upsample"
    scale: Size = Field(2, description="integer factor on every spatial size")

    family: ClassVar[str] = "resample"
    EXAMPLE = {"input": {"image": [3, 4, 5]}, "layer": {"kind": "upsample", "scale": 2}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if not 2 <= len(x) <= 4:
            raise ShapeError(f"upsample takes a (C, *spatial) map of 1 to 3 spatial dims, got {tuple(x)}")
        return (x[0],) + tuple(self.scale * n for n in x[1:])

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = 0; FLOPs = 0; other = 0 (each output element is a copy of one input)."""
        self.output_shape(x, ctx)
        return Formula({})

    def build(self, x: Shape, ctx: Ctx):
        self.output_shape(x, ctx)
        return _module()(self.scale)
