"""Check: a figure that a row's own notes state, against the cell it annotates.

* **Training time.** ``Training time notes`` that state one duration in days ("42 days",
  "17,5 days" with a decimal comma) and no duration in hours (other than the 24 of a
  days-to-hours conversion) fix the hours: days x 24. A ``Training time (hours)`` cell more
  than a factor 2 away from it contradicts its own note (``notes-contradict-cell``): one of
  them is wrong, and the message says which figures disagree. Agreement adds no check (the
  cell was read from that note: it confirms nothing). Notes with several durations
  (stages, runs, "12 hours to 2 days") say nothing certain and are not read. Motivating row:
  Falcon 2 11B (1400 h in the cell, "roughly two months ... so ~1400 days" in the notes: the
  note wrote hours as days).

Measured and not made rules (no row of the shared sample motivates them): arithmetic written in
a note whose product disagrees with the result it states (all 155 whole-line products of the
sample's notes agree with their stated results), a Parameters note whose figure is the cell's
times a power of ten (none), and chip-hours equal to the hours with several chips (none; the
chip-hours check flags it as ``chip-hours-mismatch`` when the quantity is above 2).
"""
from __future__ import annotations

import re
from typing import Optional

from ..cells import fmt

FACTOR = 2.0          # the notes' days round ("about 5 days"): a factor 2 is a contradiction
_DAYS = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s*-?\s*days?\b", re.I)
_HOURS = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s*-?\s*(?:h|hrs?|hours?)\b", re.I)
DAY_HOURS = 24.0


def _number(text: str) -> float:
    """'1,400' -> 1400 (a thousands separator); '17,5' -> 17.5 (a decimal comma)."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", text):
        return float(text.replace(",", ""))
    return float(text.replace(",", "."))


def days_stated(notes: str) -> Optional[float]:
    """The one duration in days the notes state, when they state exactly one and no duration
    in hours (a conversion's '24 hours' aside); else None."""
    days = {_number(m.group(1)) for m in _DAYS.finditer(notes)}
    hours = {_number(m.group(1)) for m in _HOURS.finditer(notes)} - {DAY_HOURS}
    days.discard(0.0)
    return days.pop() if len(days) == 1 and not hours else None


def run(r, ctx) -> None:
    h = r.num("hours")
    notes = r.text("time_notes")
    if h is None or not notes:
        return
    d = days_stated(notes)
    if d is None:
        return
    stated = d * DAY_HOURS
    ratio = h / stated
    nums = dict(submitted=h, recomputed=stated, ratio=ratio, source="notes",
                arithmetic=f"{fmt(d)} days x 24 = {fmt(stated)} h; {fmt(h)} / {fmt(stated)} "
                           f"= {ratio:.3g}")
    if 1 / FACTOR <= ratio <= FACTOR:
        return   # agreeing with the note it was read from confirms nothing: no check recorded
    same = " (the same number: hours written as days, or days as hours?)" if h == d else ""
    r.add("notes", "flagged", f"Training time (hours) {fmt(h)} contradicts its own notes, which "
          f"state {fmt(d)} days = {fmt(stated)} h{same}", code="notes-contradict-cell", **nums)
