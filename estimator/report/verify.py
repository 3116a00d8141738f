"""Formatting of ``paramcount verify`` results: table (summary + rows), CSV, JSON, Markdown.
Input: the :class:`~estimator.curation.verify.Records` that ``verify`` returns.

Everything from the input is untrusted: every string from a row is shown through
:func:`estimator.safety.printable` in the table (no terminal escapes), every CSV cell through
:func:`estimator.safety.csv_cell` (no formula a spreadsheet would run), Markdown through
:func:`estimator.safety.html_text`."""
from __future__ import annotations

import csv
import io
import json

from ..safety import csv_cell, html_text, printable

FORMATS = ("table", "csv", "json", "markdown")
CSV_FIELDS = ("row", "line", "model", "verdict", "codes", "reasons", "checks", "hardware")
ONLY = ("flagged", "verified", "consistent", "not-checkable", "all")


def select(records, only: str | None):
    """The records to list: all, or those with one verdict."""
    return list(records) if not only or only == "all" else [r for r in records if r.verdict == only]


def _reasons(rec) -> list[str]:
    return [f"[{f.code}] {f.message}" for f in rec.flags]


def _check_line(c) -> str:
    mark = {"ok": "ok", "plausible": "plausible", "flagged": "FLAGGED",
            "not-checkable": "not run"}[c.status]
    ind = " (independent)" if c.status == "ok" and c.independent else ""
    return f"{c.name}: {mark}{ind}: {c.message}"


def _checks_run(rec) -> str:
    """'params ok (independent), compute plausible, hardware not run' for one row."""
    return ", ".join(f"{c.name} {c.status}" + (" (independent)" if c.status == "ok" and c.independent else "")
                     for c in rec.checks)


def summary_lines(s: dict) -> list[str]:
    out = [f"Rows read: {s['rows']}   verified: {s['verified']}   consistent: {s['consistent']}   "
           f"flagged: {s['flagged']}   not checkable: {s['not_checkable']}",
           s["params_recounted_text"][:1].upper() + s["params_recounted_text"][1:]
           + (f" ({s['params_recounted'] / s['rows_with_params']:.0%})" if s["rows_with_params"] else "")]
    if s["flagged_by_code"]:
        out.append("Flagged by code: " + ", ".join(f"{c} {n}" for c, n in s["flagged_by_code"].items()))
    if s.get("ignored_columns"):
        out.append("Ignored columns: " + printable(", ".join(s["ignored_columns"])))
    return out


def _where(rec) -> str:
    return f"{rec.row}" + (f" (line {rec.line})" if rec.line else "")


def render_table(records, only: str | None = "flagged") -> str:
    """Summary, then one block per listed row: row, model, verdict, codes, and each check
    (flagged rows: their reasons; other rows: every check, saying which ran and how)."""
    s = records.summary()
    lines = [f"paramcount verify: {printable(s['file'])}" if s["file"] else "paramcount verify"]
    lines += summary_lines(s)
    rows = select(records, only)
    if not rows:
        lines += ["", f"No {only} rows." if only and only != "all" else "No rows."]
        return "\n".join(lines)
    title = {"flagged": "Flagged rows", "verified": "Verified rows (an independent recount agrees)",
             "consistent": "Consistent rows (the row's own figures agree; not independent)",
             "not-checkable": "Rows that could not be checked"}.get(only or "", "All rows")
    lines += ["", f"{title}:"]
    w_row = max(len(_where(r)) for r in rows)
    models = {id(r): printable(r.model or "-") for r in rows}
    w_model = min(max([len(m) for m in models.values()] + [5]), 40)
    lines.append(f"  {'Row':<{w_row}}  {'Model':<{w_model}}  {'Verdict':<13}  Codes")
    for r in rows:
        model = models[id(r)][:w_model]
        lines.append(f"  {_where(r):<{w_row}}  {model:<{w_model}}  {r.verdict:<13}  "
                     + (", ".join(r.codes) or "-"))
        detail = _reasons(r) if r.verdict == "flagged" and only == "flagged" else \
            [_check_line(c) for c in r.checks]
        for text in detail:
            lines.append(f"      {printable(text)}")
    return "\n".join(lines)


def to_json(records, only: str | None = None) -> dict:
    return {"summary": records.summary(), "codes": _codes(),
            "records": [r.to_dict() for r in select(records, only)]}


def json_text(data: dict) -> str:
    """The report as JSON: summary and codes indented, one compact line per record (fast for
    thousands of rows: the indenting encoder is pure Python, the compact one is C)."""
    head = {k: v for k, v in data.items() if k != "records"}
    text = json.dumps(head, indent=2, default=str)[:-2]  # drop the closing "\n}"
    records = ",\n    ".join(json.dumps(r, default=str, ensure_ascii=True) for r in data["records"])
    return text + ',\n  "records": [\n    ' + records + "\n  ]\n}" if records else \
        text + ',\n  "records": []\n}'


def _codes() -> dict:
    from ..curation.verify import CODES

    return dict(CODES)


def to_csv(records, only: str | None = None) -> str:
    """One line per row: row, line, model, verdict, codes (;-separated), reasons, the checks
    run with their status, hardware ids. Every cell made spreadsheet-safe (no formulas)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in select(records, only):
        reasons = _reasons(r) if r.verdict == "flagged" else [
            f"{c.name}: {c.message}" for c in r.checks if c.status in ("not-checkable", "plausible")]
        w.writerow([csv_cell(x) for x in (
            r.row, r.line or "", r.model, r.verdict, ";".join(r.codes), " | ".join(reasons),
            _checks_run(r), ";".join(h["id"] or f"?{h['name']}" for h in r.hardware))])
    return buf.getvalue()


def _md(text: str) -> str:
    return html_text(printable(text)).replace("|", "\\|")


def to_markdown(records, only: str | None = "flagged") -> str:
    s = records.summary()
    out = ["| Rows | Verified | Consistent | Flagged | Not checkable | Parameters recounted |",
           "|---:|---:|---:|---:|---:|---:|",
           f"| {s['rows']} | {s['verified']} | {s['consistent']} | {s['flagged']} | "
           f"{s['not_checkable']} | {s['params_recounted']} of {s['rows_with_params']} |"]
    if s["flagged_by_code"]:
        out += ["", "| Code | Rows |", "|---|---:|"]
        out += [f"| `{c}` | {n} |" for c, n in s["flagged_by_code"].items()]
    rows = select(records, only)
    if rows:
        out += ["", "| Row | Model | Verdict | Checks |", "|---:|---|---|---|"]
        for r in rows:
            reasons = _reasons(r) if r.verdict == "flagged" else [_check_line(c) for c in r.checks]
            out.append(f"| {_where(r)} | {_md(r.model)} | {r.verdict} | "
                       + "<br>".join(_md(x) for x in reasons) + " |")
    return "\n".join(out)


def render(records, fmt: str, only: str | None) -> str:
    """The text of one format. ``table`` and ``markdown`` list flagged rows unless ``only``
    says otherwise ('all' lists every row); ``csv`` and ``json`` list every row by default."""
    if fmt == "json":
        return json_text(to_json(records, None if only == "all" else only))
    if fmt == "csv":
        return to_csv(records, None if only == "all" else only)
    pick = only or "flagged"
    if fmt == "markdown":
        return to_markdown(records, pick)
    return render_table(records, pick)
