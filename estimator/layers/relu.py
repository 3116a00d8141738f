"""The ``relu`` layer kind (elementwise activations; what the family shares is in activation.py)."""
from typing import ClassVar, Literal

from .activation import _Act, _example
from .registry import register


@register
class ReLU(_Act):
    """max(0, x)."""

    kind: Literal["relu"] = "relu"
    torch_name: ClassVar[str] = "ReLU"
    EXAMPLE = _example("relu")
