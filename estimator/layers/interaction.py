"""Feature interactions of recommender models: DLRM's pairwise dot products.

Naumov et al. (2019), "Deep Learning Recommendation Model for Personalization and
Recommendation Systems", arXiv:1906.00091, section 2.2 and Fig. 1: the dense features'
vector and the F - 1 pooled sparse embeddings (all of width d) are stacked into a (F, d)
matrix T; the interaction computes every dot product Z = T T^T and passes on the dense
vector concatenated with the entries of Z below the diagonal (the reference code,
facebookresearch/dlrm ``dlrm_s_pytorch.py`` ``interact_features``, with
``arch_interaction_itself`` false; true keeps the diagonal as well).
"""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Shape, ShapeError, register


@functools.cache
def _module():
    import torch
    from torch import nn

    class DotInteraction(nn.Module):
        """Stack [x, *features] to (B, F, d); Z = bmm(T, T^T); cat(x, Z's lower triangle)."""

        needs_env = True

        def __init__(self, features, n, itself):
            super().__init__()
            self.features = list(features)
            rows, cols = torch.tril_indices(n, n, offset=0 if itself else -1)
            self.register_buffer("index", rows * n + cols, persistent=False)

        def forward(self, x, env):
            t = torch.stack([x] + [env[f] for f in self.features], dim=1)
            z = torch.bmm(t, t.transpose(1, 2))
            return torch.cat([x, z.flatten(1).index_select(1, self.index)], dim=1)

    return DotInteraction


@register
class DotInteraction(LayerSpec):
    """DLRM's dot interaction: its input (d,) and the (d,) outputs named in ``features``
    (F vectors in all) -> (d + F(F-1)/2,): the input beside every pairwise dot product.

    No parameters. FLOPs: the batched matmul T T^T as PyTorch counts it, the full F x F
    matrix (not only the triangle kept). ``itself: true`` keeps the F self products too."""

    kind: Literal["dot_interaction"] = "dot_interaction"
    features: list[str] = Field(..., min_length=1,
                                description="paths (or input names) of the other (d,) vectors")
    itself: bool = Field(False, description="keep each vector's product with itself (the diagonal)")

    family: ClassVar[str] = "interaction"
    EXAMPLE = {"input": {"vector": 8},
               "layer": {"kind": "dot_interaction", "features": ["input", "input"]}}

    path_keys: ClassVar[tuple[str, ...]] = ("features",)

    def _dims(self, x: Shape, ctx: Ctx) -> tuple[int, int]:
        if len(x) != 1:
            raise ShapeError(f"dot_interaction takes a vector (d,), got {tuple(x)}")
        for f in self.features:
            s = ctx.env.get(f)
            if s is None:
                raise ShapeError(f"feature '{f}' is not an earlier layer or input")
            if tuple(s) != tuple(x):
                raise ShapeError(f"feature '{f}' has shape {tuple(s)}, the input {tuple(x)}: "
                                 "all vectors must have the same width")
        return len(self.features) + 1, x[0]

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        n, d = self._dims(x, ctx)
        pairs = n * (n + 1) // 2 if self.itself else n * (n - 1) // 2
        return (d + pairs,)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """FLOPs = 2·F·F·d: Z = T T^T with T (F, d), one multiply-add per (i, j, k)
        (PyTorch's bmm count, 2·b·n·m·k); the gather and concatenation are copies (0)."""
        n, d = self._dims(x, ctx)
        return Formula(flops=2 * n * n * d)

    def build(self, x: Shape, ctx: Ctx):
        n, _ = self._dims(x, ctx)
        return _module()(self.features, n, self.itself)
