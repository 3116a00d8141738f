"""Attention: self and cross, multi-head / multi-query / grouped-query, optional rotary or
Transformer-XL relative positions."""
import functools
from typing import ClassVar, Literal, Optional

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Number, Param, Shape, ShapeError, Size, register


def rope_tables(length: int, dim: int):
    """cos and sin tables (length, dim) of rotary position embedding (Su et al. 2021, RoFormer):
    fixed rotations, buffers, no parameters. Made on the default device; each call returns
    its own copies (a layer's buffers are its own), computed once per shape and device (a
    model's layers share one shape: Llama 3.1 405B's 126 layers computed them 126 times, 0.26
    s of torch's Python meta kernels on the meta device)."""
    import torch

    cos, sin = _rope_tables(length, dim, str(torch.get_default_device()))
    return cos.clone(), sin.clone()


@functools.lru_cache(maxsize=4)
def _rope_tables(length: int, dim: int, device: str):
    import torch

    inv = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float32, device=device) / dim))
    ang = torch.outer(torch.arange(length, dtype=torch.float32, device=device), inv)
    ang = torch.cat((ang, ang), dim=-1)
    return ang.cos(), ang.sin()


def rotate(x, cos, sin):
    """Apply rotary embedding to the last dim of x (halves rotated against each other)."""
    import torch

    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def sinusoid_table(length: int, dim: int):
    """Transformer-XL's relative position table R (Dai et al. 2019, s3.3; the sinusoids of
    Vaswani et al. 2017, s3.5): row k holds distance T-1-k (the released code's ``pos_seq``
    runs from T-1 down to 0) as [sin(p·f_0..f_{d/2-1}), cos(p·f_0..f_{d/2-1})] with
    f_i = 10000^(-2i/d). Fixed: a buffer, no parameters."""
    import torch

    inv = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    ang = torch.outer(torch.arange(length - 1, -1, -1, dtype=torch.float32), inv)
    return torch.cat((ang.sin(), ang.cos()), dim=-1)


def rel_shift(x):
    """Align Transformer-XL's position scores: entry [i, k] of the (..., T, T) input scores
    query i against table row k (distance T-1-k); the result's [i, j] (j <= i) scores it
    against distance i-j. Pad a zero column, reinterpret T x (T+1) as (T+1) x T, drop the
    first row (Dai et al. 2019, appendix B). Entries above the diagonal are junk the causal
    mask removes. Index arithmetic only: no FLOPs."""
    import torch

    *lead, t, s = x.shape
    padded = torch.cat((x.new_zeros(*lead, t, 1), x), dim=-1)
    return padded.view(*lead, s + 1, t)[..., 1:, :]


@functools.cache
def _module():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class RelativeXL(nn.Module):
        """Transformer-XL's position machinery of one layer: W_{k,R} (``r``), the global
        content bias u, the global position bias v and the fixed sinusoid table R."""

        def __init__(self, d, heads, head_dim, length):
            super().__init__()
            self.heads, self.head_dim = heads, head_dim
            self.r = nn.Linear(d, heads * head_dim, bias=False)
            self.u = nn.Parameter(torch.zeros(heads, head_dim))
            self.v = nn.Parameter(torch.zeros(heads, head_dim))
            self.register_buffer("table", sinusoid_table(length, d), persistent=False)

        def forward(self, q):
            """q (b, h, T, e) -> (q + u, position scores (b, h, T, T) aligned by distance)."""
            t = q.shape[2]
            r = self.r(self.table[-t:]).view(t, self.heads, self.head_dim)  # (T, h, e)
            scores = torch.matmul(q + self.v[:, None, :], r.permute(1, 2, 0).unsqueeze(0))
            return q + self.u[:, None, :], rel_shift(scores)

    class Attention(nn.Module):
        """q/k/v/o projections around scaled_dot_product_attention (counted as two matmuls)."""

        def __init__(self, d, d_kv, heads, kv_heads, head_dim, qkv_bias, k_bias, out_bias, causal,
                     rotary_len, memory, position_bias, relative_len=0, qk_norm=None, qk_eps=1e-6):
            super().__init__()
            self.qk_norm = qk_norm
            if qk_norm:  # RMSNorm of each head's q and k ('head') or of the whole projections ('all')
                self.q_norm = nn.RMSNorm(head_dim if qk_norm == "head" else heads * head_dim, eps=qk_eps)
                self.k_norm = nn.RMSNorm(head_dim if qk_norm == "head" else kv_heads * head_dim, eps=qk_eps)
            self.heads, self.kv_heads, self.head_dim = heads, kv_heads, head_dim
            self.causal, self.memory, self.position_bias = causal, memory, position_bias
            self.q = nn.Linear(d, heads * head_dim, bias=qkv_bias)
            self.k = nn.Linear(d_kv, kv_heads * head_dim, bias=k_bias)
            self.v = nn.Linear(d_kv, kv_heads * head_dim, bias=qkv_bias)
            self.o = nn.Linear(heads * head_dim, d, bias=out_bias)
            self.rotary = rotary_len > 0
            if self.rotary:
                cos, sin = rope_tables(rotary_len, head_dim)
                self.register_buffer("cos", cos, persistent=False)
                self.register_buffer("sin", sin, persistent=False)
            if relative_len:
                self.pos = RelativeXL(d, heads, head_dim, relative_len)

        def forward(self, x, env=None):
            mem = env[self.memory] if self.memory else x
            b, t, _ = x.shape
            s = mem.shape[1]
            q, k = self.q(x), self.k(mem)
            if self.qk_norm == "all":
                q, k = self.q_norm(q), self.k_norm(k)
            q = q.view(b, t, self.heads, self.head_dim)
            k = k.view(b, s, self.kv_heads, self.head_dim)
            if self.qk_norm == "head":
                q, k = self.q_norm(q), self.k_norm(k)
            q, k = q.transpose(1, 2), k.transpose(1, 2)
            v = self.v(mem).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
            if self.rotary:
                q = rotate(q, self.cos[:t], self.sin[:t])
                k = rotate(k, self.cos[:s], self.sin[:s])
            if self.kv_heads != self.heads:
                rep = self.heads // self.kv_heads
                k = k.repeat_interleave(rep, dim=1)
                v = v.repeat_interleave(rep, dim=1)
            causal = self.causal and not self.memory
            mask = None
            if self.position_bias:  # T5: a learned bias added to the logits (and the causal mask)
                mask = env[self.position_bias]
            if hasattr(self, "pos"):  # Transformer-XL: (q+u)k^T + (q+v)(W_R R)^T, all scaled
                q, mask = self.pos(q)
                mask = mask * self.head_dim ** -0.5
            if mask is not None:
                if causal:
                    future = torch.ones(t, s, dtype=torch.bool, device=x.device).triu(1)
                    mask = mask.masked_fill(future, float("-inf"))
                    causal = False
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
            return self.o(y.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))

    Attention.needs_env = True
    return Attention


@register
class Attention(LayerSpec):
    """Scaled dot-product attention with q, k, v, o projections (Vaswani et al. 2017, s3.2).

    With d = model width, h heads, g = kv_heads, e = head_dim, T queries, S keys:
    params = d·h·e (q) + 2·d_kv·g·e (k, v) + h·e·d (o) (+ biases);
    FLOPs = 2·T·d·h·e + 2·2·S·d_kv·g·e + 2·T·h·e·d (projections)
          + 2·T·S·h·e (scores QK^T) + 2·T·S·h·e (weights x V).
    The score and value products count the full T x S matrix (as PyTorch, PaLM and Chinchilla
    do) unless the analysis asks for the causal 'half' convention (T·S/2), and only then for
    ``causal: true``. kv_heads = 1 is multi-query (Shazeer 2019), 1 < g < h grouped-query
    (Ainslie et al. 2023). ``memory: PATH`` makes it cross-attention over that output.

    ``relative: xl`` is Transformer-XL's relative attention (Dai et al. 2019, "Transformer-XL:
    Attentive Language Models Beyond a Fixed-Length Context", ACL, s3.3), used by Gopher and
    Chinchilla: score(i, j) = q_i·k_j (a) + q_i·W_{k,R} R_{i-j} (b) + u·k_j (c)
    + v·W_{k,R} R_{i-j} (d) = (q_i + u)·k_j + (q_i + v)·W_{k,R} R_{i-j}, with R the fixed
    sinusoid table of the T distances 0..T-1 (a buffer, no parameters), W_{k,R} a d x h·e
    projection and u, v trainable h x e biases. It adds params d·h·e + 2·h·e and FLOPs
    2·T·d·h·e (the table through W_{k,R}) + 2·T·T·h·e (the position scores, the full T x T
    matrix as for QK^T; half under the causal 'half' convention); other 2·T·h·e (adding u and
    v to q) + h·T·T (adding the position scores to the logits). u and v are per layer, as in
    the released code's large-model runs (``untie_r=True`` in kimiyoung/transformer-xl,
    tf/scripts/wt103_large_tpu.sh); the paper's equation has one u and v, and its PyTorch
    code shares them across layers by default. Causal self-attention only: the table covers
    keys at or before the query, as in Transformer-XL.

    ``qk_norm`` normalises queries and keys with RMSNorm after their projections (before
    rotary): ``head`` one scale of head_dim shared by the heads (Qwen3, transformers'
    ``Qwen3Attention``: params 2·e), ``all`` one scale over the whole projection (OLMoE,
    Muennighoff et al. 2024, s2 and ``OlmoeAttention``: params h·e + g·e); other
    (RMSNORM + 1) per normalised element.
    """

    kind: Literal["attention"] = "attention"
    heads: Size = Field(..., description="query heads")
    kv_heads: Optional[Size] = Field(None, description="key/value heads (default: heads; 1 = multi-query)")
    head_dim: Optional[Size] = Field(None, description="per-head width (default: d_model / heads)")
    bias: bool = Field(True, description="biases on q, k, v and o")
    qkv_bias: Optional[bool] = Field(None, description="override the bias of q, k, v")
    k_bias: Optional[bool] = Field(None, description="override the bias of k alone (Whisper: none)")
    out_bias: Optional[bool] = Field(None, description="override the bias of o")
    causal: bool = Field(False, description="mask future positions (decoder self-attention)")
    rotary: bool = Field(False, description="rotary position embedding on q and k (no parameters)")
    memory: Optional[str] = Field(None, description="cross-attention: path of the output to attend to")
    position_bias: Optional[str] = Field(
        None, description="path of a relative_bias layer whose (heads, T, S) output is added to the logits")
    relative: Optional[Literal["xl"]] = Field(
        None, description="xl: Transformer-XL relative positions (W_kR d x h·e, biases u and v "
                          "h x e, sinusoid table as a buffer)")
    qk_norm: Optional[Literal["head", "all"]] = Field(
        None, description="RMSNorm on q and k after projection: per head (head_dim scale, Qwen3) "
                          "or over the whole projection (OLMoE)")
    qk_norm_eps: Number = Field(1e-6, description="epsilon of the q/k RMSNorms")

    family: ClassVar[str] = "attention"
    EXAMPLE = {"input": {"shape": [6, 16]},
               "layer": {"kind": "attention", "heads": 4, "kv_heads": 2, "causal": True, "rotary": True}}

    path_keys: ClassVar[tuple[str, ...]] = ("memory", "position_bias")

    def _dims(self, x: Shape, ctx: Ctx):
        if len(x) != 2:
            raise ShapeError(f"attention takes a (T, d) sequence, got {tuple(x)}")
        t, d = x
        if self.memory:
            m = ctx.env.get(self.memory)
            if m is None:
                raise ShapeError(f"memory '{self.memory}' is not an earlier layer or input")
            if len(m) != 2:
                raise ShapeError(f"memory '{self.memory}' must be a (S, d) sequence, got {tuple(m)}")
            s, d_kv = m
        else:
            s, d_kv = t, d
        h = self.heads
        g = self.kv_heads or h
        if self.head_dim is None and d % h:
            raise ShapeError(f"heads={h} does not divide d_model={d} (set head_dim to override)")
        e = self.head_dim or d // h
        if h % g:
            raise ShapeError(f"kv_heads={g} must divide heads={h}")
        if self.rotary and e % 2:
            raise ShapeError(f"rotary needs an even head_dim, got {e}")
        if self.relative:
            if self.memory or not self.causal:
                raise ShapeError("relative: xl needs causal self-attention (causal: true, "
                                 "no memory): its table covers keys at or before the query")
            if self.rotary or self.position_bias:
                raise ShapeError("relative: xl already encodes positions; drop rotary/position_bias")
            if d % 2:
                raise ShapeError(f"relative: xl needs an even d_model (sinusoid table), got {d}")
        if self.position_bias:
            pb = ctx.env.get(self.position_bias)
            if pb is None:
                raise ShapeError(f"position_bias '{self.position_bias}' is not an earlier layer")
            if tuple(pb) != (h, t, s):
                raise ShapeError(f"position_bias '{self.position_bias}' gives {tuple(pb)}, "
                                 f"attention needs (heads, T, S) = {(h, t, s)}")
        qkv_bias = self.bias if self.qkv_bias is None else self.qkv_bias
        k_bias = qkv_bias if self.k_bias is None else self.k_bias
        out_bias = self.bias if self.out_bias is None else self.out_bias
        return t, d, s, d_kv, h, g, e, qkv_bias, k_bias, out_bias

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._dims(x, ctx)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        t, d, s, d_kv, h, g, e, qkv_bias, k_bias, out_bias = self._dims(x, ctx)
        p = {"q.weight": Param((h * e, d), "attention"), "k.weight": Param((g * e, d_kv), "attention"),
             "v.weight": Param((g * e, d_kv), "attention"), "o.weight": Param((d, h * e), "attention")}
        if qkv_bias:
            p.update({"q.bias": Param((h * e,), "attention"), "v.bias": Param((g * e,), "attention")})
        if k_bias:
            p["k.bias"] = Param((g * e,), "attention")
        if out_bias:
            p["o.bias"] = Param((d,), "attention")
        core = 2 * (2 * t * s * h * e)  # QK^T and AV
        pos_scores = 2 * t * t * h * e if self.relative else 0  # (q + v)(W_R R)^T
        if self.causal and not self.memory and ctx.causal == "half":
            core //= 2
            pos_scores //= 2
        if self.relative:
            p.update({"pos.r.weight": Param((h * e, d), "attention"),
                      "pos.u": Param((h, e), "attention"), "pos.v": Param((h, e), "attention")})
        b = costs.BIAS
        parts = {
            "q": (2 * t * d * h * e, b * t * h * e if qkv_bias else 0),
            "k": (2 * s * d_kv * g * e, b * s * g * e if k_bias else 0),
            "v": (2 * s * d_kv * g * e, b * s * g * e if qkv_bias else 0),
            "sdpa": (core, (costs.SOFTMAX + 1) * h * t * s
                     + (costs.ROTARY * (t * h * e + s * g * e) if self.rotary else 0)
                     + (costs.BIAS * h * t * s if self.position_bias else 0)),
            "o": (2 * t * h * e * d, b * t * d if out_bias else 0),
        }
        if self.qk_norm:
            qn, kn = (e, e) if self.qk_norm == "head" else (h * e, g * e)
            p.update({"q_norm.weight": Param((qn,), "norm"), "k_norm.weight": Param((kn,), "norm")})
            parts["q_norm"] = (0, (costs.RMSNORM + 1) * t * h * e)
            parts["k_norm"] = (0, (costs.RMSNORM + 1) * s * g * e)
        if self.relative:
            parts["pos"] = (2 * t * d * h * e + pos_scores,
                            costs.BIAS * (2 * t * h * e + h * t * t))
        return Formula(p, flops=sum(f for f, _ in parts.values()),
                       other=sum(o for _, o in parts.values()), parts=parts)

    def build(self, x: Shape, ctx: Ctx):
        t, d, s, d_kv, h, g, e, qkv_bias, k_bias, out_bias = self._dims(x, ctx)
        return _module()(d, d_kv, h, g, e, qkv_bias, k_bias, out_bias, self.causal,
                         max(t, s) if self.rotary else 0, self.memory, self.position_bias,
                         t if self.relative else 0, self.qk_norm, self.qk_norm_eps)
