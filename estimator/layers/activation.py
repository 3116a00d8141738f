"""Elementwise activations and softmax. No parameters, no forward FLOPs; other_flops is
``costs.ACTIVATION`` per element (``costs.SOFTMAX`` for softmax)."""
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Number, Shape, numel, register


class _Act(LayerSpec):
    family: ClassVar[str] = "activation"
    cost: ClassVar[int] = costs.ACTIVATION
    torch_name: ClassVar[str] = ""

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula(other=self.cost * numel(x))

    def torch_kwargs(self) -> dict:
        return {}

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return getattr(nn, self.torch_name)(**self.torch_kwargs())


def _example(kind):
    return {"input": {"shape": [3, 4]}, "layer": {"kind": kind}}


@register
class ReLU(_Act):
    """max(0, x)."""

    kind: Literal["relu"] = "relu"
    torch_name: ClassVar[str] = "ReLU"
    EXAMPLE = _example("relu")


@register
class ReLU6(_Act):
    """min(max(0, x), 6) (MobileNet)."""

    kind: Literal["relu6"] = "relu6"
    torch_name: ClassVar[str] = "ReLU6"
    EXAMPLE = _example("relu6")


@register
class LeakyReLU(_Act):
    """max(0, x) + slope * min(0, x)."""

    kind: Literal["leaky_relu"] = "leaky_relu"
    slope: Number = Field(0.01, description="negative slope")
    torch_name: ClassVar[str] = "LeakyReLU"
    EXAMPLE = _example("leaky_relu")

    def torch_kwargs(self) -> dict:
        return {"negative_slope": self.slope}


@register
class GELU(_Act):
    """Gaussian error linear unit (exact erf form, or tanh approximation)."""

    kind: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = Field("none", description="'tanh' for GPT-2's approximation")
    torch_name: ClassVar[str] = "GELU"
    EXAMPLE = _example("gelu")

    def torch_kwargs(self) -> dict:
        return {"approximate": self.approximate}


@register
class SiLU(_Act):
    """x * sigmoid(x) (swish)."""

    kind: Literal["silu"] = "silu"
    torch_name: ClassVar[str] = "SiLU"
    EXAMPLE = _example("silu")


@register
class Tanh(_Act):
    """tanh(x)."""

    kind: Literal["tanh"] = "tanh"
    torch_name: ClassVar[str] = "Tanh"
    EXAMPLE = _example("tanh")


@register
class Sigmoid(_Act):
    """1 / (1 + exp(-x))."""

    kind: Literal["sigmoid"] = "sigmoid"
    torch_name: ClassVar[str] = "Sigmoid"
    EXAMPLE = _example("sigmoid")


@register
class Softmax(_Act):
    """Softmax over the last dim; other = 3 FLOPs per element (exp, sum, divide)."""

    kind: Literal["softmax"] = "softmax"
    cost: ClassVar[int] = costs.SOFTMAX
    torch_name: ClassVar[str] = "Softmax"
    EXAMPLE = _example("softmax")

    def torch_kwargs(self) -> dict:
        return {"dim": -1}
