"""The ``conv_transpose3d`` layer kind (convolutions; what the family shares is in conv.py and
conv_transpose.py)."""
from typing import ClassVar, Literal

from .conv_transpose import _ConvT
from .registry import register


@register
class ConvTranspose3d(_ConvT):
    """Transposed 3-D convolution."""

    kind: Literal["conv_transpose3d"] = "conv_transpose3d"
    dims: ClassVar[int] = 3
    EXAMPLE = {"input": {"shape": [4, 2, 4, 4]}, "layer": {"kind": "conv_transpose3d", "out": 2, "kernel": 2, "stride": 2}}
