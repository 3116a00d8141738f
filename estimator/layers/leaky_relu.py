"""The ``leaky_relu`` layer kind (elementwise activations; what the family shares is in
activation.py)."""
from typing import ClassVar, Literal

from pydantic import Field

from .activation import _Act, _example
from .registry import Number, register


@register
class LeakyReLU(_Act):
    """max(0, x) + slope * min(0, x)."""

    kind: Literal["leaky_relu"] = "leaky_relu"
    slope: Number = Field(0.01, description="negative slope")
    torch_name: ClassVar[str] = "LeakyReLU"
    EXAMPLE = _example("leaky_relu")

    def torch_kwargs(self) -> dict:
        return {"negative_slope": self.slope}
