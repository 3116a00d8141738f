"""Contrastive image-text logits (Radford et al. 2021, "Learning Transferable Visual Models From
Natural Language Supervision", Figure 3): both embeddings L2-normalised, their dot product
scaled by a learned temperature exp(t)."""
import functools
import math
from typing import ClassVar, Literal

from pydantic import Field

from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, register


@functools.cache
def _module():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class ContrastiveLogit(nn.Module):
        """logit = exp(t) · <x/|x|, y/|y|> per example: (B, d), (B, d) -> (B, 1)."""

        needs_env = True

        def __init__(self, other, scale):
            super().__init__()
            self.other = other
            if scale:  # CLIP initialises t to log(1 / 0.07) (section 2.5); CLIP stores it as a
                # 0-d tensor, here (1,) so that ONNX keeps it as a weight, not a constant
                self.logit_scale = nn.Parameter(torch.full((1,), math.log(1 / 0.07)))
            else:
                self.logit_scale = None

        def forward(self, x, env):
            a, b = F.normalize(x, dim=-1), F.normalize(env[self.other], dim=-1)
            logit = torch.einsum("bd,bd->b", a, b).unsqueeze(-1)
            return logit * self.logit_scale.exp() if self.logit_scale is not None else logit

    return ContrastiveLogit


@register
class ContrastiveLogit(LayerSpec):
    """The similarity logit of this example's embedding and another path's (CLIP's image and
    text embeddings): (d,) with ``other`` (d,) -> (1,). With ``scale``, one learned scalar
    temperature (CLIP's logit_scale).

    Training compares every image of a batch of N with every text (an N x N matrix); per
    example that is this one product per pair, so a forward pass counts one pair."""

    kind: Literal["contrastive_logit"] = "contrastive_logit"
    other: str = Field(..., description="path (or input) of the embedding to compare with")
    scale: bool = Field(True, description="multiply by a learned exp(t) (CLIP's logit_scale)")

    family: ClassVar[str] = "contrastive"
    EXAMPLE = {"input": {"vector": 8},
               "layer": {"kind": "sequential", "name": "pair", "layers": [
                   {"kind": "linear", "name": "a", "out": 4},
                   {"kind": "linear", "name": "b", "from": "input", "out": 4},
                   {"kind": "contrastive_logit", "name": "logit", "other": "pair.a"}]}}

    path_keys: ClassVar[tuple[str, ...]] = ("other",)

    def _d(self, x: Shape, ctx: Ctx) -> int:
        y = ctx.env.get(self.other)
        if y is None:
            raise ShapeError(f"other '{self.other}' is not an earlier layer or input")
        if len(x) != 1 or tuple(y) != tuple(x):
            raise ShapeError(f"contrastive_logit compares two (d,) embeddings of one width, got "
                             f"{tuple(x)} and {tuple(y)} from '{self.other}'")
        return x[0]

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._d(x, ctx)
        return (1,)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """FLOPs = 2·d (the dot product, a matrix-class contraction);
        other = 2 x 3·d (each L2 norm: square, sum, divide) + 2 with the scale (exp, multiply)."""
        d = self._d(x, ctx)
        params = {"logit_scale": Param((1,), "dense")} if self.scale else {}
        return Formula(params, flops=2 * d, other=6 * d + (2 if self.scale else 0))

    def build(self, x: Shape, ctx: Ctx):
        self._d(x, ctx)
        return _module()(self.other, self.scale)
