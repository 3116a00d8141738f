"""Formatting of compute-optimal plans (``paramcount plan``). Formatting only."""
from __future__ import annotations

from ..units import si, sci
from .text import _table, _to_text


def render(p) -> str:
    what = {"budget": f"budget {sci(p.value, 3)} FLOP", "params": f"{si(p.value)} parameters",
            "tokens": f"{si(p.value)} tokens"}[p.given]
    head = [f"Compute-optimal training for {what}" if not p.system else
            f"{p.system['name']}: N = {si(p.system['params'])}, D = {si(p.system['tokens'])} "
            f"tokens ({p.system['tokens_per_param']:.1f} per parameter), "
            f"C = 6·N·D = {sci(p.system['budget'], 3)} FLOP"]
    t = _table("fit", "budget C", "params N", "N range", "tokens D", "D / N",
               *(["N / N_opt", "D / D_opt"] if p.system else []),
               right=("budget C", "params N", "N range", "tokens D", "D / N", "N / N_opt",
                      "D / D_opt"))
    vs = {v["fit"]: v for v in (p.system or {}).get("vs", [])}
    for o in p.optima:
        rng = "-" if o.params_low == o.params_high else f"{si(o.params_low)}-{si(o.params_high)}"
        row = [o.fit, sci(o.budget, 3), si(o.params), rng, si(o.tokens),
               f"{o.tokens_per_param:.1f}"]
        if p.system:
            v = vs[o.fit]
            row += [f"{v['params_ratio']:.2f}", f"{v['tokens_ratio']:.2f}"]
        t.add_row(*row)
    lo, hi = p.params_range
    dlo, dhi = p.tokens_range
    tail = [f"range over the fits: N {si(lo)}-{si(hi)}, D {si(dlo)}-{si(dhi)}"]
    tail += [f"source: {o.fit}: {o.source}" for o in p.optima]
    tail += [f"note: {n}" for n in p.notes]
    return "\n".join(head) + "\n" + _to_text(t) + "\n".join(tail) + "\n"
