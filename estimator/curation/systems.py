"""A trained system's N and D, for comparing it with compute-optimal sizes (costs.plan)."""
from __future__ import annotations

from ..errors import InputError


def system_of(name_or_spec) -> dict:
    """{name, params, tokens} of a catalog system (by name or alias) or a spec path: N is the
    active parameter count, D the tokens of its training block."""
    from .catalog import lookup, make_entry, suggest
    from ..analytic import split_variant
    from ..units import parse_range

    p, variant = split_variant(str(name_or_spec))  # 'family.yaml#Variant' names one variant
    entry = make_entry(p, variant) if p.suffix in (".yaml", ".yml") and p.exists() else lookup(
        str(name_or_spec))
    if entry is None:
        hint = suggest(str(name_or_spec))
        raise InputError(f"{name_or_spec!r} is neither a catalog system nor a spec file"
                         + (f" (did you mean {', '.join(hint)}?)" if hint else ""))
    tok = entry.training.get("tokens")
    tokens = parse_range(tok, what="training tokens").central if tok is not None else None
    return {"name": entry.name, "params": entry.active_params, "tokens": tokens}
