"""Verdicts and summary: what one check found, what a row's checks add up to, and the counts.

A check's ``status``:

* ``ok``: the figure agrees with its recomputation. ``independent`` says whether the
  recomputation used anything beyond the row's own figures: a catalog spec or config counted
  here, or the hardware method from cells the row's compute was not derived from. An ``ok``
  that only re-derives the row's own formula from the row's own cells is not independent.
* ``plausible``: no recomputation is possible, but the figures pass a bound that no real
  training violates (the implied passes over a dataset, a utilisation range). Shown, never
  counted as a confirmation.
* ``flagged``: a problem of the data, with a code (:data:`CODES`) and the numbers.
* ``not-checkable``: the check could not run; the message says why.

A row's verdict: ``flagged`` if any check is flagged; else ``verified`` if an independent check
passed; else ``consistent`` if a check passed that re-derives the row's own figures by the
formula the row used; else ``not-checkable``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

VERDICTS = ("verified", "consistent", "flagged", "not-checkable")
STATUSES = ("ok", "plausible", "flagged", "not-checkable")


@dataclass
class Flag:
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass
class Check:
    """One recomputation: what was submitted, what it should be, their ratio, the arithmetic."""

    name: str                       # cells, values, params, base-model, hardware, compute, ...
    status: str                     # ok, plausible, flagged, not-checkable
    message: str
    independent: bool = False       # recomputed from something beyond the row's own figures
    code: Optional[str] = None      # the flag code when flagged
    submitted: Optional[float] = None
    recomputed: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    ratio: Optional[float] = None
    arithmetic: Optional[str] = None
    source: Optional[str] = None    # where an input came from when not a cell ("notes", a spec)
    recount: bool = False           # the row's Parameters compared with a real count (a catalog
                                    # spec, a config, its base model's count)

    def to_dict(self) -> dict:
        out = {"name": self.name, "status": self.status, "independent": self.independent,
               "message": self.message}
        for k in ("code", "submitted", "recomputed", "low", "high", "ratio", "arithmetic",
                  "source"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        return out


@dataclass
class Record:
    """The verdict on one input row, with every check and flag."""

    row: int                        # 1-based data row
    line: Optional[int]             # line of the file where the row starts
    model: str
    verdict: str = "not-checkable"
    checks: list[Check] = field(default_factory=list)
    hardware: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    matched: Optional[dict] = None  # the catalog entry / spec the row was matched to, and how
    has_params: bool = False        # the row gives a Parameters figure

    @property
    def flags(self) -> list[Flag]:
        return [Flag(c.code, c.message) for c in self.checks if c.status == "flagged" and c.code]

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(f.code for f in self.flags))

    @property
    def params_recounted(self) -> bool:
        """The row's Parameters were compared with a real count (its catalog spec, a spec or
        config it names, its base model's count) and the comparison decided something (agrees,
        is within a stated convention, or flagged). A comparison the check declined (the row says the architecture changed; a
        match taken for another system) is not a recount, nor is a base model's compute."""
        return any(c.recount and c.status in ("ok", "plausible", "flagged") for c in self.checks)

    def decide(self) -> str:
        statuses = {c.status for c in self.checks}
        if "flagged" in statuses:
            self.verdict = "flagged"
        elif any(c.status == "ok" and c.independent for c in self.checks):
            self.verdict = "verified"
        elif "ok" in statuses:
            self.verdict = "consistent"
        else:
            self.verdict = "not-checkable"
        return self.verdict

    def to_dict(self) -> dict:
        return {"row": self.row, "line": self.line, "model": self.model, "verdict": self.verdict,
                "codes": self.codes, "flags": [f.to_dict() for f in self.flags],
                "checks": [c.to_dict() for c in self.checks], "hardware": list(self.hardware),
                "matched": self.matched, "notes": list(self.notes)}


class Records(list):
    """What :func:`verify` returns: a list of :class:`Record`, plus how the columns were read."""

    def __init__(self, records=(), *, file: Optional[str] = None,
                 columns: Optional[dict] = None, ignored: Optional[list] = None):
        super().__init__(records)
        self.file = file
        self.columns = dict(columns or {})   # field -> the header it was read from
        self.ignored = list(ignored or [])   # headers that match no field

    def summary(self) -> dict:
        by_code: dict[str, int] = {}
        for r in self:
            for code in r.codes:
                by_code[code] = by_code.get(code, 0) + 1
        n = {v: sum(1 for r in self if r.verdict == v) for v in VERDICTS}
        with_params = sum(1 for r in self if r.has_params)
        recounted = sum(1 for r in self if r.params_recounted)
        independent = sum(1 for r in self for c in r.checks if c.status == "ok" and c.independent)
        return {"file": self.file, "rows": len(self),
                "checked": n["verified"] + n["consistent"] + n["flagged"],
                "verified": n["verified"], "consistent": n["consistent"],
                "flagged": n["flagged"], "not_checkable": n["not-checkable"],
                "params_recounted": recounted, "rows_with_params": with_params,
                "params_recounted_text": f"parameters recounted for {recounted} of "
                                         f"{with_params} rows with a Parameters figure",
                "independent_checks_passed": independent,
                "flagged_by_code": dict(sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))),
                "columns": dict(self.columns), "ignored_columns": list(self.ignored)}
