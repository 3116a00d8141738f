"""The ``gelu`` layer kind (elementwise activations; what the family shares is in activation.py)."""
from typing import ClassVar, Literal

from pydantic import Field

from .activation import _Act, _example
from .registry import register


@register
class GELU(_Act):
    """Gaussian error linear unit (exact erf form, or tanh approximation)."""

    kind: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = Field("none", description="'tanh' for GPT-2's approximation")
    torch_name: ClassVar[str] = "GELU"
    EXAMPLE = _example("gelu")

    def torch_kwargs(self) -> dict:
        return {"approximate": self.approximate}
