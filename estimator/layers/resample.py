"""Resampling without weights: nearest-neighbour up-sampling of a feature map (the U-Net
decoders of latent diffusion and its autoencoder: Rombach et al. 2022, "High-Resolution Image
Synthesis with Latent Diffusion Models", CVPR, Appendix; as in Ho et al. 2020's DDPM U-Net,
whose up-sampling is nearest-neighbour interpolation followed by a 3 x 3 convolution)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Shape, ShapeError, Size, Sizes, per_dim, register


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


@functools.cache
def _crop_module():
    from torch import nn

    class CenterCrop(nn.Module):
        """(B, C, H, W) -> (B, C, h, w), the centre window."""

        def __init__(self, offsets, size):
            super().__init__()
            self.offsets, self.size = offsets, size

        def forward(self, x):
            (t, l), (h, w) = self.offsets, self.size
            return x[:, :, t:t + h, l:l + w]

    return CenterCrop


@register
class Crop(LayerSpec):
    """Centre crop of a (C, H, W) map to ``size`` (h, w): the U-Net's "cropping of the feature
    map from the contracting path" before each concatenation, "necessary due to the loss of
    border pixels in every convolution" (Ronneberger, Fischer & Brox 2015, "U-Net:
    Convolutional Networks for Biomedical Image Segmentation", MICCAI, section 2). The window
    starts at floor((H - h) / 2), floor((W - w) / 2). A view: no parameters, no FLOPs."""

    kind: Literal["crop"] = "crop"
    size: Sizes = Field(..., description="output (h, w), or one size for both")

    family: ClassVar[str] = "resample"
    EXAMPLE = {"input": {"image": [2, 6, 7]}, "layer": {"kind": "crop", "size": [4, 3]}}

    def _size(self, x: Shape) -> tuple[int, int]:
        if len(x) != 3:
            raise ShapeError(f"crop takes a (C, H, W) map, got {tuple(x)}")
        h, w = per_dim(self.size, 2, "size")
        if h > x[1] or w > x[2]:
            raise ShapeError(f"crop {h} x {w} is larger than the map {x[1]} x {x[2]}")
        return h, w

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return (x[0], *self._size(x))

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = 0; FLOPs = 0; other = 0 (a window of the input)."""
        self._size(x)
        return Formula({})

    def build(self, x: Shape, ctx: Ctx):
        h, w = self._size(x)
        return _crop_module()(((x[1] - h) // 2, (x[2] - w) // 2), (h, w))
