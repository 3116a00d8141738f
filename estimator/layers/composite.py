"""Composites: sequential blocks, residual connections, parallel branches.

A composite holds named sub-sequences of layers (``branches()``) that all receive the
composite's input, and a join rule (``combine``) that makes one output from theirs.
Any layer, composite or not, may carry ``repeat: N`` (with ``shared: true`` for ALBERT-style
weight sharing) and ``share: PATH``; the walker in :mod:`estimator.analytic` handles those.
"""
from typing import Any, ClassVar, Literal, Optional, Union

from pydantic import Field

from . import elementwise as costs
from .registry import Count0, Ctx, Formula, LayerSpec, Shape, ShapeError, numel, register


class _Composite(LayerSpec):
    family: ClassVar[str] = "composite"
    composite: ClassVar[bool] = True
    child_fields: ClassVar[tuple] = ()

    def branches(self) -> list[tuple[str, list]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def combine(self, x: Shape, outs: dict[str, Shape]) -> tuple[Shape, int]:
        """Output shape and the join's other_flops, from the input and each branch's output."""
        raise NotImplementedError  # pragma: no cover

    def join_torch(self, x, outs: dict):
        raise NotImplementedError  # pragma: no cover

    # a composite has no formula of its own beyond its join: the walker sums its children
    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:  # pragma: no cover - walker does it
        raise NotImplementedError

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    # No build(): containers are assembled by estimator.graphs.torch_build from the walked
    # tree (a room never imports the code above it); build_layers([layer], x) builds one alone.


@register
class Sequential(_Composite):
    """Layers applied in order; a named block (``name: blocks, repeat: 12``) of a stack."""

    kind: Literal["sequential"] = "sequential"
    layers: list[Any] = Field(..., description="the layers, in order")

    child_fields: ClassVar[tuple] = ("layers",)
    EXAMPLE = {"input": {"shape": [4, 8]},
               "layer": {"kind": "sequential", "repeat": 2,
                         "layers": [{"kind": "linear", "out": 8}, "relu"]}}

    def branches(self):
        return [("", self.layers)]

    def combine(self, x, outs):
        return outs[""], 0

    def join_torch(self, x, outs):
        return outs[""]


@register
class Residual(_Composite):
    """y = body(x) + shortcut(x); the shortcut is the identity unless layers are given (a
    projection: ResNet's 1x1 conv + BN). Shapes must match. other = one add per element."""

    kind: Literal["residual"] = "residual"
    layers: list[Any] = Field(..., description="the body")
    shortcut: Optional[list[Any]] = Field(None, description="projection layers on the skip path")

    child_fields: ClassVar[tuple] = ("layers", "shortcut")
    EXAMPLE = {"input": {"image": [4, 6, 6]},
               "layer": {"kind": "residual",
                         "layers": [{"kind": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": 1}],
                         "shortcut": [{"kind": "conv2d", "out": 8, "kernel": 1, "stride": 2, "bias": False}]}}

    def branches(self):
        out = [("", self.layers)]
        if self.shortcut:
            out.append(("shortcut", self.shortcut))
        return out

    def combine(self, x, outs):
        skip = outs.get("shortcut", tuple(x))
        if tuple(outs[""]) != tuple(skip):
            what = "shortcut" if "shortcut" in outs else "input"
            raise ShapeError(f"residual body gives {tuple(outs[''])} but the {what} is {tuple(skip)}: "
                             "shapes must match (add a projection 'shortcut')")
        return outs[""], costs.RESIDUAL * numel(outs[""])

    def join_torch(self, x, outs):
        return outs[""] + outs.get("shortcut", x)


@register
class Parallel(_Composite):
    """Branches on the same input, joined by concatenation (Inception), sum, or elementwise
    product (the Hadamard product of NCF's GMF path, He et al. 2017, "Neural Collaborative
    Filtering", WWW, eq. 9: phi(p_u, q_i) = p_u ⊙ q_i).

    ``branches`` is a list of layer lists (paths ``name.0.*``, ``name.1.*``) or a mapping of
    branch names to layer lists. ``axis`` is the batchless concat axis (0 = channels). A
    branch may start from another input or layer (``from:``), so two embeddings of two inputs
    can be joined. other: sum and product, (n - 1) adds or multiplies per element of n
    branches; concat, 0 (a copy)."""

    kind: Literal["parallel"] = "parallel"
    branches_: Union[list[Any], dict[str, Any]] = Field(..., alias="branches",
                                                       description="list of layer lists, or name -> layers")
    join: Literal["concat", "sum", "product"] = Field("concat", description="concat, sum or (elementwise) product")
    axis: Count0 = Field(0, description="concat axis, batchless (0 = channels)")

    child_fields: ClassVar[tuple] = ("branches",)
    EXAMPLE = {"input": {"image": [4, 5, 5]},
               "layer": {"kind": "parallel", "join": "concat",
                         "branches": {"a": [{"kind": "conv2d", "out": 2, "kernel": 1}],
                                      "b": [{"kind": "conv2d", "out": 3, "kernel": 3, "padding": 1}]}}}

    def branches(self):
        if isinstance(self.branches_, dict):
            return list(self.branches_.items())
        return [(str(i), b) for i, b in enumerate(self.branches_)]

    def combine(self, x, outs):
        shapes = [tuple(s) for s in outs.values()]
        if self.join in ("sum", "product"):
            if len(set(shapes)) != 1:
                raise ShapeError(f"{self.join} join needs equal branch shapes, got {shapes}")
            cost = costs.RESIDUAL if self.join == "sum" else costs.GATE
            return shapes[0], cost * numel(shapes[0]) * (len(shapes) - 1)
        a = self.axis
        for s in shapes:
            if a >= len(s):
                raise ShapeError(f"concat axis {a} is past the last dim of {s}")
        rest = {s[:a] + s[a + 1:] for s in shapes}
        if len(rest) != 1:
            raise ShapeError(f"concat on axis {a} needs branches equal elsewhere, got {shapes}")
        s0 = shapes[0]
        return (*s0[:a], sum(s[a] for s in shapes), *s0[a + 1:]), 0

    def join_torch(self, x, outs):
        import torch

        vals = list(outs.values())
        if self.join in ("sum", "product"):
            out = vals[0]
            for v in vals[1:]:
                out = out + v if self.join == "sum" else out * v
            return out
        return torch.cat(vals, dim=self.axis + 1)
