"""The ``adaptive_avgpool`` layer kind (pooling; what the family shares is in pooling.py and
adaptive_pool.py)."""
from typing import ClassVar, Literal

from .adaptive_pool import _Adaptive
from .registry import register


@register
class AdaptiveAvgPool(_Adaptive):
    """Adaptive average pooling to a fixed output size (e.g. VGG's 7 x 7)."""

    kind: Literal["adaptive_avgpool"] = "adaptive_avgpool"
    op: ClassVar[str] = "Avg"
    EXAMPLE = {"input": {"image": [2, 9, 9]}, "layer": {"kind": "adaptive_avgpool", "output": 3}}
