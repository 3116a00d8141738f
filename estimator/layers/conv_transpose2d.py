"""The ``conv_transpose2d`` layer kind (convolutions; what the family shares is in conv.py and
conv_transpose.py)."""
from typing import ClassVar, Literal

from .conv_transpose import _ConvT
from .registry import register


@register
class ConvTranspose2d(_ConvT):
    """Transposed 2-D convolution (DCGAN/U-Net up-sampling). Weight: C_in x C_out/groups x kh x kw.

    FLOPs = 2 x prod(input spatial) x C_in x C_out/groups x kh x kw (each input pixel scatters
    through the whole kernel)."""

    kind: Literal["conv_transpose2d"] = "conv_transpose2d"
    dims: ClassVar[int] = 2
    EXAMPLE = {"input": {"image": [8, 4, 4]},
               "layer": {"kind": "conv_transpose2d", "out": 4, "kernel": 4, "stride": 2, "padding": 1}}
