"""Reading, part 3: one row's cells as numbers, and the figures its notes state.

:class:`Row` holds a row being checked: the raw cells by field, the parsed numbers
(:class:`~estimator.units.Interval`), the record the checks add to, and what was read from
the notes (always marked so). Cells as people type them are read by
:func:`estimator.units.parse_cell`; a figure that underflows to 0 (``1e-400``) is kept apart
from a typed 0, so the plausibility check can say so.
"""
from __future__ import annotations

import math
import re
from typing import Any, Optional

from ...errors import InputError
from ...units import Interval, fmt_quantity, parse_cell, sci
from .records import Check, Record

NUMERIC = ("params", "active_params", "compute", "compute_low", "compute_high", "dataset",
           "epochs", "hours", "chip_hours", "quantity", "utilisation", "finetune_compute")
WHAT = {"params": "Parameters", "active_params": "Active parameters",
        "compute": "Training compute (FLOP)", "compute_low": "Training compute lower bound",
        "compute_high": "Training compute upper bound", "dataset": "Training dataset size",
        "epochs": "Epochs", "hours": "Training time (hours)", "chip_hours": "Training chip-hours",
        "quantity": "Hardware quantity", "utilisation": "Hardware utilization",
        "finetune_compute": "Finetune compute (FLOP)"}


def fmt(v: float) -> str:
    return fmt_quantity(v) if abs(v) < 1e5 else sci(v, 3)


class Row:
    """One row being checked: cells, parsed numbers, the record, helpers that add checks."""

    def __init__(self, record: Record, cells: dict[str, Any]):
        self.rec = record
        self.raw = cells
        self.v: dict[str, Optional[Interval]] = {}
        self.underflow: set[str] = set()
        self.notes_text = " ".join(self.text(f) for f in ("params_notes", "compute_notes",
                                                           "dataset_notes", "finetune_notes"))

    def add(self, name: str, status: str, message: str, **kw) -> Check:
        c = Check(name=name, status=status, message=message, **kw)
        self.rec.checks.append(c)
        return c

    def text(self, f: str) -> str:
        v = self.raw.get(f)
        return "" if v is None else " ".join(str(v).split())

    def num(self, f: str) -> Optional[float]:
        iv = self.v.get(f)
        return iv.central if iv is not None else None

    @property
    def fine_tune(self) -> bool:
        return bool(self.text("base_model"))

    @property
    def method(self) -> str:
        """Training compute estimation method, lower case ('operation counting,hardware')."""
        return self.text("method").lower()


def parse_cells(r: Row) -> None:
    """Every numeric cell into ``r.v``; text where a number belongs is flagged."""
    for f in NUMERIC:
        if f not in r.raw:
            continue
        try:
            iv = parse_cell(r.raw[f], what=WHAT[f])
        except InputError as err:
            r.add("cells", "flagged", f"{err.message}; the checks that need it did "
                  "not run", code="malformed-cell")
            continue
        if iv is not None and not (math.isfinite(iv.low) and math.isfinite(iv.high)):
            iv = None
        if iv is not None and iv.high == 0 and re.search(r"[1-9]", r.text(f).split("e")[0]
                                                         .split("E")[0]):
            r.underflow.add(f)      # '1e-400': a non-zero figure too small for a float
        r.v[f] = iv
    # a utilisation typed as a percentage without the sign (45 for 45 %)
    u = r.v.get("utilisation")
    if u is not None and 1 < u.high <= 100 and "%" not in r.text("utilisation"):
        r.v["utilisation"] = Interval(u.low / 100, u.high / 100)
        r.rec.notes.append(f"Hardware utilization {r.text('utilisation')} read as a percentage")


# ------------------------------------------------------------------------- figures in notes

_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9,
          "t": 1e12, "trillion": 1e12}
_SCI = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[eE]\s*\+?(-?\d+)|(?:[x×*]|\\times)\s*10\s*(?:\^|\*\*)\s*\+?(-?\d+))")
_EPOCHS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:training\s+)?epochs?\b", re.I)
_TOKENS = re.compile(r"(?:trained|training|train|pre-?trained)\s+(?:on|for|with)\s+(?:about\s+|~)?"
                     r"(\d+(?:\.\d+)?)\s*(k|m|b|t|thousand|million|billion|trillion)\s+tokens\b", re.I)


def figures(text: str) -> list[float]:
    """Numbers written as 4.2e22, 4.2E+22, 7.04 × 10^21 or 1.26*10^23 in ``text``, in order."""
    out = []
    for m in _SCI.finditer(text):
        exp = m.group(2) or m.group(3)
        try:
            out.append(float(f"{m.group(1)}e{int(exp)}"))
        except (ValueError, OverflowError):
            continue
    return [v for v in out if math.isfinite(v)]


def note_figure_for_digit(digit: float, text: str) -> Optional[float]:
    """The note's figure a single-digit cell most likely abbreviates: the last figure of at
    least 10^9 whose leading digit is the cell's ('4' and '4.2e22'), else the last one of at
    least 10^9 (a result after '=' comes last), else None."""
    big = [v for v in figures(text) if v >= 1e9]
    if not big:
        return None
    lead = [v for v in big if str(f"{v:e}")[0] == str(int(digit))]
    return (lead or big)[-1]


def epochs_from_notes(text: str) -> Optional[float]:
    """The number of epochs the notes state ('100 epochs', '* 2 epochs'), when they state
    exactly one figure (several figures: which run is meant cannot be known)."""
    found = {float(m.group(1)) for m in _EPOCHS.finditer(text)}
    found = {v for v in found if v > 0}
    return found.pop() if len(found) == 1 else None


def tokens_from_notes(text: str) -> Optional[float]:
    """Tokens the notes say the run was trained on ('trained on 1T tokens', 'trained for 300B
    tokens'), when exactly one such figure appears."""
    found = {float(m.group(1)) * _SCALE[m.group(2).lower()] for m in _TOKENS.finditer(text)}
    return found.pop() if len(found) == 1 else None


_ACTIVE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|billion|m|million)\s*(?:parameters\s+)?(?:are\s+)?"
                     r"(?:active|activated)\b", re.I)
_ACTIVE_BEFORE = re.compile(r"(?:active|activated)\s*(?:parameters|params)?\s*(?:of|:|=)?\s*"
                            r"(\d+(?:\.\d+)?)\s*(b|billion|m|million)\b", re.I)
_A_NAME = re.compile(r"(?<![a-z0-9])a(\d+(?:\.\d+)?)b(?![a-z0-9])", re.I)   # Qwen3-235B-A22B
_MOE_WORDS = re.compile(r"\bmoe\b|mixture[- ]of[- ]experts|\bexperts\b|sparse(?:ly)?[- ]activated"
                        r"|\bactive param|\bactivated param|(?<![a-z0-9])a\d+(?:\.\d+)?b(?![a-z0-9])",
                        re.I)


def moe_stated(name: str, notes: str) -> bool:
    """The row's name ('OLMoE', 'DeepSeekMoE', 'Qwen3-235B-A22B') or notes say the model is a
    mixture of experts."""
    return bool("MoE" in name or _MOE_WORDS.search(name) or _MOE_WORDS.search(notes))


def active_from_text(name: str, notes: str) -> Optional[float]:
    """Active parameters the name ('-A22B') or the notes ('39B activated parameters') state."""
    m = _A_NAME.search(name)
    if m:
        return float(m.group(1)) * 1e9
    found = {float(m.group(1)) * _SCALE[m.group(2).lower()[0]]
             for rx in (_ACTIVE, _ACTIVE_BEFORE) for m in rx.finditer(notes)}
    return found.pop() if len(found) == 1 else None
