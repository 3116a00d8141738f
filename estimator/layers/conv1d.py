"""The ``conv1d`` layer kind (convolutions; what the family shares is in conv.py)."""
from typing import ClassVar, Literal

from .conv import _Conv
from .registry import register


@register
class Conv1d(_Conv):
    """1-D convolution over (C, L). Params: C_out x C_in/groups x k (+ C_out bias)."""

    kind: Literal["conv1d"] = "conv1d"
    dims: ClassVar[int] = 1
    EXAMPLE = {"input": {"shape": [4, 32]}, "layer": {"kind": "conv1d", "out": 8, "kernel": 3, "padding": 1}}
