"""Size families: one spec file declares an architecture once and a table of named variants
(``variants:``), each its own system with its own published figures (docs/spec-language.md).

A variant is turned into a plain spec here, before the parser sees it: its ``vars`` replace the
family's (exactly as ``--set`` does: only variables the family declares), its ``training``
merges key by key over the family's, and every other key it gives replaces the family's.
The merged mapping keeps the line of every key, so an error in a variant names its own line.
"""
from __future__ import annotations

import difflib
import re

from ..errors import SpecError
from .yamlload import LineDict, line_of

# the top-level keys that make a file a family; a variant never carries them
FAMILY_KEYS = ("family", "variants")


def name_key(name) -> str:
    """The key names are compared by: case, spaces, dashes and punctuation ignored
    ('GPT-3 175B (davinci)' -> 'gpt3175bdavinci'), except a decimal point between digits, which
    is kept as 'p' so that sizes stay apart ('OPT-1.3B' -> 'opt1p3b', 'OPT-13B' -> 'opt13b').
    The catalog's lookup uses the same key."""
    text = re.sub(r"(?<=\d)\.(?=\d)", "p", str(name).lower())
    return re.sub(r"[^0-9a-z]+", "", text)


class VariantRaw(LineDict):
    """A family's variant merged into a plain spec mapping; remembers which variant it is."""

    family: str = ""
    variant: str = ""


def is_family(raw) -> bool:
    return isinstance(raw, dict) and "variants" in raw


def variant_names(raw) -> list[str]:
    """The variants' names, in file order ([] for a plain spec or a malformed table)."""
    if not is_family(raw) or not isinstance(raw["variants"], list):
        return []
    return [str(v["name"]) for v in raw["variants"] if isinstance(v, dict) and "name" in v]


def check_family(raw, head, file) -> None:
    """The rules a family's header must keep (the header model has validated each key)."""
    if head.variants is None:
        if "variants" in raw:
            raise SpecError("needs a list of variants (or leave the key out)",
                            file=file, line=line_of(raw, ("variants",)), key="variants")
        if head.family:
            raise SpecError("family: true needs a 'variants:' list (one entry per size)",
                            file=file, line=line_of(raw, ("family",)), key="family")
        return
    if not head.variants:
        raise SpecError("variants is empty: a family lists at least one variant", file=file,
                        line=line_of(raw, ("variants",)), key="variants")
    if head.family is False:
        raise SpecError("family: false contradicts the 'variants:' list", file=file,
                        line=line_of(raw, ("family",)), key="family")
    if head.published is not None:
        raise SpecError("a family has no top-level 'published': each variant carries its own",
                        file=file, line=line_of(raw, ("published",)), key="published")
    seen: dict[str, str] = {}
    declared = raw.get("vars") or {}
    for i, v in enumerate(head.variants):
        for n in dict.fromkeys(name_key(x) for x in (v.name, *(v.aliases or ()))):
            if n in seen:
                raise SpecError(f"variant {v.name!r}: the name or alias {n!r} is also a "
                                f"name of variant {seen[n]!r}", file=file,
                                line=line_of(raw, ("variants", i)), key=f"variants[{i}]")
            seen[n] = v.name
        for k in (v.vars or {}):
            if k not in declared:
                close = difflib.get_close_matches(str(k), [str(d) for d in declared], n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise SpecError(f"variant {v.name!r} sets variable '{k}', which the family does "
                                f"not declare in its vars{hint}", file=file,
                                line=line_of(raw, ("variants", i, "vars", k)),
                                key=f"variants[{i}].vars.{k}")


def choose(raw, variant: str | None, file) -> int:
    """The index of the variant ``variant`` names (its name or an alias, compared by
    :func:`name_key`); a SpecError listing the variants when it names none, or when a family
    is loaded without choosing."""
    names = variant_names(raw)
    listing = ", ".join(repr(n) for n in names)
    if not names:
        raise SpecError("variants: the table names no variant (each entry needs a 'name')",
                        file=file)
    if variant is None:
        raise SpecError(f"a family of {len(names)} variants ({listing}): choose one with "
                        "--variant NAME or FILE#NAME (in Python: load_spec(path, variant=NAME))",
                        file=file)
    want = name_key(variant)
    for i, v in enumerate(raw["variants"]):
        aliases = v.get("aliases") if isinstance(v.get("aliases"), list) else []
        if want in {name_key(n) for n in (v["name"], *aliases)}:
            return i
    close = difflib.get_close_matches(str(variant), names, n=2, cutoff=0.4)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise SpecError(f"no variant {variant!r}{hint}; the variants are {listing}", file=file)


def merge(raw, index: int) -> VariantRaw:
    """The family's mapping with variant ``index`` applied: a plain spec mapping."""
    var = raw["variants"][index]
    out = VariantRaw()
    out.line, out.lines = getattr(raw, "line", 0), {}
    out.family, out.variant = str(raw.get("name", "")), str(var["name"])
    raw_lines, var_lines = getattr(raw, "lines", {}), getattr(var, "lines", {})
    for k, v in raw.items():
        if k not in FAMILY_KEYS:
            out[k], out.lines[k] = v, raw_lines.get(k)
    for k, v in var.items():
        if k in ("vars", "training") and isinstance(out.get(k), dict) and isinstance(v, dict):
            both = LineDict({**out[k], **v})
            both.line = var_lines.get(k)
            both.lines = {**getattr(out[k], "lines", {}), **getattr(v, "lines", {})}
            v = both
        out[k], out.lines[k] = v, var_lines.get(k)
    return out


def variant_headers(raw) -> list[tuple[str, dict]]:
    """(name, merged mapping) of each variant a family's table holds, nothing validated
    (the catalog lists and filters systems by their headers before counting any)."""
    table = raw["variants"] if is_family(raw) and isinstance(raw["variants"], list) else []
    return [(str(v["name"]), merge(raw, i)) for i, v in enumerate(table)
            if isinstance(v, dict) and "name" in v]
