"""The ``adaptive_maxpool`` layer kind (pooling; what the family shares is in pooling.py and
adaptive_pool.py)."""
from typing import ClassVar, Literal

from .adaptive_pool import _Adaptive
from .registry import register


@register
class AdaptiveMaxPool(_Adaptive):
    """Adaptive max pooling to a fixed output size."""

    kind: Literal["adaptive_maxpool"] = "adaptive_maxpool"
    op: ClassVar[str] = "Max"
    EXAMPLE = {"input": {"image": [2, 9, 9]}, "layer": {"kind": "adaptive_maxpool", "output": 2}}
