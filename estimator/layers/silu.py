"""The ``silu`` layer kind (elementwise activations; what the family shares is in activation.py)."""
from typing import ClassVar, Literal

from .activation import _Act, _example
from .registry import register


@register
class SiLU(_Act):
    """x * sigmoid(x) (swish)."""

    kind: Literal["silu"] = "silu"
    torch_name: ClassVar[str] = "SiLU"
    EXAMPLE = _example("silu")
