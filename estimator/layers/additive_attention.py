"""Additive (Bahdanau) attention: a one-hidden-layer network scores every (query, key) pair and
the output is the attention-weighted sum of the memory (the recurrent translators' attention)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, register


@functools.cache
def _module():
    import torch
    from torch import nn

    class AdditiveAttention(nn.Module):
        needs_env = True  # reads the memory from the outputs recorded so far

        def __init__(self, d_q, d_k, units, bias, memory):
            super().__init__()
            self.memory = memory
            self.query = nn.Linear(d_q, units, bias=bias)
            self.key = nn.Linear(d_k, units, bias=False)
            self.v = nn.Linear(units, 1, bias=False)

        def forward(self, x, env=None):
            mem = env[self.memory]
            hidden = torch.tanh(self.query(x).unsqueeze(2) + self.key(mem).unsqueeze(1))  # (B, T, S, a)
            weights = torch.softmax(self.v(hidden).squeeze(-1), dim=-1)                  # (B, T, S)
            return torch.bmm(weights, mem)                                                # (B, T, d_k)

    return AdditiveAttention


@register
class AdditiveAttention(LayerSpec):
    """Additive attention (Bahdanau, Cho & Bengio 2015, "Neural Machine Translation by Jointly
    Learning to Align and Translate", ICLR, Appendix A.1.2: e_ij = v^T tanh(W s_i + U h_j);
    GNMT's "feed forward network with one hidden layer", Wu et al. 2016, section 3): queries
    (T, d_q) attend over the output at ``memory`` (S, d_k); the output is the context
    sum_j softmax_j(e_ij) h_j, (T, d_k).

    With a hidden units: params = d_q·a (W, + a with ``bias``) + d_k·a (U) + a (v); FLOPs =
    2·T·d_q·a + 2·S·d_k·a (the two projections, the keys' once per sequence) + 2·T·S·a (v over
    every pair) + 2·T·S·d_k (the weighted sum); other = 2·T·S·a (the broadcast add and the tanh)
    + 3·T·S (softmax) (+ T·a bias adds).
    """

    kind: Literal["additive_attention"] = "additive_attention"
    memory: str = Field(..., description="path (or input) of the (S, d_k) sequence attended to")
    units: Size = Field(..., description="hidden units a of the scoring network")
    bias: bool = Field(False, description="a bias on the query projection")

    family: ClassVar[str] = "attention"
    EXAMPLE = {"input": {"shape": [3, 8]},
               "layer": {"kind": "sequential", "name": "pair", "layers": [
                   {"kind": "linear", "name": "enc", "out": 6},
                   {"kind": "additive_attention", "name": "attn", "from": "input",
                    "memory": "pair.enc", "units": 4}]}}

    path_keys: ClassVar[tuple[str, ...]] = ("memory",)

    def _dims(self, x: Shape, ctx: Ctx):
        if len(x) != 2:
            raise ShapeError(f"additive_attention takes a (T, d) sequence, got {tuple(x)}")
        m = ctx.env.get(self.memory)
        if m is None:
            raise ShapeError(f"memory '{self.memory}' is not an earlier layer or input")
        if len(m) != 2:
            raise ShapeError(f"memory '{self.memory}' must be a (S, d) sequence, got {tuple(m)}")
        return x[0], x[1], m[0], m[1]

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        t, _, _, d_k = self._dims(x, ctx)
        return (t, d_k)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        t, d_q, s, d_k = self._dims(x, ctx)
        a = self.units
        p = {"query.weight": Param((a, d_q), "attention"), "key.weight": Param((a, d_k), "attention"),
             "v.weight": Param((1, a), "attention")}
        if self.bias:
            p["query.bias"] = Param((a,), "attention")
        parts = {"query": (2 * t * d_q * a, t * a if self.bias else 0),
                 "key": (2 * s * d_k * a, 0),
                 "v": (2 * t * s * a, (costs.RESIDUAL + costs.ACTIVATION) * t * s * a + costs.SOFTMAX * t * s),
                 "context": (2 * t * s * d_k, 0)}
        return Formula(p, flops=sum(f for f, _ in parts.values()),
                       other=sum(o for _, o in parts.values()), parts=parts)

    def build(self, x: Shape, ctx: Ctx):
        _, d_q, _, d_k = self._dims(x, ctx)
        return _module()(d_q, d_k, self.units, self.bias, self.memory)
