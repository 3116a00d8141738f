"""Multi-head latent attention (MLA): DeepSeek-V2's attention with low-rank key/value (and
query) compression and a decoupled rotary key shared by all heads."""
import functools
from typing import ClassVar, Literal, Optional

from pydantic import Field

from . import elementwise as costs
from .attention import rope_tables, rotate
from .registry import Ctx, Formula, LayerSpec, Number, Param, Shape, ShapeError, Size, register


@functools.cache
def _module():
    import torch
    from torch import nn

    class MLA(nn.Module):
        """Projections named as the analytic tensors; scores and values as two matmuls."""

        def __init__(self, d, h, q_rank, kv_rank, nope, rope, v, t, causal, eps):
            super().__init__()
            self.h, self.nope, self.rope, self.v_dim, self.causal = h, nope, rope, v, causal
            self.kv_rank = kv_rank
            qk = nope + rope
            if q_rank:
                self.q_a = nn.Linear(d, q_rank, bias=False)
                self.q_norm = nn.RMSNorm(q_rank, eps=eps)
                self.q_b = nn.Linear(q_rank, h * qk, bias=False)
            else:
                self.q = nn.Linear(d, h * qk, bias=False)
            self.kv_a = nn.Linear(d, kv_rank + rope, bias=False)
            self.kv_norm = nn.RMSNorm(kv_rank, eps=eps)
            self.kv_b = nn.Linear(kv_rank, h * (nope + v), bias=False)
            self.o = nn.Linear(h * v, d, bias=False)
            self.scale = qk ** -0.5
            cos, sin = rope_tables(t, rope)
            self.register_buffer("cos", cos, persistent=False)
            self.register_buffer("sin", sin, persistent=False)

        def forward(self, x):
            b, t, _ = x.shape
            h, nope, rope = self.h, self.nope, self.rope
            q = self.q_b(self.q_norm(self.q_a(x))) if hasattr(self, "q_a") else self.q(x)
            q = q.view(b, t, h, nope + rope).transpose(1, 2)
            q_nope, q_rope = q.split([nope, rope], dim=-1)
            c, k_rope = self.kv_a(x).split([self.kv_rank, rope], dim=-1)
            kv = self.kv_b(self.kv_norm(c)).view(b, t, h, nope + self.v_dim).transpose(1, 2)
            k_nope, v = kv.split([nope, self.v_dim], dim=-1)
            cos, sin = self.cos[:t], self.sin[:t]
            q = torch.cat((q_nope, rotate(q_rope, cos, sin)), dim=-1)
            k_rope = rotate(k_rope, cos, sin).unsqueeze(1).expand(b, h, t, rope)
            k = torch.cat((k_nope, k_rope), dim=-1)
            scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
            if self.causal:
                mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
                scores = scores.masked_fill(mask, float("-inf"))
            y = torch.matmul(torch.softmax(scores, dim=-1), v)
            return self.o(y.transpose(1, 2).reshape(b, t, h * self.v_dim))

    return MLA


@register
class MLA(LayerSpec):
    """Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434, s2.1; DeepSeek-V3,
    arXiv:2412.19437, s2.1.1): keys and values are rebuilt per head from one compressed latent
    c^KV, queries from a compressed c^Q (or directly), and a decoupled rotary part carries
    positions (its key shared by all heads). No biases. RMSNorm after each latent (V3 s4.2).
    """

    kind: Literal["mla"] = "mla"
    heads: Size = Field(..., description="attention heads n_h")
    kv_lora_rank: Size = Field(..., description="key/value compression width d_c")
    q_lora_rank: Optional[Size] = Field(None, description="query compression width d'_c (none: queries projected directly, DeepSeek-V2-Lite)")
    qk_nope_dim: Size = Field(..., description="per-head query/key width without positions d_h")
    qk_rope_dim: Size = Field(..., description="per-head width of the decoupled rotary query/key d_h^R")
    v_head_dim: Size = Field(..., description="per-head value width")
    causal: bool = Field(True, description="mask future positions (decoder self-attention)")
    eps: Number = Field(1e-6, description="epsilon of the latent RMSNorms")

    family: ClassVar[str] = "attention"
    EXAMPLE = {"input": {"shape": [6, 16]},
               "layer": {"kind": "mla", "heads": 2, "q_lora_rank": 8, "kv_lora_rank": 6,
                         "qk_nope_dim": 4, "qk_rope_dim": 2, "v_head_dim": 3}}

    def _dims(self, x: Shape):
        if len(x) != 2:
            raise ShapeError(f"mla takes a (T, d) sequence, got {tuple(x)}")
        if self.qk_rope_dim % 2:
            raise ShapeError(f"qk_rope_dim must be even for rotary embedding, got {self.qk_rope_dim}")
        return x

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return tuple(self._dims(x))

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """With d = model width, h heads, d_c = kv_lora_rank, d'_c = q_lora_rank,
        n = qk_nope_dim, r = qk_rope_dim, v = v_head_dim, T tokens (DeepSeek-V3 eqs. 1-11):

        params = d·d'_c (W^DQ, eq. 6) + d'_c (its RMSNorm) + d'_c·h·(n + r) (W^UQ and W^QR,
        eqs. 7-8) [or d·h·(n + r) without query compression] + d·(d_c + r) (W^DKV and W^KR,
        eqs. 1 and 3) + d_c (its RMSNorm) + d_c·h·(n + v) (W^UK and W^UV, eqs. 2 and 5)
        + h·v·d (W^O, eq. 11).
        FLOPs = 2·T per weight (each projection above) + 2·T·T·h·(n + r) (scores q·k, eq. 10)
        + 2·T·T·h·v (weights x values, eq. 10); the full T x T matrix unless the analysis asks
        for the causal 'half' convention. other = the two RMSNorms, softmax and scale, rotary
        on h·r query and r key elements per token.
        """
        t, d = self._dims(x)
        h, rq, rkv = self.heads, self.q_lora_rank, self.kv_lora_rank
        n, r, v = self.qk_nope_dim, self.qk_rope_dim, self.v_head_dim
        p: dict[str, Param] = {}
        parts: dict[str, tuple[int, int]] = {}
        if rq:
            p["q_a.weight"] = Param((rq, d), "attention")
            p["q_norm.weight"] = Param((rq,), "norm")
            p["q_b.weight"] = Param((h * (n + r), rq), "attention")
            parts["q_a"] = (2 * t * d * rq, 0)
            parts["q_norm"] = (0, (costs.RMSNORM + 1) * t * rq)
            parts["q_b"] = (2 * t * rq * h * (n + r), 0)
        else:
            p["q.weight"] = Param((h * (n + r), d), "attention")
            parts["q"] = (2 * t * d * h * (n + r), 0)
        p["kv_a.weight"] = Param((rkv + r, d), "attention")
        p["kv_norm.weight"] = Param((rkv,), "norm")
        p["kv_b.weight"] = Param((h * (n + v), rkv), "attention")
        p["o.weight"] = Param((d, h * v), "attention")
        core = 2 * t * t * h * (n + r) + 2 * t * t * h * v
        if self.causal and ctx.causal == "half":
            core //= 2
        parts["kv_a"] = (2 * t * d * (rkv + r), 0)
        parts["kv_norm"] = (0, (costs.RMSNORM + 1) * t * rkv)
        parts["kv_b"] = (2 * t * rkv * h * (n + v), 0)
        parts["sdpa"] = (core, (costs.SOFTMAX + 1) * h * t * t + costs.ROTARY * (t * h * r + t * r))
        parts["o"] = (2 * t * h * v * d, 0)
        return Formula(p, flops=sum(f for f, _ in parts.values()),
                       other=sum(o for _, o in parts.values()), parts=parts)

    def build(self, x: Shape, ctx: Ctx):
        t, d = self._dims(x)
        return _module()(d, self.heads, self.q_lora_rank, self.kv_lora_rank, self.qk_nope_dim,
                         self.qk_rope_dim, self.v_head_dim, t, self.causal, self.eps)
