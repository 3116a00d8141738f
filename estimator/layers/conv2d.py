"""The ``conv2d`` layer kind (convolutions; what the family shares is in conv.py)."""
from typing import ClassVar, Literal

from .conv import _Conv
from .registry import register


@register
class Conv2d(_Conv):
    """2-D convolution over (C, H, W). Params: C_out x C_in/groups x kh x kw (+ C_out bias).

    Output size per dim: floor((L + 2p - d(k-1) - 1) / s) + 1 (PyTorch Conv2d docs)."""

    kind: Literal["conv2d"] = "conv2d"
    dims: ClassVar[int] = 2
    EXAMPLE = {"input": {"image": [4, 16, 16]},
               "layer": {"kind": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": 1, "groups": 2}}
