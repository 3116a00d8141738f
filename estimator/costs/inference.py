"""Inference per token: prefill and decode FLOPs, KV-cache bytes, weight bytes (torch-free).

For a decoder spec (self-attention only), with T the spec's sequence length and F(T) its
forward FLOPs (matrix class, full score matrix, DESIGN.md):

* every product except attention's score and value products is linear in the tokens, so the
  **per-token linear FLOPs** are ``(F(T) - Σ core(T)) / T`` exactly, where ``core(T)`` is each
  attention layer's score + value products over the T x T matrix: ``2·T·S·h·(e_qk + e_v)``
  (Vaswani et al. 2017 s3.2; Kaplan et al. 2020 Table 1: ``2·n_ctx·d_attn`` per layer and
  token, with d_attn = h·e);
* **prefill** of P tokens: ``P·linear + Σ 2·P·P·h·(e_qk + e_v)`` (the full P x P matrix; the
  causal half is the explicit option ``causal='half'``: P·P/2);
* **decode** of one token at context L (the L keys it attends to, itself included, read from
  the KV cache): ``linear + Σ 2·L·h·(e_qk + e_v)``; generating G tokens after a P-token
  prompt sums that for L = P+1 ... P+G;
* **KV cache** per token and layer: ``2·g·e`` elements for multi-head (g = h), grouped-query
  (Ainslie et al. 2023) and multi-query (g = 1, Shazeer 2019) attention; for multi-head latent
  attention the compressed latent and the shared rotary key, ``kv_lora_rank + qk_rope_dim``
  elements (DeepSeek-AI 2024, DeepSeek-V2 s2.1.2 and Table 1: ``(d_c + d_h^R)·l`` elements
  per token);
* **weights**: parameters x bytes per parameter; for mixture of experts the weights a token
  reads are the active parameters (shared parts, router, its top-k experts).

MLA's decode FLOPs follow the spec's own attention (keys and values rebuilt per head); the
absorbed form (DeepSeek-V2 s2.1.2) moves work into latent-space products and is not modelled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..errors import InputError

# bytes per element of each storage precision
BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}
_ALIASES = {"float32": "fp32", "float": "fp32", "bfloat16": "bf16", "float16": "fp16",
            "half": "fp16", "float8": "fp8", "e4m3": "fp8", "e5m2": "fp8"}


def bytes_per(precision: str) -> float:
    """Bytes per element: fp32 4, bf16/fp16 2, fp8/int8 1, int4 0.5."""
    key = _ALIASES.get(str(precision).lower(), str(precision).lower())
    if key not in BYTES:
        raise InputError(f"precision {precision!r}: one of {', '.join(BYTES)}", key="precision")
    return BYTES[key]


@dataclass(frozen=True)
class AttnLayer:
    """One self-attention layer: what decode reads per cached token and how it attends."""

    path: str
    kind: str             # mha, gqa, mqa or mla
    heads: int
    kv_heads: int         # g (for MLA: heads, rebuilt from the latent)
    qk_dim: int           # e_qk per head
    v_dim: int            # e_v per head
    cache_elems: int      # elements cached per token in this layer

    @property
    def flops_per_key(self) -> int:
        """Score + value products for one query against one key: 2·h·(e_qk + e_v)."""
        return 2 * self.heads * (self.qk_dim + self.v_dim)


def mha_cache_elems(kv_heads: int, head_dim: int) -> int:
    """Keys and values: 2·g·e elements per token and layer (g = h: MHA; g = 1: MQA)."""
    return 2 * kv_heads * head_dim


def mla_cache_elems(kv_lora_rank: int, qk_rope_dim: int) -> int:
    """MLA caches the latent c^KV (d_c) and the shared rotary key k^R (d_h^R): d_c + d_h^R
    (DeepSeek-V2 s2.1.2, Table 1)."""
    return kv_lora_rank + qk_rope_dim


@dataclass
class Decoder:
    """What the inference formulas need of a decoder spec."""

    name: str
    seq_len: int
    params: int
    active_params: int
    linear_flops_per_token: int
    layers: list[AttnLayer]
    hidden: int = 0           # the width attention reads (d_model)
    moe: bool = False

    @property
    def cache_elems_per_token(self) -> int:
        return sum(a.cache_elems for a in self.layers)

    @property
    def attn_flops_per_key(self) -> int:
        return sum(a.flops_per_key for a in self.layers)


def decoder(spec, overrides: Optional[dict] = None) -> Decoder:
    """A decoder spec (path or Spec) -> :class:`Decoder` (self-attention layers only)."""
    from ..analytic import analyze, load_spec, walk

    spec = load_spec(spec, overrides=overrides) if not hasattr(spec, "layers") else spec
    w = walk(spec, "full")
    result = analyze(spec)
    t = result.tokens
    if not t:
        raise InputError(f"{spec.name}: inference per token needs a token-sequence input")
    layers: list[AttnLayer] = []
    core = hidden = 0
    for path, n in w.leaves.items():
        if n.kind not in ("attention", "mla"):
            continue
        lay = n.layer
        if getattr(lay, "memory", None):
            raise InputError(f"{spec.name}: {path} is cross-attention; inference per token "
                             "covers decoder-only specs", key=path)
        h = int(lay.heads)
        hidden = hidden or n.inp[-1]
        if n.kind == "mla":
            qk, v = int(lay.qk_nope_dim) + int(lay.qk_rope_dim), int(lay.v_head_dim)
            g, kind = h, "mla"
            cache = mla_cache_elems(int(lay.kv_lora_rank), int(lay.qk_rope_dim))
        else:
            d = n.inp[-1]
            g = int(lay.kv_heads or h)
            qk = v = int(lay.head_dim or d // h)
            kind = "mha" if g == h else "mqa" if g == 1 else "gqa"
            cache = mha_cache_elems(g, qk)
        a = AttnLayer(path, kind, h, g, qk, v, cache)
        layers.append(a)
        core += t * t * a.flops_per_key
    if not layers:
        raise InputError(f"{spec.name}: no self-attention layers: not a decoder spec")
    rest = result.forward_flops - core
    if rest % t:
        raise InputError(f"{spec.name}: forward FLOPs are not linear in the tokens outside "
                         "attention; inference per token needs a plain decoder")
    return Decoder(name=spec.name, seq_len=t, params=result.params,
                   active_params=result.active_params, linear_flops_per_token=rest // t,
                   layers=layers, hidden=hidden, moe=result.active_params != result.params)


@dataclass
class Inference:
    """Costs of serving ``batch`` sequences: a ``prompt``-token prefill, then ``generate``
    tokens decoded one at a time with a KV cache."""

    decoder: Decoder
    prompt: int
    generate: int
    batch: int
    precision: str
    kv_precision: str
    causal: str
    prefill_flops: int
    decode_flops_first: int       # one token at context prompt+1, one sequence
    decode_flops_last: int        # one token at context prompt+generate, one sequence
    decode_flops_total: int       # all generated tokens, all sequences
    kv_bytes_per_token: float     # all layers, one token
    kv_bytes: float               # whole cache at the end: batch x (prompt+generate) tokens
    weight_bytes: float
    active_weight_bytes: float
    notes: list[str] = field(default_factory=list)

    @property
    def total_flops(self) -> int:
        return self.prefill_flops + self.decode_flops_total

    @property
    def flops_per_generated_token(self) -> float:
        """Decode FLOPs per generated token, averaged over the generation."""
        n = self.generate * self.batch
        return self.decode_flops_total / n if n else 0.0

    @property
    def two_n(self) -> int:
        """The conventional 2·N FLOPs per token (N = active parameters; Kaplan et al. 2020
        s2.1), shown beside the count: it omits attention over the context."""
        return 2 * self.decoder.active_params

    def to_dict(self) -> dict:
        d = self.decoder
        return {"name": d.name, "prompt": self.prompt, "generate": self.generate,
                "batch": self.batch, "precision": self.precision,
                "kv_precision": self.kv_precision, "causal": self.causal,
                "params": d.params, "active_params": d.active_params,
                "linear_flops_per_token": d.linear_flops_per_token,
                "attention_flops_per_key": d.attn_flops_per_key,
                "layers": [{"path": a.path, "kind": a.kind, "heads": a.heads,
                            "kv_heads": a.kv_heads, "qk_dim": a.qk_dim, "v_dim": a.v_dim,
                            "cache_elems_per_token": a.cache_elems} for a in d.layers],
                "prefill_flops": self.prefill_flops,
                "decode_flops_first_token": self.decode_flops_first,
                "decode_flops_last_token": self.decode_flops_last,
                "decode_flops_total": self.decode_flops_total,
                "flops_per_generated_token": self.flops_per_generated_token,
                "two_n_per_token": self.two_n, "total_flops": self.total_flops,
                "kv_cache_bytes_per_token": self.kv_bytes_per_token,
                "kv_cache_bytes": self.kv_bytes, "weight_bytes": self.weight_bytes,
                "active_weight_bytes": self.active_weight_bytes, "notes": list(self.notes)}


def prefill_flops(dec: Decoder, prompt: int, causal: str = "full") -> int:
    """P·linear + Σ 2·h·(e_qk+e_v)·P·P (full matrix; causal='half': ·P·P/2)."""
    pairs = prompt * prompt if causal == "full" else prompt * prompt // 2
    return prompt * dec.linear_flops_per_token + pairs * dec.attn_flops_per_key


def decode_flops(dec: Decoder, context: int) -> int:
    """One new token attending to ``context`` cached keys (itself included)."""
    return dec.linear_flops_per_token + context * dec.attn_flops_per_key


def inference(spec, *, prompt: int = 2048, generate: int = 512, batch: int = 1,
              precision: str = "bf16", kv_precision: Optional[str] = None,
              causal: str = "full", overrides: Optional[dict] = None) -> Inference:
    """Prefill, decode and memory of serving a decoder spec (see the module docstring)."""
    for name, v, low in (("prompt", prompt, 0), ("generate", generate, 0), ("batch", batch, 1)):
        if not isinstance(v, int) or v < low:
            raise InputError(f"--{name} must be an integer >= {low}, got {v!r}", key=name)
    if causal not in ("full", "half"):
        raise InputError(f"causal convention must be 'full' or 'half', got {causal!r}")
    dec = spec if isinstance(spec, Decoder) else decoder(spec, overrides)
    kv_precision = kv_precision or precision
    wb, kb = bytes_per(precision), bytes_per(kv_precision)
    g, p = generate, prompt
    # Σ_{i=1..G} decode(P + i) = G·linear + per_key·(G·P + G(G+1)/2)
    dec_total = batch * (g * dec.linear_flops_per_token
                         + dec.attn_flops_per_key * (g * p + g * (g + 1) // 2))
    kv_tok = dec.cache_elems_per_token * kb
    notes = []
    if dec.moe:
        notes.append(f"mixture of experts: a token reads {dec.active_params:,} of "
                     f"{dec.params:,} parameters (shared parts, router, its top-k experts)")
    kinds = sorted({a.kind for a in dec.layers})
    notes.append("attention: " + ", ".join(kinds) + f"; {len(dec.layers)} layers")
    return Inference(decoder=dec, prompt=p, generate=g, batch=batch, precision=precision,
                     kv_precision=kv_precision, causal=causal,
                     prefill_flops=batch * prefill_flops(dec, p, causal),
                     decode_flops_first=decode_flops(dec, p + 1) if g else 0,
                     decode_flops_last=decode_flops(dec, p + g) if g else 0,
                     decode_flops_total=dec_total, kv_bytes_per_token=kv_tok,
                     kv_bytes=kv_tok * batch * (p + g), weight_bytes=dec.params * wb,
                     active_weight_bytes=dec.active_params * wb, notes=notes)
