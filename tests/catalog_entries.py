"""The catalog as the tests iterate it: one entry per system, ``(spec file, variant)``.

The one place a test enumerates the catalog: a plain spec is ``(path, None)``; a size family
(``variants:``, docs of the family syntax) will give one entry per variant, ``(path, name)``,
here and nowhere else, so every parametrized catalog test picks them up.
"""
from __future__ import annotations

from pathlib import Path

ARCH = Path(__file__).resolve().parent.parent / "archspecs"


def catalog_entries() -> list[tuple[Path, str | None]]:
    try:
        # the catalog's own enumeration: a size family gives one ref per variant
        from estimator.curation.catalog import spec_refs
    except ImportError:  # a tree without the family syntax: one entry per file
        return [(p, None) for p in sorted(ARCH.glob("*.yaml"))]
    return sorted(((r.path, r.variant) for r in spec_refs([ARCH])),
                  key=lambda e: (e[0].name, e[1] or ""))


def entry_id(entry) -> str:
    """'alexnet' for a plain spec, 'bert#BERT base' for a family's variant."""
    path, variant = entry
    return path.stem if variant is None else f"{path.stem}#{variant}"


def load_entry(entry, **kw):
    """The entry's spec (``overrides=`` and other ``load_spec`` options pass through)."""
    from estimator.analytic import load_spec

    path, variant = entry
    return load_spec(path, **kw) if variant is None else load_spec(path, variant=variant, **kw)


CATALOG = catalog_entries()
