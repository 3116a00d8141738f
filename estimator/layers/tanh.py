"""The ``tanh`` layer kind (elementwise activations; what the family shares is in activation.py)."""
from typing import ClassVar, Literal

from .activation import _Act, _example
from .registry import register


@register
class Tanh(_Act):
    """tanh(x)."""

    kind: Literal["tanh"] = "tanh"
    torch_name: ClassVar[str] = "Tanh"
    EXAMPLE = _example("tanh")
