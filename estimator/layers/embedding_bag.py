"""Embedding bags: a pooled lookup of a multi-hot categorical feature (recommender systems).

A sparse feature of a click-through-rate model is a bag of L ids (L = 1 for a one-hot
feature such as Criteo's); the bag is looked up in one table and its rows are pooled into a
single vector. This is PyTorch's ``nn.EmbeddingBag`` and the sparse-feature arm of DLRM
(Naumov et al. 2019, "Deep Learning Recommendation Model for Personalization and
Recommendation Systems", arXiv:1906.00091, section 2.1.1 and Fig. 1).
"""
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, register


@register
class EmbeddingBag(LayerSpec):
    """A pooled lookup: a bag of L ids (L,) -> one vector (dim,). Params: vocab x dim.

    The gather is a copy and the pooling is elementwise, so there are no matrix-class FLOPs
    (PyTorch's counter counts none for ``embedding_bag``); other = the L·dim adds (or
    compares for ``max``) of the pooling, plus dim divides for ``mean``."""

    kind: Literal["embedding_bag"] = "embedding_bag"
    vocab: Size = Field(..., description="number of rows of the table")
    dim: Size = Field(..., description="embedding width")
    mode: Literal["sum", "mean", "max"] = Field("sum", description="how a bag's rows are pooled")

    family: ClassVar[str] = "embedding"
    takes_ids: ClassVar[bool] = True
    EXAMPLE = {"input": {"tokens": 5}, "layer": {"kind": "embedding_bag", "vocab": 50, "dim": 8}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if len(x) != 1:
            raise ShapeError(f"embedding_bag takes one bag of ids (L,), got {tuple(x)}")
        return (self.dim,)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = vocab·dim (one table; Naumov et al. 2019, s2.1.1: W in R^{m x d});
        forward FLOPs = 0 (a lookup, ``W^T e_i`` with one-hot e_i, is a gather);
        other = L·dim (each looked-up element added into, or compared with, the pooled
        vector) + dim divides for ``mean``."""
        self.output_shape(x, ctx)
        other = x[0] * self.dim + (self.dim if self.mode == "mean" else 0)
        return Formula({"weight": Param((self.vocab, self.dim), "embedding")}, other=other)

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        # a 2-D input (batch, L) is read as one bag per row
        return nn.EmbeddingBag(self.vocab, self.dim, mode=self.mode)
