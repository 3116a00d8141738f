"""The ``global_maxpool`` layer kind (pooling; what the family shares is in pooling.py and
global_pool.py)."""
from typing import ClassVar, Literal

from .global_pool import _Global
from .registry import register


@register
class GlobalMaxPool(_Global):
    """Global max pooling: (C, ...) -> (C,)."""

    kind: Literal["global_maxpool"] = "global_maxpool"
    op: ClassVar[str] = "Max"
    EXAMPLE = {"input": {"image": [4, 5, 5]}, "layer": {"kind": "global_maxpool"}}
