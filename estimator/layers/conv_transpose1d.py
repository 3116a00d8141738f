"""The ``conv_transpose1d`` layer kind (convolutions; what the family shares is in conv.py and
conv_transpose.py)."""
from typing import ClassVar, Literal

from .conv_transpose import _ConvT
from .registry import register


@register
class ConvTranspose1d(_ConvT):
    """Transposed 1-D convolution. Output: (L-1)s - 2p + d(k-1) + output_padding + 1."""

    kind: Literal["conv_transpose1d"] = "conv_transpose1d"
    dims: ClassVar[int] = 1
    EXAMPLE = {"input": {"shape": [4, 8]}, "layer": {"kind": "conv_transpose1d", "out": 2, "kernel": 4, "stride": 2}}
