"""The ``avgpool`` layer kind (pooling; what the family shares is in pooling.py)."""
from typing import ClassVar, Literal

from .pooling import _Window
from .registry import register


@register
class AvgPool(_Window):
    """Average pooling over a window (1-D/2-D/3-D from the input rank)."""

    kind: Literal["avgpool"] = "avgpool"
    op: ClassVar[str] = "Avg"
    EXAMPLE = {"input": {"image": [2, 8, 8]}, "layer": {"kind": "avgpool", "kernel": 2}}
