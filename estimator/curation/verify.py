"""``verify``: check submitted parameter and compute figures, row by row, as curators do.

A submission is a spreadsheet row (CSV or JSON lines): system, parameters, training compute,
hardware, number of chips, training time, dataset size, epochs, base model, fine-tune compute.
For each row every check the row allows is recomputed and reported with its numbers:

* ``params``: the parameters against the catalog spec the name (or alias) matches, or the
  archspec / Hugging Face ``config.json`` the row names: within 1 %, or the spec's published
  figure where the spec explains its discrepancy.
* ``hardware``: chips x dense peak x time gives the implied utilisation (the arithmetic of
  :func:`estimator.costs.compute.hardware_method`, judged by ``judge_utilisation``): above 1 at
  the best dense peak of the named part is impossible; below 0.05 or above 0.75 suspicious.
* ``compute``: the training compute against 6·N·D (D = dataset size x epochs, for sequence
  models whose dataset counts tokens), and against 3 x forward x examples where a spec matches
  (:func:`estimator.costs.compute.operation_counting`); a factor of 2 either way passes.
* slips: a figure off by about 10^3, 10^6 or 10^9, an MoE's total parameters where the active
  belong (or the reverse), a compute too small to be real, a board counted as chips.

Each flag has a stable code (:data:`CODES`) and a sentence with the numbers; a row's verdict is
``ok``, ``flagged`` or ``not-checkable``. The library returns records; report/verify.py
formats them and cli/curation.py prints. The input file is read once, as bytes, and closed.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ..errors import InputError, PCError
from ..units import Interval, fmt_quantity, parse_cell, sci

# ------------------------------------------------------------------------------ constants

UTILISATION_LOW = 0.05     # below: suspicious (more hardware or time than the work needs)
UTILISATION_HIGH = 0.75    # above: suspicious (more than real training reaches)
PARAMS_TOLERANCE = 0.01    # parameters within 1 % of the count pass
COMPUTE_FACTOR = 2.0       # compute within a factor 2 of 6·N·D (or of the count) passes
MOE_MATCH = 0.10           # "equals 6 x total x D" means within 10 %
SLIP_EXPONENTS = (-9, -6, -3, 3, 6, 9)

# Every flag code, with what it means (stable: reports, scripts and tests rely on them).
CODES = {
    "impossible-utilisation": "the hardware cannot do the submitted compute in the time given, "
                              "even at its best dense peak",
    "suspicious-utilisation": f"implied utilisation below {UTILISATION_LOW} or above {UTILISATION_HIGH}",
    "utilisation-mismatch": "the stated utilisation (MFU) disagrees with the implied one by more than 2x",
    "board-as-chips": "the hardware figures fit if the quantity counts boards rather than chips "
                      "(or chips rather than boards)",
    "compute-vs-6nd": "training compute differs from 6·N·D by more than a factor 2",
    "compute-vs-counting": "training compute differs from 3 x forward x examples by more than a factor 2",
    "params-mismatch": "parameters differ from the matched spec's count by more than 1 %",
    "unit-slip": "a figure is off by about 10^3, 10^6 or 10^9 from the recomputed one",
    "moe-total-as-active": "an MoE's total parameters were used where active parameters belong",
    "moe-active-as-total": "an MoE's active parameters were given where the total belongs",
    "implausible-value": "a figure that cannot be real (zero, negative, less than one forward pass)",
    "unknown-hardware": "a hardware name the accelerator table does not know",
    "ambiguous-hardware": "a hardware name that several table entries share",
    "malformed-cell": "a cell that is not a number where a number belongs",
    "malformed-row": "a row that could not be read (bad JSON line, broken quoting)",
    "unreadable-spec": "the spec or config the row names cannot be read",
}

# Canonical fields and the column names (normalised: lower case, letters and digits only)
# they go by; Epoch AI's "Notable AI Models" / "All ML Systems" export names come first.
COLUMNS: dict[str, tuple[str, ...]] = {
    "model": ("model", "system", "modelname", "systemname", "name"),
    "domain": ("domain", "domains", "modality", "task"),
    "date": ("publicationdate", "date", "releasedate", "year"),
    "params": ("parameters", "params", "parametercount", "numberofparameters", "nparams",
               "totalparameters", "totalparams"),
    "active_params": ("activeparameters", "activeparams", "parametersactive"),
    "compute": ("trainingcomputeflop", "trainingcompute", "trainingflop", "trainingflops",
                "computeflop", "compute", "flop", "flops"),
    "dataset": ("trainingdatasetsizedatapoints", "trainingdatasetsize", "datasetsizedatapoints",
                "datasetsize", "trainingtokens", "tokens", "datapoints"),
    "epochs": ("epochs", "numberofepochs", "epoch"),
    "hours": ("trainingtimehours", "trainingtime", "traininghours", "timehours", "hours"),
    "hardware": ("traininghardware", "hardware", "accelerator", "accelerators", "chip", "gpu"),
    "quantity": ("hardwarequantity", "quantity", "numberofchips", "chips", "numchips", "chipcount",
                 "numberofgpus", "gpus", "numgpus"),
    "utilisation": ("hardwareutilizationmfu", "hardwareutilisationmfu", "hardwareutilization",
                    "hardwareutilisation", "mfu", "utilization", "utilisation"),
    "base_model": ("basemodel", "finetunedfrom", "base"),
    "finetune_compute": ("finetunecomputeflop", "finetunecompute", "finetuningcomputeflop",
                         "finetuningcompute"),
    "spec": ("spec", "archspec", "specpath", "config", "configjson", "hfconfig"),
}
# The fields a file must have at least one of to be a submission file.
_RECOGNISED = ("model", "params", "compute", "hardware")
# The Epoch column names, as the error for an unrecognisable file lists them.
EXPECTED_COLUMNS = ("Model", "Domain", "Publication date", "Parameters", "Training compute (FLOP)",
                    "Training dataset size (datapoints)", "Epochs", "Training time (hours)",
                    "Training hardware", "Hardware quantity", "Hardware utilization (MFU)",
                    "Base model", "Finetune compute (FLOP)", "Spec")
_NUMERIC = ("params", "active_params", "compute", "dataset", "epochs", "hours", "quantity",
            "utilisation", "finetune_compute")
_WHAT = {"params": "Parameters", "active_params": "Active parameters",
         "compute": "Training compute (FLOP)", "dataset": "Training dataset size",
         "epochs": "Epochs", "hours": "Training time (hours)", "quantity": "Hardware quantity",
         "utilisation": "Hardware utilization", "finetune_compute": "Finetune compute (FLOP)"}
# Domains whose dataset size counts tokens (Epoch: language models' datapoints are tokens).
_TOKEN_DOMAINS = re.compile(r"language|text|code|nlp|llm", re.I)


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


# -------------------------------------------------------------------------------- records

@dataclass
class Flag:
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass
class Check:
    """One recomputation: what was submitted, what it should be, their ratio, the arithmetic."""

    name: str                       # params, hardware, compute, hardware-names, cells
    status: str                     # ok, flagged, not-checkable
    message: str
    code: Optional[str] = None      # the flag code when flagged
    submitted: Optional[float] = None
    recomputed: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    ratio: Optional[float] = None
    arithmetic: Optional[str] = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Record:
    """The verdict on one input row, with every check and flag."""

    row: int                        # 1-based data row
    line: Optional[int]             # line of the file where the row starts
    model: str
    verdict: str = "not-checkable"  # ok, flagged, not-checkable
    checks: list[Check] = field(default_factory=list)
    hardware: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def flags(self) -> list[Flag]:
        return [Flag(c.code, c.message) for c in self.checks if c.status == "flagged" and c.code]

    @property
    def codes(self) -> list[str]:
        out: list[str] = []
        for f in self.flags:
            if f.code not in out:
                out.append(f.code)
        return out

    def to_dict(self) -> dict:
        return {"row": self.row, "line": self.line, "model": self.model, "verdict": self.verdict,
                "codes": self.codes, "flags": [f.to_dict() for f in self.flags],
                "checks": [c.to_dict() for c in self.checks], "hardware": list(self.hardware),
                "notes": list(self.notes)}


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
        n = {v: sum(1 for r in self if r.verdict == v) for v in ("ok", "flagged", "not-checkable")}
        return {"file": self.file, "rows": len(self), "checked": n["ok"] + n["flagged"],
                "ok": n["ok"], "flagged": n["flagged"], "not_checkable": n["not-checkable"],
                "flagged_by_code": dict(sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))),
                "columns": dict(self.columns), "ignored_columns": list(self.ignored)}


# -------------------------------------------------------------------------------- reading

def _decode(data: bytes, name: str) -> str:
    if not data.strip():
        raise InputError("the file is empty: expected a CSV (or JSON lines) file of submissions",
                         file=name)
    if b"\x00" in data[:65536]:
        raise InputError("this is a binary file, not CSV or JSON lines text", file=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # spreadsheets on Windows still export cp1252 ("CSV" rather than "CSV UTF-8")
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError("this is not text in UTF-8 (or Windows-1252): export the sheet as "
                         "'CSV UTF-8'", file=name) from None
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > 0.01 * min(len(text), 65536):
        raise InputError("this is a binary file, not CSV or JSON lines text", file=name)
    return text


def _is_jsonl(text: str, name: str) -> bool:
    if name.lower().endswith((".jsonl", ".ndjson", ".json")):
        return True
    return text.lstrip().startswith("{")


def _read_jsonl(text: str, name: str) -> tuple[list[str], list[tuple[int, Any]]]:
    headers: list[str] = []
    rows: list[tuple[int, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as err:
            rows.append((n, InputError(f"not a JSON object: {err.msg} (column {err.colno})")))
            continue
        if not isinstance(obj, dict):
            rows.append((n, InputError(f"a JSON line must be an object, got {type(obj).__name__}")))
            continue
        for k in obj:
            if str(k) not in headers:
                headers.append(str(k))
        rows.append((n, {str(k): v for k, v in obj.items()}))
    if not rows:
        raise InputError("the file has no rows", file=name)
    return headers, rows


def _read_csv(text: str, name: str) -> tuple[list[str], list[tuple[int, Any]]]:
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader)
    except StopIteration:
        raise InputError("the file is empty", file=name) from None
    except csv.Error as err:
        raise InputError(f"not a CSV file: {err}", file=name, line=reader.line_num) from None
    headers = [h.strip() for h in header]
    rows: list[tuple[int, Any]] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:  # a broken row: flag it and read on
            rows.append((start, InputError(f"unreadable CSV row: {err}")))
            start = reader.line_num + 1
            continue
        if any(c.strip() for c in cells):
            rows.append((start, dict(zip(headers, cells))))
        start = reader.line_num + 1
    if not rows:
        raise InputError("the file has a header but no rows", file=name)
    return headers, rows


def _map_columns(headers: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """field -> header. An exact (normalised) name wins over one read without its
    parenthesised unit ('Training compute (FLOP)' is also 'Training compute')."""
    exact = {syn: f for f, syns in COLUMNS.items() for syn in syns}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    loose: list[tuple[str, str]] = []
    for h in headers:
        f = exact.get(_key(h))
        if f and f not in mapping:
            mapping[f] = h
        else:
            loose.append((h, _key(re.sub(r"\(.*?\)|\[.*?\]", "", h))))
    for h, k in loose:
        f = exact.get(k)
        if f and f not in mapping:
            mapping[f] = h
        elif h not in mapping.values():
            ignored.append(h)
    return mapping, ignored


def read_rows(path: str | os.PathLike) -> tuple[dict[str, str], list[str], list[tuple[int, Any]]]:
    """(field -> header, ignored headers, [(line, {header: cell} or InputError)]).

    The file is read once as bytes and closed before anything else happens, so it is never
    modified or held open (no lock on Windows either)."""
    p = Path(path)
    name = str(path)
    if p.is_dir():
        raise InputError("this is a folder, not a submissions file", file=name)
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except OSError as err:
        raise InputError(f"cannot read the file: {err.strerror}", file=name) from None
    text = _decode(data, name)
    headers, rows = (_read_jsonl if _is_jsonl(text, name) else _read_csv)(text, name)
    mapping, ignored = _map_columns(headers)
    if not any(f in mapping for f in _RECOGNISED):
        shown = ", ".join(repr(h) for h in headers[:6]) + (" ..." if len(headers) > 6 else "")
        raise InputError(f"no recognisable columns (found {shown or 'none'}); expected some of: "
                         + ", ".join(EXPECTED_COLUMNS), file=name, line=1)
    return mapping, ignored, rows


# ------------------------------------------------------------------------ specs, catalog

@dataclass
class SpecInfo:
    """What the checks need of a counted architecture."""

    name: str
    source: str                    # the spec path, or 'catalog: NAME'
    result: Any                    # the CountResult (for operation counting)
    params: int
    active_params: int
    tokens: Optional[int]          # T when the input is a token sequence
    published: dict
    discrepancy: dict

    @property
    def moe(self) -> bool:
        return self.active_params < self.params


@lru_cache(maxsize=256)
def _spec_info(path: str, variant: Optional[str] = None) -> SpecInfo:
    """Count an archspec (torch-free) or a Hugging Face config.json (needs the hf extra)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        try:
            from ..graphs.hf_config import count_config
        except ImportError:
            raise InputError("counting a Hugging Face config.json needs "
                             "estimator.graphs.hf_config, which this version lacks") from None
        result = count_config(p)
        return SpecInfo(name=getattr(result, "name", p.parent.name), source=str(p), result=result,
                        params=int(result.params), active_params=int(result.active_params),
                        tokens=getattr(result, "tokens", None), published={}, discrepancy={})
    from ..analytic import analyze, load_spec

    spec = load_spec(p, variant=variant)
    return _info(spec.name, str(p), analyze(spec), spec.provenance)


def _info(name: str, source: str, result, provenance: dict) -> SpecInfo:
    return SpecInfo(name=name, source=source, result=result, params=int(result.params),
                    active_params=int(result.active_params), tokens=result.tokens,
                    published=dict(result.extra.get("published") or {}),
                    discrepancy=dict((provenance or {}).get("discrepancy") or {}))


@lru_cache(maxsize=4096)
def _catalog_info(name: str) -> Optional[SpecInfo]:
    """The counted catalog spec a row's name or alias matches, by the catalog's own rule
    (:func:`estimator.curation.catalog.find_spec`: headers only, so a file of 2,000 rows
    counts just the specs its rows name)."""
    from .catalog import find_spec

    ref = find_spec(name)
    return _spec_info(str(ref.path), ref.variant) if ref is not None else None


# ---------------------------------------------------------------------------- the checks

def _fmt(v: float) -> str:
    return fmt_quantity(v) if abs(v) < 1e5 else sci(v, 3)


def _slip(ratio: float) -> Optional[int]:
    """10^k (k = ±3, ±6, ±9) when ``ratio`` is within a factor 2 of it."""
    if not ratio > 0:
        return None
    lg = math.log10(ratio)
    for k in SLIP_EXPONENTS:
        if abs(lg - k) <= math.log10(COMPUTE_FACTOR):
            return k
    return None


def _slip_words(k: int) -> str:
    return f"about 10^{k} {'too large' if k > 0 else 'too small'}"


class _Row:
    """One row being checked: parsed cells, the record, helpers that add checks."""

    def __init__(self, record: Record, cells: dict[str, Any]):
        self.rec = record
        self.raw = cells
        self.v: dict[str, Optional[Interval]] = {}

    def add(self, name, status, message, **kw) -> Check:
        c = Check(name=name, status=status, message=message, **kw)
        self.rec.checks.append(c)
        return c

    def text(self, f: str) -> str:
        v = self.raw.get(f)
        return "" if v is None else " ".join(str(v).split())

    def num(self, f: str) -> Optional[float]:
        iv = self.v.get(f)
        return iv.central if iv is not None else None


def _parse_cells(r: _Row) -> None:
    for f in _NUMERIC:
        if f not in r.raw:
            continue
        try:
            iv = parse_cell(r.raw[f], what=_WHAT[f])
        except InputError as err:
            r.add("cells", "flagged", f"{err.message}; the checks that need it did "
                  "not run", code="malformed-cell")
            continue
        if iv is not None and not (math.isfinite(iv.low) and math.isfinite(iv.high)):
            iv = None
        r.v[f] = iv
    # a utilisation typed as a percentage without the sign (45 for 45 %)
    u = r.v.get("utilisation")
    if u is not None and 1 < u.high <= 100 and "%" not in r.text("utilisation"):
        r.v["utilisation"] = Interval(u.low / 100, u.high / 100)
        r.rec.notes.append(f"Hardware utilization {r.text('utilisation')} read as a percentage")


def _plausibility(r: _Row) -> None:
    """Figures that cannot be real: not positive, fewer chips than one, a utilisation above 1,
    a compute below one forward pass of the model (2 FLOP per parameter: one multiply-add)."""
    for f in ("params", "active_params", "compute", "dataset", "epochs", "hours", "quantity",
              "finetune_compute"):
        v = r.num(f)
        if v is not None and v <= 0:
            r.add("values", "flagged", f"{_WHAT[f]} is {_fmt(v)}: it must be positive",
                  code="implausible-value", submitted=v)
            r.v[f] = None
    q = r.num("quantity")
    if q is not None and q < 1:
        r.add("values", "flagged", f"Hardware quantity {_fmt(q)} is less than one chip",
              code="implausible-value", submitted=q)
        r.v["quantity"] = None
    u = r.num("utilisation")
    if u is not None and u > 1:
        r.add("values", "flagged", f"Hardware utilization {_fmt(u)} is above 1 (100 %)",
              code="implausible-value", submitted=u)
        r.v["utilisation"] = None
    c, n = r.num("compute"), r.num("params")
    if c is not None and n is not None and c < 2 * n:
        r.add("values", "flagged",
              f"Training compute {_fmt(c)} FLOP is less than one forward pass of {_fmt(n)} "
              f"parameters (2 x {_fmt(n)} = {_fmt(2 * n)} FLOP): too small to be real",
              code="implausible-value", submitted=c, recomputed=2 * n, ratio=c / (2 * n))
        r.v["compute"] = None


def _find_spec(r: _Row, base_dir: Optional[Path]) -> Optional[SpecInfo]:
    named = r.text("spec")
    if named:
        p = Path(named)
        if not p.is_absolute() and base_dir is not None and (base_dir / p).exists():
            p = base_dir / p
        if not p.exists():
            r.add("params", "flagged", f"the spec {named!r} the row names does not exist",
                  code="unreadable-spec")
            return None
        try:
            return _spec_info(str(p))
        except PCError as err:
            r.add("params", "flagged", f"the spec {named!r} cannot be counted: {err}",
                  code="unreadable-spec")
            return None
    model = r.rec.model
    if not model:
        return None
    try:
        return _catalog_info(model)
    except PCError as err:
        r.rec.notes.append(f"catalog spec for {model!r} cannot be counted: {err}")
        return None


def _check_params(r: _Row, spec: Optional[SpecInfo]) -> None:
    p = r.num("params")
    if p is None:
        r.add("params", "not-checkable", "no Parameters figure")
        return
    if spec is None:
        r.add("params", "not-checkable",
              f"no catalog spec matches {r.rec.model!r} (by name or alias) and the row names "
              "no spec or config.json", submitted=p)
        return
    n = spec.params
    ratio = p / n
    base = dict(submitted=p, recomputed=float(n), ratio=ratio,
                arithmetic=f"{_fmt(p)} / {_fmt(n)} (count of {spec.name}) = {ratio:.4g}")
    if abs(ratio - 1) <= PARAMS_TOLERANCE:
        r.add("params", "ok", f"Parameters {_fmt(p)} match the count of {spec.name} "
              f"({n:,}) within 1 %", **base)
        return
    pub = (spec.published.get("params") or {}).get("value")
    why = spec.discrepancy.get("params")
    if pub and why and abs(p / pub - 1) <= PARAMS_TOLERANCE:
        r.add("params", "ok", f"Parameters {_fmt(p)} match the published {_fmt(pub)} of "
              f"{spec.name}; the count ({n:,}) differs, explained: {why}", **base)
        return
    if spec.moe and abs(p / spec.active_params - 1) <= PARAMS_TOLERANCE:
        r.add("params", "flagged", f"Parameters {_fmt(p)} equal the ACTIVE parameters of "
              f"{spec.name} ({spec.active_params:,}); its total is {n:,}: the Parameters "
              "column holds the total", code="moe-active-as-total", **base)
        return
    k = _slip(ratio)
    if k:
        r.add("params", "flagged", f"Parameters {_fmt(p)} are {_slip_words(k)} against the "
              f"count of {spec.name} ({n:,}): a unit slip?", code="unit-slip", **base)
        return
    r.add("params", "flagged", f"Parameters {_fmt(p)} differ from the count of {spec.name} "
          f"({n:,}) by {abs(ratio - 1):.1%}", code="params-mismatch", **base)


def _check_active(r: _Row, spec: Optional[SpecInfo]) -> None:
    a = r.num("active_params")
    if a is None or spec is None or not spec.moe:
        return
    if abs(a / spec.params - 1) <= PARAMS_TOLERANCE:
        r.add("params", "flagged", f"Active parameters {_fmt(a)} equal the TOTAL of {spec.name} "
              f"({spec.params:,}); one token uses {spec.active_params:,}",
              code="moe-total-as-active", submitted=a, recomputed=float(spec.active_params),
              ratio=a / spec.active_params)
    elif abs(a / spec.active_params - 1) <= PARAMS_TOLERANCE:
        r.add("params", "ok", f"Active parameters {_fmt(a)} match the count of {spec.name} "
              f"({spec.active_params:,})", submitted=a, recomputed=float(spec.active_params),
              ratio=a / spec.active_params)


def _resolve_hardware(r: _Row, table) -> list:
    cell = r.text("hardware")
    if not cell:
        return []
    from ..costs.hardware import split_names

    found = []
    for name in split_names(cell):
        try:
            acc = _lookup_hardware(table, name)
        except InputError as err:
            code = "ambiguous-hardware" if "could mean" in err.message else "unknown-hardware"
            r.add("hardware-names", "flagged", f"{err.message}; the hardware check did not run",
                  code=code)
            r.rec.hardware.append({"name": name, "id": None})
            continue
        r.rec.hardware.append({"name": name, "id": acc.id, "kind": acc.kind})
        if acc not in found:
            found.append(acc)
    if any(h["id"] is None for h in r.rec.hardware):
        return []
    return found


_HW_CACHE: dict = {}


def _lookup_hardware(table, name: str):
    """``table.lookup`` remembered per table and name (datasets repeat a few dozen names
    thousands of times; an unknown one costs a fuzzy search for suggestions)."""
    key = (id(table), name)
    if key not in _HW_CACHE:
        try:
            _HW_CACHE[key] = table.lookup(name)
        except InputError as err:
            _HW_CACHE[key] = err
    found = _HW_CACHE[key]
    if isinstance(found, InputError):
        raise found
    return found


_BEST: dict = {}
_OTHER: dict = {}


def _other_reading(acc, table):
    """The other reading of a quantity of ``acc``: the board made of this chip (TPU v3 ->
    TPU v3-8), or the chip this board is made of (K80 -> one GK210); None if neither."""
    from ..costs.hardware import boards_of

    key = (id(table), acc.id)
    if key not in _OTHER:
        boards = boards_of(acc, table)
        _OTHER[key] = boards[0] if boards else table.by_id.get(acc.chip) if acc.chip else None
    return _OTHER[key]


def _best_precision(acc) -> Optional[str]:
    """The float precision with the highest dense peak (int8 is not FLOP)."""
    if acc.id not in _BEST:
        floats = [p for p in acc.precisions if p != "int8"]
        _BEST[acc.id] = max(floats, key=lambda p: acc.peak_flops(p).high) if floats else None
    return _BEST[acc.id]


def _capacity(acc_or_peak, q: Interval, hours: Interval):
    """FLOP the hardware could do at 100 %: ``hardware_method`` with utilisation 1, at the
    part's default precision (or at the given peak)."""
    from ..costs.compute import hardware_method

    if isinstance(acc_or_peak, Interval):
        return hardware_method(peak=(acc_or_peak.low, acc_or_peak.high), chips=(q.low, q.high),
                               hours=(hours.low, hours.high), utilisation=1)
    return hardware_method(hardware=acc_or_peak.id, chips=(q.low, q.high),
                           hours=(hours.low, hours.high), utilisation=1)


def _at_peak(est, peak: Interval) -> Interval:
    """The same chips and time at another per-unit peak: capacity x peak / est.peak."""
    return est.capacity * peak / est.peak


def _best_peak(acc) -> tuple[str, Interval]:
    prec = _best_precision(acc)
    return prec, acc.peak_flops(prec)


def _check_hardware(r: _Row, parts: list, table) -> None:
    from ..costs.compute import fmt_utilisation, judge_utilisation

    fine_tune = bool(r.text("base_model"))
    c = r.v.get("finetune_compute") if fine_tune else r.v.get("compute")
    what = "Finetune compute" if fine_tune else "Training compute"
    if fine_tune and c is None:
        r.add("hardware", "not-checkable",
              f"fine-tune of {r.text('base_model')!r} without Finetune compute: the compute "
              "column may include the base model's pretraining while the hardware and time "
              "describe the fine-tune, so the hardware check does not apply")
        return
    missing = [w for w, v in ((what, c), ("Training hardware", parts),
                              ("Hardware quantity", r.v.get("quantity")),
                              ("Training time (hours)", r.v.get("hours"))) if not v]
    if missing:
        if any(ch.name == "hardware-names" for ch in r.rec.checks):
            return  # already said why
        r.add("hardware", "not-checkable", "the hardware check needs " + ", ".join(missing))
        return
    q, hours = r.v["quantity"], r.v["hours"]
    if len(parts) > 1:  # several parts in one cell: the peak lies between theirs
        defaults = [a.peak_flops(a.default) for a in parts if a.default]
        if len(defaults) < len(parts):
            r.add("hardware", "not-checkable", "a listed part has no dense peak in the table")
            return
        peak = Interval(min(d.low for d in defaults), max(d.high for d in defaults))
        best_prec, best = "best", Interval.of(max(_best_peak(a)[1].high for a in parts))
        est = _capacity(peak, q, hours)
        names = " / ".join(a.id for a in parts)
        label = f"{names} (peak between theirs)"
        alt = None
    else:
        acc = parts[0]
        if acc.default is None:
            r.add("hardware", "not-checkable", f"{acc.name} has no dense peak in the table")
            return
        est = _capacity(acc, q, hours)
        best_prec, best = _best_peak(acc)
        label = f"{acc.id} at {est.precision}"
        # the other reading of the quantity: boards of this chip, or the chips of this board
        alt = _other_reading(acc, table)
    iu = c / est.capacity
    iu_best = c / _at_peak(est, best)
    nums = dict(submitted=c.central, recomputed=est.capacity.central, low=est.capacity.low,
                high=est.capacity.high, ratio=iu.central,
                arithmetic=f"{_fmt(c.central)} FLOP / [{est.arithmetic().split(' = ')[0]}] "
                           f"= utilisation {fmt_utilisation(iu)}")
    if alt is not None:
        alt_iu = c / _at_peak(est, alt.peak_flops(alt.default))
        alt_best = c / _at_peak(est, _best_peak(alt)[1])
        unit = "boards" if alt.kind == "board" else "chips"
        each = f"{alt.chips} chips each" if alt.kind == "board" else "one chip each"
        alt_text = (f"if Hardware quantity counts {alt.id} {unit} ({each}), the utilisation "
                    f"is {fmt_utilisation(alt_iu)}")
    verdict, why = judge_utilisation(iu_best)
    if verdict == "impossible":
        if alt is not None and alt_best.central <= 1:
            r.add("hardware", "flagged", f"{what} {_fmt(c.central)} FLOP needs utilisation "
                  f"{fmt_utilisation(iu_best)} of {_fmt(q.central)} x {acc.id} even at its best "
                  f"dense peak: impossible as chips; {alt_text}", code="board-as-chips", **nums)
            return
        at_best = ("" if best.high <= est.peak.high else
                   f"; at the best dense peak ({best_prec}) it is {fmt_utilisation(iu_best)}")
        r.add("hardware", "flagged", f"{what} {_fmt(c.central)} FLOP: {why} ({label}{at_best})",
              code="impossible-utilisation", **nums)
        return
    verdict, why = judge_utilisation(iu, low=UTILISATION_LOW, high=UTILISATION_HIGH)
    if verdict == "impossible":  # above 1 at the default precision, possible at the best one
        r.add("hardware", "flagged", f"{why} at {est.precision} ({label}); possible only at "
              f"{best_prec} (utilisation {fmt_utilisation(iu_best)})",
              code="suspicious-utilisation", **nums)
        return
    if verdict == "suspicious":
        if alt is not None and UTILISATION_LOW <= alt_iu.central <= UTILISATION_HIGH:
            r.add("hardware", "flagged", f"{why} ({label}); {alt_text}, which is plausible",
                  code="board-as-chips", **nums)
            return
        r.add("hardware", "flagged", f"{why} ({label})", code="suspicious-utilisation", **nums)
        return
    r.add("hardware", "ok", f"{why} ({label})", **nums)
    stated = r.v.get("utilisation")
    if stated is not None and stated.central > 0:
        k = iu.central / stated.central
        if not (1 / COMPUTE_FACTOR <= k <= COMPUTE_FACTOR):
            r.add("hardware", "flagged", f"the stated utilisation {fmt_utilisation(stated)} "
                  f"disagrees with the implied {fmt_utilisation(iu)} ({label})",
                  code="utilisation-mismatch", submitted=stated.central, recomputed=iu.central,
                  ratio=k)


def _compare_compute(r: _Row, c: float, target: float, code: str, what: str, arithmetic: str,
                     extra: str = "") -> bool:
    """One compute comparison; True when it passes."""
    ratio = c / target
    nums = dict(submitted=c, recomputed=target, ratio=ratio, arithmetic=arithmetic)
    if 1 / COMPUTE_FACTOR <= ratio <= COMPUTE_FACTOR:
        r.add("compute", "ok", f"Training compute {_fmt(c)} FLOP is {ratio:#.3g}x {what} "
              f"({_fmt(target)}){extra}", **nums)
        return True
    k = _slip(ratio)
    if k:
        r.add("compute", "flagged", f"Training compute {_fmt(c)} FLOP is {_slip_words(k)} against "
              f"{what} ({_fmt(target)}): a unit slip?", code="unit-slip", **nums)
    else:
        r.add("compute", "flagged", f"Training compute {_fmt(c)} FLOP is {ratio:#.3g}x {what} "
              f"({_fmt(target)}){extra}", code=code, **nums)
    return False


def _check_compute(r: _Row, spec: Optional[SpecInfo]) -> None:
    from ..costs.compute import operation_counting

    fine_tune = bool(r.text("base_model"))
    c = r.num("finetune_compute") if fine_tune else r.num("compute")
    if fine_tune and c is None:
        r.add("compute", "not-checkable", f"fine-tune of {r.text('base_model')!r} without "
              "Finetune compute: the compute column may include the base model's pretraining, "
              "which the fine-tune's dataset does not describe")
        return
    d = r.v.get("dataset")
    epochs = r.v.get("epochs")
    if c is None or d is None:
        r.add("compute", "not-checkable", "the compute check needs "
              + ", ".join(w for w, v in (("Training compute", c), ("Training dataset size", d))
                          if v is None))
        return
    ep = epochs or Interval.of(1)
    seen = d * ep
    ep_text = f" x {fmt_quantity(ep.central)} epochs" if epochs else " (1 epoch: none given)"
    tokens_header = "token" in str(r.raw.get("_dataset_header") or "").lower()
    domain = r.text("domain")
    tokens = bool(tokens_header or _TOKEN_DOMAINS.search(domain) or (spec and spec.tokens and not domain))
    if spec is not None:
        try:
            if spec.tokens and tokens:
                oc = operation_counting(spec.result, tokens=(seen.low, seen.high))
            elif not spec.tokens:
                oc = operation_counting(spec.result, examples=(seen.low, seen.high))
            else:
                oc = None
        except PCError as err:
            r.rec.notes.append(f"operation counting did not run: {err}")
            oc = None
        if oc is not None:
            n = spec.active_params
            if oc.six_nd is not None:
                six = oc.six_nd.central
                if spec.moe and abs(c / (6 * spec.params * seen.central) - 1) <= MOE_MATCH:
                    r.add("compute", "flagged", f"Training compute {_fmt(c)} FLOP equals 6 x TOTAL "
                          f"parameters ({spec.params:,}) x {_fmt(seen.central)} tokens; an MoE's "
                          f"6·N·D uses the active {n:,}: {_fmt(six)} FLOP",
                          code="moe-total-as-active", submitted=c, recomputed=six, ratio=c / six,
                          arithmetic=oc.six_nd_arithmetic())
                    return
                _compare_compute(r, c, six, "compute-vs-6nd", "6·N·D",
                                 oc.six_nd_arithmetic() + ep_text)
            _compare_compute(r, c, oc.training_flops.central, "compute-vs-counting",
                             f"3 x forward x examples of {spec.name}", oc.arithmetic() + ep_text)
            return
    if not tokens:
        r.add("compute", "not-checkable",
              f"6·N·D needs training tokens: the dataset size of a {domain or 'domain not given'} "
              "system counts datapoints, not tokens; name a spec to count 3 x forward x examples")
        return
    n = r.num("params")
    if n is None:
        r.add("compute", "not-checkable", "6·N·D needs Parameters")
        return
    six = 6 * n * seen.central
    _compare_compute(r, c, six, "compute-vs-6nd", "6·N·D",
                     f"6 x {_fmt(n)} x {_fmt(seen.central)} tokens{ep_text} = {_fmt(six)} FLOP")


def _check_row(index: int, line: Optional[int], cells, table, base_dir) -> Record:
    if isinstance(cells, PCError):
        rec = Record(row=index, line=line, model="")
        rec.checks.append(Check("row", "flagged", cells.message, code="malformed-row"))
        rec.verdict = "flagged"
        return rec
    rec = Record(row=index, line=line, model=" ".join(str(cells.get("model") or "").split()))
    r = _Row(rec, cells)
    _parse_cells(r)
    _plausibility(r)
    spec = _find_spec(r, base_dir)
    if spec is not None:
        rec.notes.append(f"matched spec: {spec.name} ({spec.source})")
    _check_params(r, spec)
    _check_active(r, spec)
    parts = _resolve_hardware(r, table)
    _check_hardware(r, parts, table)
    _check_compute(r, spec)
    statuses = {c.status for c in rec.checks}
    rec.verdict = ("flagged" if "flagged" in statuses else "ok" if "ok" in statuses
                   else "not-checkable")
    return rec


# ------------------------------------------------------------------------------- the API

def verify(rows_or_path, *, base_dir: str | os.PathLike | None = None,
           progress: Optional[Callable[[int, int], None]] = None, table=None) -> Records:
    """Check submissions: a CSV / JSON lines path, or an iterable of dicts (column -> cell).

    Returns :class:`Records` (a list of :class:`Record`, one per input row, in order, with
    ``.summary()``). Bad input as a whole (empty, binary, no recognisable columns) raises
    InputError; a bad row is flagged and the others are still checked. ``progress(done,
    total)`` is called as rows are checked. Relative spec paths in a row are looked up beside
    the input file (or ``base_dir``), then in the working folder.
    """
    from ..costs.hardware import load_table

    table = table or load_table()
    if isinstance(rows_or_path, (str, os.PathLike)):
        mapping, ignored, raw = read_rows(rows_or_path)
        file = str(rows_or_path)
        base = Path(base_dir) if base_dir else Path(rows_or_path).resolve().parent
    else:
        raw = []
        headers: list[str] = []
        for i, row in enumerate(rows_or_path):
            if not isinstance(row, dict):
                raw.append((None, InputError(f"row {i + 1} is a {type(row).__name__}, not a "
                                             "mapping of column -> cell")))
                continue
            for k in row:
                if str(k) not in headers:
                    headers.append(str(k))
            raw.append((None, {str(k): v for k, v in row.items()}))
        mapping, ignored = _map_columns(headers)
        file = None
        base = Path(base_dir) if base_dir else None
    dataset_header = mapping.get("dataset", "")
    out = Records(file=file, columns=mapping, ignored=ignored)
    total = len(raw)
    for i, (line, cells) in enumerate(raw, start=1):
        if isinstance(cells, dict):
            cells = {f: cells.get(h) for f, h in mapping.items()}
            cells["_dataset_header"] = dataset_header
        try:
            rec = _check_row(i, line, cells, table, base)
        except PCError as err:  # a row the checks cannot digest is flagged, never fatal
            rec = Record(row=i, line=line, model=str((cells or {}).get("model") or "")
                         if isinstance(cells, dict) else "")
            rec.checks.append(Check("row", "flagged", err.message, code="malformed-row"))
            rec.verdict = "flagged"
        out.append(rec)
        if progress is not None:
            progress(i, total)
    return out
