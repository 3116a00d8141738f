"""The ``softmax`` layer kind (elementwise activations; what the family shares is in
activation.py)."""
from typing import ClassVar, Literal

from . import elementwise as costs
from .activation import _Act, _example
from .registry import register


@register
class Softmax(_Act):
    """Softmax over the last dim; other = 3 FLOPs per element (exp, sum, divide)."""

    kind: Literal["softmax"] = "softmax"
    cost: ClassVar[int] = costs.SOFTMAX
    torch_name: ClassVar[str] = "Softmax"
    EXAMPLE = _example("softmax")

    def torch_kwargs(self) -> dict:
        return {"dim": -1}
