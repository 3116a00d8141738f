"""The ``relu6`` layer kind (elementwise activations; what the family shares is in
activation.py)."""
from typing import ClassVar, Literal

from .activation import _Act, _example
from .registry import register


@register
class ReLU6(_Act):
    """min(max(0, x), 6) (MobileNet)."""

    kind: Literal["relu6"] = "relu6"
    torch_name: ClassVar[str] = "ReLU6"
    EXAMPLE = _example("relu6")
