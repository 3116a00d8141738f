"""The ``conv3d`` layer kind (convolutions; what the family shares is in conv.py)."""
from typing import ClassVar, Literal

from .conv import _Conv
from .registry import register


@register
class Conv3d(_Conv):
    """3-D convolution over (C, D, H, W)."""

    kind: Literal["conv3d"] = "conv3d"
    dims: ClassVar[int] = 3
    EXAMPLE = {"input": {"shape": [2, 6, 8, 8]}, "layer": {"kind": "conv3d", "out": 4, "kernel": 3}}
