"""Shape-only layers: flatten, dropout, identity, transpose, select, reshape. No parameters, no
FLOPs."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import (Count0, Ctx, Formula, LayerSpec, Prob, Shape, ShapeError, Sizes, numel,
                       register)


@register
class Flatten(LayerSpec):
    """Flatten dims from ``start`` on (batchless; default all): (256, 6, 6) -> (9216,)."""

    kind: Literal["flatten"] = "flatten"
    start: Count0 = Field(0, description="first (batchless) dim to flatten")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"image": [2, 3, 3]}, "layer": {"kind": "flatten"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if self.start >= max(len(x), 1):
            raise ShapeError(f"flatten start {self.start} is past the last dim of {tuple(x)}")
        return (*x[:self.start], numel(x[self.start:]))

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.Flatten(self.start + 1)


@register
class Dropout(LayerSpec):
    """Dropout: identity at inference, 0 FLOPs, no parameters."""

    kind: Literal["dropout"] = "dropout"
    p: Prob = Field(0.5, description="drop probability")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"vector": 8}, "layer": {"kind": "dropout", "p": 0.1}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.Dropout(self.p)


@register
class Identity(LayerSpec):
    """Identity: passes its input through (a placeholder, or an empty shortcut)."""

    kind: Literal["identity"] = "identity"

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"vector": 8}, "layer": {"kind": "identity"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return nn.Identity()


@functools.cache
def _transpose_module():
    from torch import nn

    class Transpose(nn.Module):
        def __init__(self, a: int, b: int):
            super().__init__()
            self.a, self.b = a + 1, b + 1  # past the batch dim

        def forward(self, x):
            return x.transpose(self.a, self.b)

    return Transpose


@register
class Transpose(LayerSpec):
    """Swap two batchless dims: a conv stem's (C, L) becomes a (L, C) sequence for attention
    (Whisper's encoder). A view: no parameters, no FLOPs."""

    kind: Literal["transpose"] = "transpose"
    dims: tuple[Count0, Count0] = Field((0, 1), description="the two (batchless) dims to swap")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"shape": [4, 6]}, "layer": {"kind": "transpose"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        a, b = self.dims
        if max(a, b) >= len(x):
            raise ShapeError(f"transpose dims {a}, {b} go past the last dim of {tuple(x)}")
        out = list(x)
        out[a], out[b] = out[b], out[a]
        return tuple(out)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        return _transpose_module()(*self.dims)


@functools.cache
def _select_module():
    from torch import nn

    class Select(nn.Module):
        def __init__(self, dim: int, index: int):
            super().__init__()
            self.dim, self.index = dim + 1, index  # past the batch dim

        def forward(self, x):
            return x.select(self.dim, self.index)

    return Select


@register
class Select(LayerSpec):
    """Take one position along a batchless dim, dropping it: BERT's pooler reads the first
    ([CLS]) token, (T, d) -> (d,). An index: no parameters, no FLOPs."""

    kind: Literal["select"] = "select"
    dim: Count0 = Field(0, description="the (batchless) dim to index")
    index: Count0 = Field(0, description="the position taken (0 = first)")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"shape": [5, 8]}, "layer": {"kind": "select"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if self.dim >= len(x):
            raise ShapeError(f"select dim {self.dim} is past the last dim of {tuple(x)}")
        if self.index >= x[self.dim]:
            raise ShapeError(f"select index {self.index} is past the size {x[self.dim]} of dim {self.dim}")
        return (*x[:self.dim], *x[self.dim + 1:])

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        return _select_module()(self.dim, self.index)


@functools.cache
def _reshape_module():
    from torch import nn

    class Reshape(nn.Module):
        """(B, *x) -> (B, *shape)."""

        def __init__(self, shape):
            super().__init__()
            self.shape = tuple(shape)

        def forward(self, x):
            return x.reshape(x.shape[0], *self.shape)

    return Reshape


@register
class Reshape(LayerSpec):
    """Reshape to ``shape`` (batchless, row-major): (512,) -> (1, 512). The element count must
    not change. No parameters, no FLOPs."""

    kind: Literal["reshape"] = "reshape"
    shape: Sizes = Field(..., description="the new batchless shape, e.g. [1, 512]")

    family: ClassVar[str] = "shape"
    EXAMPLE = {"input": {"vector": 12}, "layer": {"kind": "reshape", "shape": [3, 4]}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        shape = (self.shape,) if isinstance(self.shape, int) else tuple(self.shape)
        if numel(shape) != numel(x):
            raise ShapeError(f"reshape {tuple(x)} -> {shape}: {numel(x)} elements cannot "
                             f"become {numel(shape)}")
        return shape

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self.output_shape(x, ctx)
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        return _reshape_module()(self.output_shape(x, ctx))
