"""Hierarchical mixture of experts: a primary gate picks groups, each group's own gate picks
experts (Shazeer et al. 2017, Appendix B), with noisy top-k gating (section 2.1)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .mlp import ACTIVATIONS
from .moe import experts_module
from .registry import (Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, numel,
                       normal_weights, register)


@functools.cache
def _module():
    import torch
    from torch import nn
    from torch.nn import functional as F

    Experts = experts_module()  # moe.py's stacked experts, plain (not gated)

    class Gates(nn.Module):
        """A level's gating weights, ``gate`` and, with noisy gating, ``noise`` (W_g and W_noise):
        the logits H(x) = x W_g + StandardNormal() x softplus(x W_noise) (eq. 4), for the primary
        gate (x (N, d)) or for the secondary gates of the chosen groups (x (N*k, 1, d), groups g)."""

        def forward(self, x, g=None):
            def project(w):  # the primary gate is a linear map, the secondaries a gathered bmm
                return F.linear(x, w) if g is None else torch.bmm(x, w[g])

            logits = project(self.gate)
            if self.noise is not None:
                logits = logits + torch.randn_like(logits) * F.softplus(project(self.noise))
            return logits

    class HierarchicalMoE(nn.Module):
        def __init__(self, d, groups, group_size, top_groups, top_k, hidden, activation, noisy):
            super().__init__()
            self.b, self.k1, self.k2 = group_size, top_groups, top_k
            self.primary = Gates()
            self.primary.gate = nn.Parameter(normal_weights(groups, d, std=d ** -0.5))
            self.primary.noise = (nn.Parameter(normal_weights(groups, d, std=d ** -0.5))
                                  if noisy else None)
            self.secondary = Gates()
            self.secondary.gate = nn.Parameter(normal_weights(groups, d, group_size, std=d ** -0.5))
            self.secondary.noise = (nn.Parameter(normal_weights(groups, d, group_size, std=d ** -0.5))
                                    if noisy else None)
            self.experts = Experts(groups * group_size, d, hidden, activation, False)

        def forward(self, x):
            shape = x.shape
            flat = x.reshape(-1, shape[-1])
            n, d = flat.shape
            logits = self.primary(flat)
            top, group = torch.topk(logits, self.k1, dim=-1)
            w1 = torch.softmax(top, dim=-1)  # softmax over the k kept values, eq. 3
            xs = flat.unsqueeze(1).expand(n, self.k1, d).reshape(n * self.k1, 1, d)
            inner = self.secondary(xs, group.reshape(-1)).squeeze(1)
            top2, expert = torch.topk(inner, self.k2, dim=-1)
            w2 = torch.softmax(top2, dim=-1).view(n, self.k1, self.k2)
            idx = (group.unsqueeze(-1) * self.b + expert.view(n, self.k1, self.k2)).view(n, -1)
            y = self.experts(flat, idx) * (w1.unsqueeze(-1) * w2).view(n, -1, 1)
            return y.sum(dim=1).view(shape)

    return HierarchicalMoE


@register
class HierarchicalMoE(LayerSpec):
    """Two-level mixture of experts (Shazeer et al. 2017, "Outrageously Large Neural Networks:
    The Sparsely-Gated Mixture-of-Experts Layer", ICLR, Appendix B): a primary gating network
    chooses ``top_groups`` of ``groups`` groups, each chosen group's own gating network chooses
    ``top_k`` of its ``group_size`` experts, and the output is the sum of the chosen experts'
    outputs weighted by the product of the two gates. Experts are one-hidden-layer feed-forwards
    without biases (Appendix C: [512*1024]+[1024*512] = 1M parameters each).

    Noisy top-k gating (section 2.1, eq. 4) gives every gate a second projection W_noise whose
    softplus scales Gaussian noise; ``noisy: true`` counts it, as the paper's parameter and
    ops/timestep columns do (Table 8: MoE-131072-h, 137,577.6M parameters and 9.7M ops per
    timestep with a 512-wide LSTM on either side).

    With d the width, a groups of b experts, k1 groups and k2 experts per group kept, hidden h,
    m = 2 with noise (1 without), n tokens: params = m·d·a (primary) + m·a·d·b (secondary) +
    a·b·2·d·h (experts); active = m·d·a + k1·m·d·b + k1·k2·2·d·h; FLOPs = 2·n·m·d·a + k1·2·n·m·d·b
    + k1·k2·2·2·n·d·h (only the gates and experts a token visits).
    """

    kind: Literal["hierarchical_moe"] = "hierarchical_moe"
    groups: Size = Field(..., description="groups a the primary gate chooses among")
    group_size: Size = Field(..., description="experts b in each group")
    top_groups: Size = Field(..., description="groups each token visits (k at the first level)")
    top_k: Size = Field(..., description="experts each visited group applies (k at the second level)")
    hidden: Size = Field(..., description="hidden width of one expert")
    activation: Literal[ACTIVATIONS] = Field("relu", description="relu | gelu | gelu_tanh | silu")
    noisy: bool = Field(True, description="noisy top-k gating: a W_noise beside every gate (eq. 4)")

    family: ClassVar[str] = "moe"
    EXAMPLE = {"input": {"shape": [5, 8]},
               "layer": {"kind": "hierarchical_moe", "groups": 2, "group_size": 3, "top_groups": 1,
                         "top_k": 2, "hidden": 6}}

    def _check(self, x: Shape):
        if not x:
            raise ShapeError("hierarchical_moe needs an input with a feature dimension")
        if self.top_groups > self.groups:
            raise ShapeError(f"top_groups={self.top_groups} is more than groups={self.groups}")
        if self.top_k > self.group_size:
            raise ShapeError(f"top_k={self.top_k} is more than group_size={self.group_size}")

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._check(x)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self._check(x)
        n, d = numel(x[:-1]), x[-1]
        a, b, k1, k2, h = self.groups, self.group_size, self.top_groups, self.top_k, self.hidden
        gates = ("gate", "noise") if self.noisy else ("gate",)
        p = {}
        for s in gates:
            p[f"primary.{s}"] = Param((a, d), "dense")
            p[f"secondary.{s}"] = Param((a, d, b), "dense", active=k1 * d * b)
        p["experts.up"] = Param((a * b, d, h), "expert", active=k1 * k2 * d * h)
        p["experts.down"] = Param((a * b, h, d), "expert", active=k1 * k2 * h * d)
        m = len(gates)
        primary = m * 2 * n * d * a
        secondary = m * k1 * 2 * n * d * b
        experts = k1 * k2 * 2 * 2 * n * d * h
        noise = (costs.ACTIVATION + 2) * (a + k1 * b) * n if self.noisy else 0  # softplus, x noise, add
        parts = {"primary": (primary, costs.SOFTMAX * k1 * n + noise),
                 "secondary": (secondary, costs.SOFTMAX * k1 * k2 * n),
                 "experts": (experts, n * k1 * k2 * (h * costs.ACTIVATION + 2 * d))}
        return Formula(p, flops=primary + secondary + experts,
                       other=sum(o for _, o in parts.values()), parts=parts)

    def build(self, x: Shape, ctx: Ctx):
        return _module()(x[-1], self.groups, self.group_size, self.top_groups, self.top_k,
                         self.hidden, self.activation, self.noisy)
