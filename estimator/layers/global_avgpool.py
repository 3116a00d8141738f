"""The ``global_avgpool`` layer kind (pooling; what the family shares is in pooling.py and
global_pool.py)."""
from typing import ClassVar, Literal

from .global_pool import _Global
from .registry import register


@register
class GlobalAvgPool(_Global):
    """Global average pooling: (C, ...) -> (C,) (ResNet's head)."""

    kind: Literal["global_avgpool"] = "global_avgpool"
    op: ClassVar[str] = "Avg"
    EXAMPLE = {"input": {"image": [4, 5, 5]}, "layer": {"kind": "global_avgpool"}}
