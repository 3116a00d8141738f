"""The ``maxpool`` layer kind (pooling; what the family shares is in pooling.py)."""
from typing import ClassVar, Literal

from .pooling import _Window
from .registry import register


@register
class MaxPool(_Window):
    """Max pooling over a window (1-D/2-D/3-D from the input rank)."""

    kind: Literal["maxpool"] = "maxpool"
    op: ClassVar[str] = "Max"
    EXAMPLE = {"input": {"image": [2, 9, 9]}, "layer": {"kind": "maxpool", "kernel": 3, "stride": 2}}
