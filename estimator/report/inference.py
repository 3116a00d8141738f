"""Formatting of inference costs (``paramcount infer``). Formatting only."""
from __future__ import annotations

from ..units import si, sci


def render(inf, measured: dict | None = None) -> str:
    d = inf.decoder
    lines = [f"{d.name}: inference, batch {inf.batch}, prompt {inf.prompt}, generate "
             f"{inf.generate}, weights {inf.precision}, KV cache {inf.kv_precision}",
             f"params: {d.params:,}" + (f" ({d.active_params:,} active per token)"
                                         if d.moe else ""),
             "",
             f"per-token linear FLOPs (projections, MLP, output): {d.linear_flops_per_token:,}"
             f"  [2·N = {inf.two_n:,}]",
             f"attention FLOPs per cached key: {d.attn_flops_per_key:,} "
             f"(Σ 2·h·(e_qk+e_v) over {len(d.layers)} layers)",
             f"prefill ({inf.prompt} tokens x {inf.batch}): {sci(inf.prefill_flops, 4)} FLOP"
             f" ({inf.causal} score matrix)",
             f"decode, one token at context {inf.prompt + 1}: {sci(inf.decode_flops_first, 4)} "
             f"FLOP; at context {inf.prompt + inf.generate}: {sci(inf.decode_flops_last, 4)} FLOP",
             f"decode, all {inf.generate} x {inf.batch} tokens: {sci(inf.decode_flops_total, 4)} "
             f"FLOP ({sci(inf.flops_per_generated_token, 4)} per generated token)",
             f"total: {sci(inf.total_flops, 4)} FLOP",
             "",
             f"KV cache: {inf.kv_bytes_per_token:,.0f} bytes per token "
             f"({d.cache_elems_per_token:,} elements over {len(d.layers)} layers); "
             f"{si(inf.kv_bytes, 'B')} for {inf.batch} x {inf.prompt + inf.generate} tokens",
             f"weights: {si(inf.weight_bytes, 'B')} ({inf.precision})"
             + (f"; read per token: {si(inf.active_weight_bytes, 'B')} (active)" if d.moe
                else "")]
    kinds = {}
    for a in d.layers:
        kinds.setdefault((a.kind, a.heads, a.kv_heads, a.qk_dim, a.cache_elems), 0)
        kinds[(a.kind, a.heads, a.kv_heads, a.qk_dim, a.cache_elems)] += 1
    for (kind, h, g, e, c), n in kinds.items():
        lines.append(f"  {n} x {kind.upper()}: {h} heads, {g} kv heads, head dim {e}: {c} "
                     "elements cached per token")
    if measured:
        lines.append(f"check: the built model's cached decode step counted on meta: "
                     f"{measured['counted']:,} FLOP vs formula {measured['formula']:,}")
    lines += [f"note: {n}" for n in inf.notes]
    return "\n".join(lines) + "\n"
