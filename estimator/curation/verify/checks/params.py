"""Check: Parameters against a count (independent of the row's figures).

The count is the catalog spec the row matched (see :mod:`..matching` for the rules) or the
spec / config the row names. Passes: within 1 %; or the count rounded to as many significant
figures as the row writes ("7e9" for Llama 2 7B's 6,738,415,616: the published size label,
not an error); or the spec's published figure within 1 % where the spec explains why its count
differs. An MoE's active count where the total belongs is ``moe-active-as-total``; the
``Active parameters`` column holding the total is ``moe-total-as-active``.
"""
from __future__ import annotations

import math
import re

from ...catalog import normalise
from ..cells import fmt
from ..matching import has_size, published_value

TOLERANCE = 0.01
SAME_SYSTEM = 2.0   # a match whose count differs more than this from a size-less name's figure
HAND_COUNT = 0.15   # a count the notes make from the architecture: conventions move it this much
# notes that count the parameters from the architecture: products of layer sizes, or its words
_HAND = re.compile(r"\d\s*[*×x]\s*\d.*\d\s*[*×x]\s*\d|residual blocks?|hidden units|filters|"
                   r"\bkernels?\b|\bplanes\b|hidden layers?", re.I | re.S)


def family_name(looked_up: str, entry_name: str) -> bool:
    """A family's name without a size or version ('SigLIP', 'TD-Gammon') that the catalog
    resolved to one member ('SigLIP So400m/14@384', 'TD-Gammon 0.0'): the member's name
    extends the name looked up."""
    a, b = normalise(looked_up), normalise(entry_name)
    return not has_size(looked_up) and a != b and b.startswith(a)
SLIP_EXPONENTS = (-9, -6, -3, 3, 6, 9)


def slip(ratio: float, factor: float = 2.0):
    """10^k (k = ±3, ±6, ±9) when ``ratio`` is within ``factor`` of it, else None."""
    if not ratio > 0:
        return None
    lg = math.log10(ratio)
    for k in SLIP_EXPONENTS:
        if abs(lg - k) <= math.log10(factor):
            return k
    return None


def slip_words(k: int) -> str:
    return f"about 10^{k} {'too large' if k > 0 else 'too small'}"


def significant_digits(v: float) -> int:
    """Significant figures of a figure as written: 7e9 -> 1, 6.74e9 -> 3, 175e9 -> 3."""
    for k in range(1, 16):
        if float(f"{v:.{k}g}") == v:
            return k
    return 16


def rounds_to(count: float, submitted: float) -> bool:
    """The count, rounded to the significant figures the row writes (three at most), equals
    the figure: '7e9' for 6,738,415,616 is the size label, not an error."""
    k = significant_digits(submitted)
    return k <= 3 and float(f"{count:.{k}g}") == submitted


_LABEL = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s*([mbt])(?![a-z])", re.I)
_UNIT = {"m": 1e6, "b": 1e9, "t": 1e12}


def nominal(p: float, *names: str):
    """The size label ('1.5B') in one of ``names`` that equals ``p``: a nominal size, which names
    round ('GPT-2 1.5B' for 1,557,611,200), within 10 % of the count. None otherwise."""
    for name in names:
        for m in _LABEL.finditer(name or ""):
            if float(m.group(1)) * _UNIT[m.group(2).lower()] == p:
                return m.group(0)
    return None


def compare(r, counted, p: float, *, name: str, what: str, independent: bool = True) -> str:
    """Parameters ``p`` against ``counted``; adds the check and returns its status."""
    n = counted.params
    ratio = p / n
    base = dict(submitted=p, recomputed=float(n), ratio=ratio, independent=independent,
                arithmetic=f"{fmt(p)} / {fmt(n)} (count of {counted.name}) = {ratio:.4g}",
                source=counted.source, recount=independent)
    if abs(ratio - 1) <= TOLERANCE:
        r.add(name, "ok", f"Parameters {fmt(p)} match the count of {what} ({n:,}) within 1 %",
              **base)
        return "ok"
    pub = published_value(counted.published, "params")
    why = counted.discrepancy.get("params")
    if pub and why and abs(p / pub - 1) <= TOLERANCE:
        r.add(name, "ok", f"Parameters {fmt(p)} match the published {fmt(pub)} of "
              f"{counted.name}; the count ({n:,}) differs, explained: {why}", **base)
        return "ok"
    if rounds_to(n, p):
        k = significant_digits(p)
        r.add(name, "ok", f"Parameters {fmt(p)} are the count of {what} ({n:,}) rounded to "
              f"{k} significant figure{'s' if k > 1 else ''}, as the row writes it", **base)
        return "ok"
    label = nominal(p, r.rec.model, counted.name)
    if label and abs(ratio - 1) <= 0.10:
        r.add(name, "ok", f"Parameters {fmt(p)} are the nominal size {label} its name states; "
              f"the count of {what} is {n:,} ({ratio - 1:+.1%})", **base)
        return "ok"
    if counted.moe and abs(p / counted.active_params - 1) <= TOLERANCE:
        r.add(name, "flagged", f"Parameters {fmt(p)} equal the ACTIVE parameters of "
              f"{counted.name} ({counted.active_params:,}); its total is {n:,}: the Parameters "
              "column holds the total", code="moe-active-as-total", **base)
        return "flagged"
    k = slip(ratio)
    if k:
        r.add(name, "flagged", f"Parameters {fmt(p)} are {slip_words(k)} against the count of "
              f"{what} ({n:,}): a unit slip?", code="unit-slip", **base)
        return "flagged"
    return "mismatch"


def run(r, ctx) -> None:
    p = r.num("params")
    counted = ctx.counted
    if p is None:
        r.add("params", "not-checkable", "no Parameters figure")
        return
    if counted is None:
        if r.fine_tune:
            return   # the base-model check compares it with the base model's count
        r.add("params", "not-checkable",
              f"no catalog entry matches {r.rec.model!r} (by name, alias, name without a "
              "post-training suffix or organisation, or name + size) and the row names no spec "
              "or config.json", submitted=p)
        return
    status = compare(r, counted, p, name="params", what=counted.name)
    ratio = p / counted.params
    looked_up = (r.rec.matched or {}).get("looked_up") or r.rec.model
    if status == "mismatch" and not 1 / SAME_SYSTEM <= ratio <= SAME_SYSTEM \
            and family_name(looked_up, counted.name):
        # 'SigLIP' (6.3e9) matched to the catalog's SigLIP So400m/14@384 (877,960,498), and
        # 'TD-Gammon' (25,000 weights) to TD-Gammon 0.0 (8,124): a family's name without a size
        # or version resolved to one member; a figure this far off is another member of it,
        # not a slip. A name that fixes the system (Mixtral 8x7B with 1.6T) stays a flag
        r.add("params", "not-checkable", f"Parameters {fmt(p)} are {ratio:#.3g}x the count of "
              f"{counted.name} ({counted.params:,}), which {r.rec.model!r} matched though it "
              "names no size: taken for another size or version of that family, so neither "
              "the parameters nor the compute are compared with it", submitted=p,
              recomputed=float(counted.params), ratio=ratio, source=counted.source)
        r.rec.notes.append(f"catalog match {counted.name} set aside: {ratio:#.3g}x apart and "
                           "the row's name gives no size")
        ctx.counted = None
        return
    if status == "mismatch" and abs(ratio - 1) <= HAND_COUNT and _HAND.search(r.text("params_notes")):
        # MuZero (36,864,000 from its notes' 16 residual blocks of 256 planes) vs its spec's
        # 38,769,253: a curator's count from the architecture, conventions unstated
        r.add("params", "plausible", f"Parameters {fmt(p)} are a count the row's notes make "
              f"from the architecture, {ratio - 1:+.1%} from the count of {counted.name} "
              f"({counted.params:,}): within {HAND_COUNT:.0%}, what such counts leave out or add "
              "(biases, normalisation, heads, which of several networks) differs by this much; "
              "not flagged", submitted=p, recomputed=float(counted.params), ratio=ratio,
              independent=True, source=counted.source, recount=True,
              arithmetic=f"{fmt(p)} / {fmt(counted.params)} (count of {counted.name}) = {ratio:.4g}")
        status = "plausible"
    if status == "mismatch":
        n = counted.params
        r.add("params", "flagged", f"Parameters {fmt(p)} differ from the count of "
              f"{counted.name} ({n:,}) by {abs(p / n - 1):.1%}", code="params-mismatch",
              submitted=p, recomputed=float(n), ratio=p / n, independent=True,
              arithmetic=f"{fmt(p)} / {fmt(n)} (count of {counted.name}) = {p / n:.4g}",
              source=counted.source, recount=True)
    a = r.num("active_params")
    if a is None or not counted.moe:
        return
    if abs(a / counted.params - 1) <= TOLERANCE:
        r.add("params", "flagged", f"Active parameters {fmt(a)} equal the TOTAL of "
              f"{counted.name} ({counted.params:,}); one token uses {counted.active_params:,}",
              code="moe-total-as-active", submitted=a, recomputed=float(counted.active_params),
              ratio=a / counted.active_params, independent=True)
    elif abs(a / counted.active_params - 1) <= TOLERANCE:
        r.add("params", "ok", f"Active parameters {fmt(a)} match the count of {counted.name} "
              f"({counted.active_params:,})", submitted=a,
              recomputed=float(counted.active_params), ratio=a / counted.active_params,
              independent=True)
