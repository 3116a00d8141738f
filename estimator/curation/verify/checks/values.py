"""Check: figures that cannot be real, whatever else the row says.

* zero or negative counts (a Finetune compute of 0 is read as "no fine-tune", a dataset size of
  0 as "no corpus", as search and self-play systems state them: not flagged);
* a FLOP cell holding a single digit (fewer than 10 FLOP: no training run of any system does
  so little; the smallest in Epoch's data is Shannon's Theseus, 1950, at 40 FLOP). The
  spreadsheet kept the mantissa and lost the exponent: the message quotes the figure the
  row's notes give, where they give one ("4" where the note says 4.2e22);
* a figure that underflows to 0 (``1e-400`` is below the smallest float);
* fewer than one chip; a utilisation above 1;
* a training compute below one forward pass of the model (2 FLOP per parameter).

A flagged figure is removed from the row, so no later check builds on it.
"""
from __future__ import annotations

from ..cells import WHAT, fmt, note_figure_for_digit

SINGLE_DIGIT = 10       # a FLOP figure below this is a lost exponent, not a training run
_FLOP = ("compute", "finetune_compute", "compute_low", "compute_high")
_NOTES_OF = {"compute": "compute_notes", "finetune_compute": "finetune_notes",
             "compute_low": "compute_notes", "compute_high": "compute_notes"}


def run(r, ctx) -> None:
    for f in sorted(r.underflow):
        r.add("values", "flagged", f"{WHAT[f]} {r.text(f)!r} underflows to 0 (below the "
              "smallest representable number): implausible", code="implausible-value")
        r.v[f] = None
    for f in ("params", "active_params", "compute", "dataset", "epochs", "hours", "quantity",
              "chip_hours", "finetune_compute", "compute_low", "compute_high"):
        v = r.num(f)
        if v is None:
            continue
        if f in ("finetune_compute", "dataset") and v == 0:
            r.rec.notes.append(f"{WHAT[f]} 0 read as: none (no fine-tune; no training corpus)")
            r.v[f] = None
            continue
        if v <= 0:
            r.add("values", "flagged", f"{WHAT[f]} is {fmt(v)}: it must be positive",
                  code="implausible-value", submitted=v)
            r.v[f] = None
            continue
        if f in _FLOP and v < SINGLE_DIGIT:
            note = note_figure_for_digit(v, r.text(_NOTES_OF[f]))
            said = (f"; its notes give {fmt(note)} FLOP" if note is not None
                    else "; its notes give no figure")
            r.add("values", "flagged", f"{WHAT[f]} is {r.text(f)!r}: a single digit of FLOP "
                  f"cannot be a training run (the exponent was lost?){said}",
                  code="implausible-value", submitted=v, recomputed=note,
                  source="notes" if note is not None else None)
            r.v[f] = None
    q = r.num("quantity")
    if q is not None and q < 1:
        r.add("values", "flagged", f"Hardware quantity {fmt(q)} is less than one chip",
              code="implausible-value", submitted=q)
        r.v["quantity"] = None
    u = r.num("utilisation")
    if u is not None and u > 1:
        r.add("values", "flagged", f"Hardware utilization {fmt(u)} is above 1 (100 %)",
              code="implausible-value", submitted=u)
        r.v["utilisation"] = None
    c, n = r.num("compute"), r.num("params")
    if c is not None and n is not None and c < 2 * n:
        r.add("values", "flagged",
              f"Training compute {fmt(c)} FLOP is less than one forward pass of {fmt(n)} "
              f"parameters (2 x {fmt(n)} = {fmt(2 * n)} FLOP): too small to be real",
              code="implausible-value", submitted=c, recomputed=2 * n, ratio=c / (2 * n),
              arithmetic=f"{fmt(c)} / (2 x {fmt(n)}) = {c / (2 * n):.3g}")
        r.v["compute"] = None
