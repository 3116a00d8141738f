"""The pipeline: read the rows, match each once, run every check unit, decide the verdict.

Resolved once per run, not per row: the accelerator table (one load), each distinct hardware
cell, each distinct name looked up in the catalog, each spec a row names. A bad row is flagged
and the others still checked; bad input as a whole raises InputError.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ...errors import InputError, PCError
from ...units import parse_cell
from .cells import Row, parse_cells
from .checks import UNITS, Context
from .checks.base_model import Base
from .columns import map_columns
from .matching import (FILE_BASE_MARGIN, CatalogMatcher, FileIndex, HardwareResolver,
                       count_spec, from_entry, resolve_spec, same_model, split_bases)
from .reading import read_rows
from .records import Check, Record, Records


def _number(cell) -> Optional[float]:
    try:
        iv = parse_cell(cell)
    except InputError:
        return None
    return iv.central if iv is not None and iv.central > 0 else None


class Run:
    """One verify run: the resolvers every row shares."""

    def __init__(self, table, roots: list, index: FileIndex):
        self.table = table
        self.roots = roots
        self.index = index
        self.catalog = CatalogMatcher()
        self.hardware = HardwareResolver(table)
        self._counted: dict[int, Any] = {}

    def counted(self, match):
        key = id(match.entry)
        if key not in self._counted:
            self._counted[key] = from_entry(match.entry, match.how)
        return self._counted[key]

    def _chain(self, own, rowno: int, depth: int = 3):
        """The catalog entry a chain of fine-tunes in this file leads to (Med-PaLM -> Flan-PaLM
        540B -> PaLM (540B)), when every step keeps the parameters within 15 %."""
        seen = {rowno}
        while own is not None and depth > 0 and own[0] not in seen:
            seen.add(own[0])
            cells = own[1]
            bases = split_bases(str(cells.get("base_model") or ""))
            if len(bases) != 1:
                return None
            m = self.catalog.match(bases[0])
            p = _number(cells.get("params"))
            if m is not None:
                return m if p and abs(p / m.entry.params - 1) <= FILE_BASE_MARGIN else None
            nxt = self.index.find(bases[0], exclude=own[0])
            if nxt is None or not same_model(bases[0], p, _number(nxt[1].get("params"))):
                return None
            own, depth = nxt, depth - 1
        return None

    def base(self, r: Row, rowno: int) -> Optional[Base]:
        bases = split_bases(r.text("base_model"))
        if not bases:
            return None
        found = []
        for name in bases:
            # one base: the fine-tune has its size, so 'LLaMA' with 7e9 is LLaMA 7B (name + size)
            m = self.catalog.match(name, notes=r.rec.notes,
                                   params=r.num("params") if len(bases) == 1 else None)
            own = self.index.find(name, exclude=rowno)
            if m is None and own is None:
                continue
            chained = False
            if m is None:   # the base's own row may name its base: the same weights, one step up
                m = self._chain(own, rowno)
                chained = m is not None
            counted = self.counted(m) if m is not None else None
            cells = own[1] if own else {}
            if counted is None and not same_model(name, r.num("params"), _number(cells.get("params"))):
                r.rec.notes.append(f"base model {name!r}: row {own[0]} of this file has that "
                                   "name but neither a size in the name nor parameters within "
                                   f"{FILE_BASE_MARGIN:.0%} of this row's: another size of the "
                                   "family, not used")
                continue
            params = counted.params if counted else _number(cells.get("params"))
            compute = ((counted.published_compute if counted else None)
                       or _number(cells.get("compute")))
            how = ("chain" if chained else f"catalog: {counted.name} ({m.how})" if counted
                   else f"row {own[0]}")
            found.append(Base(name=name, params=params, compute=compute, counted=counted,
                              row=own[0] if own else None, how=how))
        if not found:
            return None
        if len(bases) > 1:   # several bases: parameters cannot be compared, compute the largest
            top = max(found, key=lambda b: b.compute or 0)
            # their sum only when every base was found (Apollo 7B's 'Qwen2.5-7B,SigLIP 400M'
            # with SigLIP 400M unknown is not Qwen2.5-7B's count)
            whole = len(found) == len(bases) and all(b.params for b in found)
            return Base(name=" + ".join(bases), params=sum(b.params for b in found) if whole else None,
                        compute=top.compute, counted=None, row=top.row, how="several")
        return found[0]

    def check(self, index: int, line: Optional[int], cells) -> Record:
        if isinstance(cells, PCError):
            rec = Record(row=index, line=line, model="")
            rec.checks.append(Check("row", "flagged", cells.message, code="malformed-row"))
            rec.decide()
            return rec
        rec = Record(row=index, line=line, model=" ".join(str(cells.get("model") or "").split()))
        r = Row(rec, cells)
        parse_cells(r)
        rec.has_params = r.num("params") is not None
        ctx = Context(table=self.table)
        named = r.text("spec")
        if named:
            try:
                ctx.counted = count_spec(resolve_spec(named, self.roots))
                rec.matched = {"spec": ctx.counted.source, "rule": "the row's Spec column"}
            except PCError as err:
                r.add("params", "flagged", err.message, code="unreadable-spec")
        elif rec.model:
            m = self.catalog.match(rec.model, organisation=r.text("organisation"),
                                   params=r.num("params"), notes=rec.notes)
            if m is not None:
                ctx.counted = self.counted(m)
                rec.matched = m.to_dict()
        if r.fine_tune:
            ctx.base = self.base(r, index)
        cell = r.text("hardware")
        if cell:
            parts, mentions, problem, code = self.hardware.resolve(cell)
            rec.hardware = list(mentions)
            ctx.parts, ctx.hardware_problem, ctx.hardware_code = parts, problem, code
        for unit in UNITS:
            unit(r, ctx)
        rec.decide()
        return rec


def verify(rows_or_path, *, base_dir: str | os.PathLike | None = None,
           specs_dirs: Iterable[str | os.PathLike] = (),
           progress: Optional[Callable[[int, int], None]] = None, table=None) -> Records:
    """Check submissions: a CSV / JSON lines path, or an iterable of dicts (column -> cell).

    Returns :class:`Records` (one :class:`Record` per input row, in order, with
    ``.summary()``). A path a row names (``Spec``) resolves only inside the input file's
    folder (or ``base_dir`` for rows given from Python) and the ``specs_dirs`` given.
    ``progress(done, total)`` is called as rows are checked.
    """
    from ...costs.hardware import load_table

    table = table or load_table()
    if isinstance(rows_or_path, (str, os.PathLike)):
        mapping, ignored, raw = read_rows(rows_or_path)
        file = str(rows_or_path)
        roots = [Path(base_dir) if base_dir else Path(rows_or_path).resolve().parent]
    else:
        raw, headers = [], []
        for i, row in enumerate(rows_or_path):
            if not isinstance(row, dict):
                raw.append((None, InputError(f"row {i + 1} is a {type(row).__name__}, not a "
                                             "mapping of column -> cell")))
                continue
            for k in row:
                if str(k) not in headers:
                    headers.append(str(k))
            raw.append((None, {str(k): v for k, v in row.items()}))
        mapping, ignored = map_columns(headers)
        file = None
        roots = [Path(base_dir)] if base_dir else []
    roots += [Path(d) for d in specs_dirs]
    dataset_header = mapping.get("dataset", "")
    rows = []
    for i, (line, cells) in enumerate(raw, start=1):
        if isinstance(cells, dict):
            cells = {f: cells.get(h) for f, h in mapping.items()}
            cells["_dataset_header"] = dataset_header
        rows.append((i, line, cells))
    run = Run(table, roots, FileIndex([(i, c) for i, _, c in rows if isinstance(c, dict)]))
    out = Records(file=file, columns=mapping, ignored=ignored)
    total = len(rows)
    for i, line, cells in rows:
        try:
            rec = run.check(i, line, cells)
        except PCError as err:  # a row the checks cannot digest is flagged, never fatal
            rec = Record(row=i, line=line, model=str(cells.get("model") or "")
                         if isinstance(cells, dict) else "")
            rec.checks.append(Check("row", "flagged", err.message, code="malformed-row"))
            rec.decide()
        out.append(rec)
        if progress is not None:
            progress(i, total)
    out.catalog_lookups = run.catalog.lookups
    return out
