"""Layer paths: how a layer names another layer's output (``from:``, ``memory:``, ``share:``,
``tie:``, a kind's own path keys, a repeat's ``initial:``).

A path is absolute, the dotted names from the top (``evoformer.3.row.ln``; a repeat's copies
are numbered ``0 ... N-1``), or it is read where the layer stands:

- a copy counted from the end: ``evoformer.-1.msa_transition`` is the last copy's (``-k``:
  the k-th from the end, as ``select_token``'s negative index; a layer with ``repeat: 1`` has
  no numbered copies and ``-1`` is the layer itself);
- ``.NAME``: a layer of the current copy of the innermost enclosing layer that has a
  ``repeat:`` key (in copy 3 of ``evoformer``, ``.row.ln`` is ``evoformer.3.row.ln``);
- ``^.NAME``: that layer in the previous copy (``evoformer.2.msa_transition``); the first
  copy has none, and reads what the repeat's ``initial: {NAME: PATH}`` names instead.

A layer's own keys are read in the copy that holds the layer, so a repeat's ``from:`` and
``initial:`` name what comes before it. Pure string work: the analytic walker knows the
copies and the repeats (:class:`Copy`, ``count_of``) and turns every path into an absolute
one before anything reads it; the torch build and the ONNX export only see absolute paths.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

_NAME = re.compile(r"[A-Za-z0-9_]+")   # a name (^[A-Za-z_]...) or an index (0, 12)
_FROM_END = re.compile(r"-[1-9][0-9]*")


class PathError(ValueError):
    """A path that cannot be read where it stands; the message says why."""


@dataclass(frozen=True)
class Copy:
    """One copy of a repeat, as the walker enters it: what relative paths are read in."""

    group: str                 # the repeat's path: evoformer
    root: str                  # this copy's path: evoformer.3 (the group itself at repeat: 1)
    index: int                 # 3
    initial: dict = field(default_factory=dict)  # ^.NAME in copy 0 -> an absolute path
    shared: bool = False       # shared: true (every copy runs copy 0's module)


def is_plain(path: str) -> bool:
    """True for a path with nothing to resolve (neither relative nor counted from the end):
    the walker's fast path."""
    return path[:1] not in (".", "^") and ".-" not in path


def resolve(path: str, copy: Optional[Copy], count_of: Callable[[str], Optional[int]]) -> str:
    """The absolute path ``path`` names from a layer inside ``copy`` (None: at the top).
    ``count_of(prefix)`` is the number of copies of the walked layer at ``prefix`` (1 for a
    layer without repeat), None where no earlier layer has that path. Raises PathError."""
    if path.startswith("^"):
        if not path.startswith("^."):
            raise PathError(f"'{path}': the previous copy's layers are written ^.NAME")
        rest = _relative(path, path[2:])
        if copy is None:
            raise PathError(f"'{path}' names a layer of the previous repeat copy, but this "
                            "layer is in no repeat")
        if copy.shared:
            raise PathError(f"'{path}': the copies of a shared: true repeat run one module, "
                            f"which cannot read a different previous copy each time ('{copy.group}')")
        if copy.index == 0:
            if rest not in copy.initial:
                raise PathError(f"'{path}': copy 0 of '{copy.group}' has no previous copy; "
                                f"give '{copy.group}' initial: {{{rest}: PATH}} (what stands "
                                "for it before the first copy)")
            return copy.initial[rest]
        path = f"{copy.group}.{copy.index - 1}.{rest}"
    elif path.startswith("."):
        rest = _relative(path, path[1:])
        if copy is None:
            raise PathError(f"'{path}' names a layer of the current repeat copy, but this layer "
                            "is in no repeat (write the path from the top)")
        path = f"{copy.root}.{rest}"
    if ".-" not in path:
        return path
    segs = path.split(".")
    out: list[str] = []
    for seg in segs:
        if seg.startswith("-") and out:
            if not _FROM_END.fullmatch(seg):
                raise PathError(f"'{path}': a copy counted from the end is -1, -2, ... (got '{seg}')")
            prefix = ".".join(out)
            n = count_of(prefix)
            k = int(seg[1:])
            if n is None:
                raise PathError(f"'{path}': '{prefix}' is not an earlier layer, so '{seg}' "
                                "counts no copies")
            if k > n:
                raise PathError(f"'{path}': '{prefix}' has {n} cop{'y' if n == 1 else 'ies'}, "
                                f"so there is no copy {seg}")
            if n == 1 and k == 1:
                continue        # repeat: 1 numbers no copies: the layer is its own last copy
            seg = str(n - k)
        out.append(seg)
    return ".".join(out)


def _relative(path: str, rest: str) -> str:
    """The names after a relative path's lead (``.`` or ``^.``), each checked."""
    for seg in rest.split("."):
        if not (_NAME.fullmatch(seg) or _FROM_END.fullmatch(seg)):
            raise PathError(f"'{path}': a relative path is .NAME or ^.NAME, dotted names after "
                            f"the lead (got {'an empty name' if not seg else repr(seg)})")
    return rest
