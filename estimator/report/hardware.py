"""Formatting of the accelerator table (``paramcount hardware``). Formatting only."""
from __future__ import annotations

from ..costs.hardware import PRECISIONS, Accelerator
from ..units import Interval


def _peak(acc: Accelerator, prec: str) -> str:
    if prec not in acc.peak:
        return ""
    iv = Interval.of(acc.peak[prec])
    return f"{iv.low:g}" if iv.is_point else f"{iv.low:g}-{iv.high:g}"


def _kind(acc: Accelerator) -> str:
    return acc.kind if acc.kind != "board" else f"board x{acc.chips}"


def render_list(rows: list[Accelerator], query: str | None = None, total: int | None = None) -> str:
    """One line per entry: id, kind, year, default precision and its dense peak, fp32, memory."""
    head = ["id", "kind", "year", "default", "TFLOP/s", "fp32", "memory", "name"]
    body = []
    for a in rows:
        d = a.default
        body.append([a.id, _kind(a), str(a.year), d or "-", _peak(a, d) if d else "-",
                     _peak(a, "fp32") or "-", f"{a.memory:g} GB" if a.memory else "-", a.name])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head) - 1)]
    right = {4, 5, 6}
    lines = []
    for r in [head, *body]:
        cells = [(r[i].rjust(w) if i in right else r[i].ljust(w)) for i, w in enumerate(widths)]
        lines.append("  ".join(cells + [r[-1]]).rstrip())
    lines.insert(1, "-" * min(len(max(lines, key=len)), 120))
    what = f"{len(rows)} of {total}" if total is not None and total != len(rows) else f"{len(rows)}"
    title = f"Accelerators matching {query!r}: {what}" if query else f"Accelerators: {what}"
    foot = ("Dense peaks per entry (a board's peak is the whole board); int8 in TOP/s. "
            "'paramcount hardware ID' shows one entry with its source.")
    return "\n".join([title, "", *lines, "", foot])


def render_detail(acc: Accelerator, boards: list[Accelerator] | None = None) -> str:
    """Everything about one entry: peaks per precision, memory, source, notes."""
    lines = [f"{acc.name}  [{acc.id}]",
             f"  vendor {acc.vendor}, {acc.year}, {_kind(acc)}"
             + (f" of {acc.chip}" if acc.chip else ""),
             f"  aliases: {', '.join(acc.aliases)}",
             "  dense peak per " + acc.kind + " (TFLOP/s; int8 TOP/s):"]
    if acc.peak:
        for p in PRECISIONS:
            if p in acc.peak:
                mark = "   <- default" if p == acc.default else ""
                lines.append(f"    {p:<5} {_peak(acc, p):>10}{mark}")
    else:
        lines.append("    none published (the hardware method needs --peak)")
    mem = []
    if acc.memory:
        mem.append(f"memory {acc.memory:g} GB")
    if acc.bandwidth:
        mem.append(f"bandwidth {acc.bandwidth:,.10g} GB/s")
    if acc.tdp:
        mem.append(f"TDP {acc.tdp:g} W")
    if mem:
        lines.append("  " + ", ".join(mem))
    if acc.derivation:
        lines.append(f"  derivation: {acc.derivation}")
    if acc.note:
        lines.append(f"  note: {acc.note}")
    for b in boards or []:
        lines.append(f"  boards: {b.id} holds {b.chips} of these chips")
    lines.append(f"  source: {acc.source}")
    return "\n".join(lines)


def to_json(rows: list[Accelerator]) -> list[dict]:
    return [a.to_dict() for a in rows]
