"""The accelerator table: dense peak FLOP/s per chip (or board), per precision, with sources.

The data lives in ``hardware/accelerators.yaml`` (one row per chip, board or system, each with
a source); this module loads and validates it and looks names up the way people write them:
``V100``, ``Tesla V100-SXM2-32GB``, ``TPUv3``, ``tpu v3-8``, ``nvidia-h100-sxm``.

Lookup ignores case, spaces and punctuation. A name that several rows share (``TITAN X``,
``RTX 6000``, ``TPU``) asks which; an unknown name suggests the closest ones.
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError, PCError
from ..units import Interval

PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8")
Precision = Literal["fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8"]
TERA = 1e12  # the table stores TFLOP/s (TOP/s for int8)



def _default_table() -> Path:
    """``hardware/accelerators.yaml`` of a source checkout, else the copy installed with the
    package (``estimator.hardware_data``, which is the hardware/ folder in the wheel)."""
    checkout = Path(__file__).resolve().parents[2] / "hardware" / "accelerators.yaml"
    if checkout.is_file():
        return checkout
    return Path(__file__).resolve().parents[1] / "hardware_data" / "accelerators.yaml"


DEFAULT_TABLE = _default_table()

# Words that name a vendor or product line rather than the part; a second lookup pass drops
# them, so "NVIDIA Tesla V100 SXM2" finds the row whose alias is "V100 SXM2".
_NOISE_WORDS = ("nvidia", "tesla", "geforce", "google", "cloud", "amd", "radeon", "instinct",
                "intel", "habana", "aws", "amazon", "huawei", "gpu", "gpus", "the")
# A memory size written after a part ("RTX 2080 Ti 11GB", "A800 PCIe 40 GB"): when the name
# with it is not in the table, the lookup retries without it (memory variants share compute).
_MEMORY = re.compile(r"(?<![a-z0-9])\d+(?:\.\d+)?\s*(?:gb|gib|g)(?![a-z0-9])", re.I)
# Separators of a cell that lists several parts: "Google TPU v4,Google TPU v3".
_LIST_SEPARATORS = re.compile(r"\s*(?:[,;+/|]|\band\b|&)\s*", re.I)


class Accelerator(BaseModel):
    """One row of the table. Peaks are DENSE, per entry (a board's peak is the whole board)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9.-]*$")
    name: str
    aliases: list[str] = Field(..., min_length=1)
    vendor: str
    year: int = Field(..., ge=1990, le=2100)
    kind: Literal["chip", "board", "system"]
    chips: int = Field(1, ge=1, description="chips in one entry (a board holds several)")
    chip: Optional[str] = Field(None, description="id of the chip a board is made of")
    peak: dict[Precision, Union[float, tuple[float, float]]]
    matrix_units: bool = Field(..., description="tensor cores / matrix engines for 16-bit work")
    default_precision: Optional[Precision] = None
    memory: Optional[float] = Field(None, gt=0, description="GB")
    bandwidth: Optional[float] = Field(None, gt=0, description="GB/s")
    tdp: Optional[float] = Field(None, gt=0, description="W")
    source: str = Field(..., min_length=10)
    derivation: Optional[str] = None
    note: Optional[str] = None

    @model_validator(mode="after")
    def _consistent(self) -> "Accelerator":
        for prec, value in self.peak.items():
            low, high = value if isinstance(value, tuple) else (value, value)
            if not (0 < low <= high):
                raise ValueError(f"peak.{prec} must be positive (a range as [low, high])")
        if self.kind == "chip" and self.chips != 1:
            raise ValueError("a chip row has chips: 1; use kind: board for several chips")
        if self.kind == "board" and self.chips < 2:
            raise ValueError("a board row needs chips: N (N >= 2)")
        if self.default_precision and self.default_precision not in self.peak:
            raise ValueError(f"default_precision {self.default_precision} has no peak")
        return self

    # -- what the rest of the package uses ---------------------------------------------
    @property
    def precisions(self) -> list[str]:
        """The precisions this entry has a peak for, in table order (fp64 ... int8)."""
        return [p for p in PRECISIONS if p in self.peak]

    @property
    def default(self) -> Optional[str]:
        """The precision an estimate uses when none is given.

        ``default_precision`` if the row sets one; else, on parts with tensor cores / matrix
        engines, the best dense 16-bit figure (the larger of fp16 and bf16); else fp32 (what
        curators assume for pre-tensor-core parts, whose fp16 is slow or crippled).
        """
        if self.default_precision:
            return self.default_precision
        if self.matrix_units:
            sixteen = [p for p in ("bf16", "fp16") if p in self.peak]
            if sixteen:
                return max(sixteen, key=lambda p: Interval.of(self.peak[p]).central)
        return "fp32" if "fp32" in self.peak else None

    def peak_flops(self, precision: str) -> Interval:
        """Dense peak of one entry at ``precision`` in FLOP/s (OP/s for int8), as an Interval."""
        if precision not in self.peak:
            have = ", ".join(self.precisions) or "none"
            raise InputError(f"{self.name} has no {precision} peak in the table "
                             f"(it has: {have})", key="precision")
        return Interval.of(self.peak[precision]) * TERA

    def to_dict(self) -> dict:
        d = self.model_dump(exclude_none=True)
        d["peak"] = {p: (list(v) if isinstance(v, tuple) else v) for p, v in self.peak.items()}
        d["default_precision"] = self.default
        d["precisions"] = self.precisions
        return d


class _TableFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: dict[str, str] = Field(default_factory=dict)
    accelerators: list[dict]
    ambiguous: dict[str, list[str]] = Field(default_factory=dict)


def normalise(name: str) -> str:
    """Case- and punctuation-insensitive key: 'Tesla V100-SXM2-32GB' -> 'teslav100sxm232gb'."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def strip_noise(name: str) -> str:
    """The name without vendor and product-line words: 'NVIDIA Tesla V100' -> 'v100'."""
    words = re.findall(r"[a-z0-9]+", str(name).lower())
    return "".join(w for w in words if w not in _NOISE_WORDS)


_strip_noise = strip_noise


@dataclass
class Table:
    """The validated accelerator table with its name index."""

    rows: list[Accelerator]
    file: str
    units: dict
    ambiguous: dict[str, list[str]]  # normalised name -> candidate ids

    def __post_init__(self):
        self.by_id = {r.id: r for r in self.rows}
        self.index: dict[str, str] = {}           # normalised name -> id
        self.loose: dict[str, set[str]] = {}      # vendor words dropped -> ids
        for r in self.rows:
            for name in [r.id, r.name, *r.aliases]:
                key = normalise(name)
                self.index.setdefault(key, r.id)
                self.loose.setdefault(_strip_noise(name), set()).add(r.id)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def names_of(self, acc: Accelerator) -> list[str]:
        return [acc.id, acc.name, *acc.aliases]

    def lookup(self, query: str) -> Accelerator:
        """The one row ``query`` names; InputError (ask which / closest matches) otherwise.

        Passes, first match wins: (1) the name as written (case, spaces and punctuation
        ignored); (2) without vendor and product-line words (NVIDIA, Tesla, GeForce, Google,
        AMD, Radeon, Instinct...): an exact name first, then the one row whose name reads the
        same without them; (3) the same again without a memory size ("11GB", "40 GB"), since
        memory variants of a part share its compute. A name several rows share asks which.
        """
        q = str(query).strip()
        if not q:
            raise InputError("no hardware given: name a chip, e.g. --hardware V100", key="hardware")
        found = self._find(q)
        if found is None and _MEMORY.search(q):
            found = self._find(_MEMORY.sub(" ", q))
        if isinstance(found, Accelerator):
            return found
        if found:  # several ids
            raise InputError(self._which(q, found), key="hardware")
        raise InputError(f"unknown accelerator {q!r}{self._suggest(q)}; "
                         "'paramcount hardware' lists the table", key="hardware")

    def _find(self, q: str):
        """An Accelerator, a list of candidate ids (ambiguous), or None (unknown)."""
        key = normalise(q)
        if key in self.ambiguous:
            return list(self.ambiguous[key])
        if key in self.index:
            return self.by_id[self.index[key]]
        bare = _strip_noise(q)
        if bare in self.ambiguous:
            return list(self.ambiguous[bare])
        if bare in self.index:  # 'NVIDIA Tesla K80' -> the row named 'K80'
            return self.by_id[self.index[bare]]
        loose = self.loose.get(bare, set())
        if len(loose) == 1:
            return self.by_id[next(iter(loose))]
        return sorted(loose) or None

    def _which(self, q: str, ids) -> str:
        options = "; ".join(f"{i} ({self.by_id[i].name})" for i in ids)
        return f"{q!r} could mean several entries, say which: {options}"

    def closest(self, query: str, n: int = 5) -> list[Accelerator]:
        keys = list(self.index)
        found = difflib.get_close_matches(normalise(query), keys, n=n * 3, cutoff=0.5)
        out: list[Accelerator] = []
        for k in found:
            acc = self.by_id[self.index[k]]
            if acc not in out:
                out.append(acc)
        return out[:n]

    def _suggest(self, q: str) -> str:
        close = self.closest(q, 4)
        if not close:
            return ""
        return " (closest: " + ", ".join(f"{a.id} [{a.aliases[0]}]" for a in close) + ")"

    def search(self, query: str | None = None) -> list[Accelerator]:
        """Rows whose id, name, alias, vendor or kind contains ``query`` (all rows if none);
        an empty list when nothing does (``closest`` then suggests)."""
        if not query or not str(query).strip():
            return list(self.rows)
        key = normalise(query)
        return [r for r in self.rows
                if any(key in normalise(n) for n in [*self.names_of(r), r.vendor, r.kind])]


def _error_line(raw, loc) -> int | None:
    """The line of a key path in a LineDict/LineList tree, as deep as it goes."""
    line = getattr(raw, "line", None)
    node = raw
    for part in loc:
        lines = getattr(node, "lines", None)
        try:
            if isinstance(lines, dict) and part in lines:
                line = lines[part]
            elif isinstance(lines, list) and isinstance(part, int) and part < len(lines):
                line = lines[part]
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return line


def load_table(path: str | os.PathLike | None = None) -> Table:
    """Load and validate the table (default: ``hardware/accelerators.yaml``, or the file named
    by the environment variable ``PARAMCOUNT_HARDWARE``)."""
    if path is None:
        path = os.environ.get("PARAMCOUNT_HARDWARE") or DEFAULT_TABLE
    return _load_cached(str(path))


@lru_cache(maxsize=4)
def _load_cached(path: str) -> Table:
    from ..spec.yamlload import load_yaml_file

    p = Path(path)
    if not p.is_file():
        raise InputError("the accelerator table is missing", file=path)
    try:
        raw = load_yaml_file(p)
    except PCError as err:
        raise InputError(err.message, file=path, line=err.line) from None
    try:
        top = _TableFile.model_validate(raw)
    except ValidationError as err:
        e = err.errors()[0]
        raise InputError(e["msg"], file=path, line=_error_line(raw, e["loc"]),
                         key=".".join(map(str, e["loc"]))) from None
    rows: list[Accelerator] = []
    seen_ids: dict[str, int] = {}
    seen_names: dict[str, str] = {}
    for i, item in enumerate(top.accelerators):
        line = _error_line(raw, ("accelerators", i))
        try:
            acc = Accelerator.model_validate(item)
        except ValidationError as err:
            e = err.errors()[0]
            loc = tuple(x for x in e["loc"] if x != "[key]")
            where = ".".join(str(x) for x in loc)
            key = f"accelerators[{i}]" + (f".{where}" if where else "")
            raise InputError(e["msg"], file=path, line=_error_line(raw, ("accelerators", i, *loc)) or line,
                             key=key) from None
        if acc.id in seen_ids:
            raise InputError(f"duplicate id {acc.id!r}", file=path, line=line, key=f"accelerators[{i}].id")
        seen_ids[acc.id] = i
        for name in {normalise(n) for n in [acc.id, acc.name, *acc.aliases]}:
            other = seen_names.get(name)
            if other and other != acc.id:
                raise InputError(f"name {name!r} of {acc.id} is also a name of {other}: an alias "
                                 "must name one entry (list shared names under 'ambiguous:')",
                                 file=path, line=line, key=f"accelerators[{i}].aliases")
            seen_names[name] = acc.id
        rows.append(acc)
    for acc in rows:
        if acc.chip is not None and acc.chip not in seen_ids:
            raise InputError(f"{acc.id}: chip {acc.chip!r} is not an id in the table", file=path,
                             key="chip")
    ambiguous: dict[str, list[str]] = {}
    for name, ids in top.ambiguous.items():
        missing = [i for i in ids if i not in seen_ids]
        if missing or len(ids) < 2:
            raise InputError(f"ambiguous name {name!r} must list two or more ids of the table"
                             + (f" (unknown: {', '.join(missing)})" if missing else ""),
                             file=path, key=f"ambiguous.{name}")
        if normalise(name) in seen_names:
            raise InputError(f"ambiguous name {name!r} is also an alias of "
                             f"{seen_names[normalise(name)]}", file=path, key=f"ambiguous.{name}")
        ambiguous[normalise(name)] = list(ids)
    return Table(rows=rows, file=str(path), units=dict(top.units), ambiguous=ambiguous)


def split_names(cell: str) -> list[str]:
    """The parts a cell lists: 'Google TPU v4,Google TPU v3' -> ['Google TPU v4', 'Google TPU v3'].

    Commas, semicolons, '+', '/', '|', '&' and 'and' separate names; empty pieces are dropped.
    A name with a slash inside a part number is rare in datasets and would split."""
    return [p.strip() for p in _LIST_SEPARATORS.split(str(cell or "")) if p and p.strip()]


def lookup(query: str, table: Table | None = None) -> Accelerator:
    """The row a name refers to (case- and punctuation-insensitive)."""
    return (table or load_table()).lookup(query)


def boards_of(acc: Accelerator, table: Table | None = None) -> list[Accelerator]:
    """Board rows made of this chip (TPU v3 -> TPU v3-8), to make the chip/board line visible."""
    table = table or load_table()
    return [r for r in table.rows if r.chip == acc.id]
