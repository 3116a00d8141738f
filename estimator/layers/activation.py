"""Elementwise activations and softmax: what the kinds share (each kind is in its own file: relu.py,
gelu.py, ..., softmax.py). No parameters, no forward FLOPs; other_flops is
``costs.ACTIVATION`` per element (``costs.SOFTMAX`` for softmax)."""
from typing import ClassVar

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Shape, numel


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
