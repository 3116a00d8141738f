"""Mixture of experts: a router, routed experts (top-k per token) and optional shared experts."""
import functools
from typing import ClassVar, Literal, Optional

from pydantic import Field

from . import elementwise as costs
from .mlp import ACTIVATIONS, mlp_formula, torch_activation
from .registry import (Count0, Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, numel,
                       normal_weights, register)


@functools.cache
def experts_module():
    """The stacked-experts module, shared with the hierarchical MoE room."""
    import torch
    from torch import nn

    class Experts(nn.Module):
        """E expert MLPs stored as stacked tensors; a token's k experts are gathered and
        applied with bmm, so the work is exactly top_k experts per token (static shapes: it
        runs on the meta device, where routing values do not exist)."""

        def __init__(self, n, d, hidden, activation, gated):
            super().__init__()
            self.up = nn.Parameter(normal_weights(n, d, hidden, std=d ** -0.5))
            self.gate = nn.Parameter(normal_weights(n, d, hidden, std=d ** -0.5)) if gated else None
            self.down = nn.Parameter(normal_weights(n, hidden, d, std=hidden ** -0.5))
            self.act = torch_activation(activation)

        def forward(self, x, idx):  # x (N, d), idx (N, k) -> (N, k, d)
            n, k = idx.shape
            xs = x.unsqueeze(1).expand(n, k, x.shape[-1]).reshape(n * k, 1, x.shape[-1])
            flat = idx.reshape(-1)
            h = torch.bmm(xs, self.up[flat])
            if self.gate is not None:
                h = self.act(torch.bmm(xs, self.gate[flat])) * h
            else:
                h = self.act(h)
            return torch.bmm(h, self.down[flat]).view(n, k, -1)

    return Experts


@functools.cache
def _module():
    import torch
    from torch import nn

    from .mlp import _module as mlp_module

    Experts = experts_module()

    class MoE(nn.Module):
        def __init__(self, d, n_experts, top_k, hidden, shared_hidden, activation, gated, router_bias,
                     scoring, score_bias, shared_gate=False):
            super().__init__()
            self.top_k, self.scoring = top_k, scoring
            self.router = nn.Linear(d, n_experts, bias=router_bias)
            # DeepSeek-V3: added to the affinities for the top-k choice only
            self.score_bias = nn.Parameter(torch.zeros(n_experts)) if score_bias else None
            self.experts = Experts(n_experts, d, hidden, activation, gated)
            self.shared = mlp_module()(d, shared_hidden, activation, gated, False) if shared_hidden else None
            # Qwen1.5-MoE: the shared experts' output scaled by sigmoid(x · w), w a d-vector
            self.shared_gate = nn.Linear(d, 1, bias=False) if shared_gate else None

        def forward(self, x):
            shape = x.shape
            flat = x.reshape(-1, shape[-1])
            logits = self.router(flat)
            if self.scoring == "softmax":
                weights, idx = torch.topk(torch.softmax(logits, dim=-1), self.top_k, dim=-1)
            else:  # sigmoid affinities, top-k on (affinity + bias), weights normalised over the k
                scores = torch.sigmoid(logits)
                choice = scores if self.score_bias is None else scores + self.score_bias
                idx = torch.topk(choice, self.top_k, dim=-1).indices
                weights = scores.gather(-1, idx)
                weights = weights / weights.sum(dim=-1, keepdim=True)
            y = (self.experts(flat, idx) * weights.unsqueeze(-1)).sum(dim=1)
            if self.shared is not None:
                shared = self.shared(flat)
                if self.shared_gate is not None:
                    shared = torch.sigmoid(self.shared_gate(flat)) * shared
                y = y + shared
            return y.view(shape)

    return MoE


@register
class MoE(LayerSpec):
    """Mixture-of-experts feed-forward (Shazeer et al. 2017; Mixtral, Jiang et al. 2024;
    DeepSeekMoE shared experts, Dai et al. 2024).

    The router scores E experts by softmax (Shazeer et al. 2017, GShard, Switch, Mixtral) or by
    sigmoid affinities normalised over the selected k (DeepSeek-V3, arXiv:2412.19437, s2.1.2
    eqs. 13-15); ``score_bias`` adds DeepSeek-V3's per-expert balancing bias b_i to the
    affinities for the top-k choice only (eq. 16, auxiliary-loss-free load balancing): E
    parameters, updated by a rule rather than by gradient, but stored and counted with the
    weights (DeepSeek-V3's 671,026,419,200 includes them).

    params = router d·E (+E bias) (+E score bias) + E·m·d·hidden (routed) + S·m·d·shared_hidden (shared),
    with m = 3 weight matrices gated, 2 plain. Active params (one token): router + top_k
    routed experts + all shared experts. FLOPs count only the experts a token visits:
    2·T·d·E (router) + top_k·2·T·m·d·hidden + S·2·T·m·d·shared_hidden.
    Routed experts are typed 'expert'; shared experts too (always active); the router 'dense'.

    ``shared_gate`` scales the shared experts' output by sigmoid(x·w) with w a learned
    d-vector (Qwen1.5-MoE, transformers' ``Qwen2MoeSparseMoeBlock.shared_expert_gate``):
    d params, 2·T·d FLOPs, other T·(ACTIVATION + d) for the sigmoid and the scaling.
    """

    kind: Literal["moe"] = "moe"
    experts: Size = Field(..., description="number of routed experts E")
    top_k: Size = Field(..., description="experts each token visits")
    hidden: Size = Field(..., description="hidden width of one expert")
    shared_experts: Count0 = Field(0, description="always-active shared experts S")
    shared_hidden: Optional[Size] = Field(None, description="hidden width of one shared expert (default: hidden)")
    activation: Literal[ACTIVATIONS] = Field("silu", description="relu | gelu | gelu_tanh | silu")
    gated: bool = Field(True, description="gated experts (SwiGLU)")
    router_bias: bool = Field(False, description="bias on the router logits")
    scoring: Literal["softmax", "sigmoid"] = Field(
        "softmax", description="router scores: softmax, or sigmoid normalised over the top k (DeepSeek-V3)")
    score_bias: bool = Field(False, description="per-expert bias added to the scores for the top-k choice only (DeepSeek-V3)")
    shared_gate: bool = Field(False, description="scale the shared experts by sigmoid(x·w), w a d-vector (Qwen1.5-MoE)")

    family: ClassVar[str] = "moe"
    EXAMPLE = {"input": {"shape": [5, 8]},
               "layer": {"kind": "moe", "experts": 4, "top_k": 2, "hidden": 12, "shared_experts": 1}}

    def _check(self, x: Shape):
        if not x:
            raise ShapeError("moe needs an input with a feature dimension")
        if self.top_k > self.experts:
            raise ShapeError(f"top_k={self.top_k} is more than experts={self.experts}")

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._check(x)
        return tuple(x)

    def _shared_width(self) -> int:
        return self.shared_experts * (self.shared_hidden or self.hidden)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self._check(x)
        n, d, e, k, f = numel(x[:-1]), x[-1], self.experts, self.top_k, self.hidden
        m = 3 if self.gated else 2
        p = {"router.weight": Param((e, d), "dense")}
        if self.router_bias:
            p["router.bias"] = Param((e,), "dense")
        if self.score_bias:
            p["score_bias"] = Param((e,), "dense")  # used by the selection, outside the router
        for name in ("up", "gate", "down") if self.gated else ("up", "down"):
            shape = (e, f, d) if name == "down" else (e, d, f)
            p[f"experts.{name}"] = Param(shape, "expert", active=k * d * f)
        router = 2 * n * d * e
        routed = k * m * 2 * n * d * f
        routed_other = n * k * (f * (costs.ACTIVATION + (costs.GATE if self.gated else 0)) + 2 * d)
        score = costs.SOFTMAX if self.scoring == "softmax" else costs.ACTIVATION
        router_other = (score * e + (e if self.router_bias else 0) + (e if self.score_bias else 0)) * n
        if self.scoring == "sigmoid":
            router_other += 2 * k * n  # normalise the k selected weights: sum and divide
        parts = {"router": (router, router_other),
                 "experts": (routed, routed_other)}
        if self.shared_experts:
            sp, sflops, sother = mlp_formula(n, d, self._shared_width(), self.gated, False,
                                             "expert", prefix="shared.")
            p.update(sp)
            parts["shared"] = (sflops, sother + costs.RESIDUAL * n * d)
            if self.shared_gate:
                p["shared_gate.weight"] = Param((1, d), "expert")
                parts["shared_gate"] = (2 * n * d, n * (costs.ACTIVATION + d))
        elif self.shared_gate:
            raise ShapeError("shared_gate needs shared_experts")
        return Formula(p, flops=sum(v for v, _ in parts.values()),
                       other=sum(o for _, o in parts.values()), parts=parts)

    def build(self, x: Shape, ctx: Ctx):
        return _module()(x[-1], self.experts, self.top_k, self.hidden, self._shared_width(),
                         self.activation, self.gated, self.router_bias, self.scoring, self.score_bias,
                         self.shared_gate)
