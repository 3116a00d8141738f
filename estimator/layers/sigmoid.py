"""The ``sigmoid`` layer kind (elementwise activations; what the family shares is in
activation.py)."""
from typing import ClassVar, Literal

from .activation import _Act, _example
from .registry import register


@register
class Sigmoid(_Act):
    """1 / (1 + exp(-x))."""

    kind: Literal["sigmoid"] = "sigmoid"
    torch_name: ClassVar[str] = "Sigmoid"
    EXAMPLE = _example("sigmoid")
