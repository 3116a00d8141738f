"""Formatting of ``paramcount verify`` results: table (summary + flagged rows), CSV, JSON,
Markdown. Input: the :class:`~estimator.curation.verify.Records` that ``verify`` returns."""
from __future__ import annotations

import csv
import io
import json

FORMATS = ("table", "csv", "json", "markdown")
CSV_FIELDS = ("row", "line", "model", "verdict", "codes", "reasons", "hardware")


def select(records, only: str | None):
    """The records to list: all, or those with one verdict (``only``: flagged, ok, not-checkable)."""
    return list(records) if not only else [r for r in records if r.verdict == only]


def _reasons(rec) -> list[str]:
    return [f"[{f.code}] {f.message}" for f in rec.flags]


def _not_run(rec) -> list[str]:
    return [f"{c.name}: {c.message}" for c in rec.checks if c.status == "not-checkable"]


def summary_lines(s: dict) -> list[str]:
    out = [f"Rows read: {s['rows']}   checked: {s['checked']}   ok: {s['ok']}   "
           f"flagged: {s['flagged']}   not checkable: {s['not_checkable']}"]
    if s["flagged_by_code"]:
        out.append("Flagged by code: " + ", ".join(f"{c} {n}" for c, n in s["flagged_by_code"].items()))
    if s.get("ignored_columns"):
        out.append("Ignored columns: " + ", ".join(s["ignored_columns"]))
    return out


def _where(rec) -> str:
    return f"{rec.row}" + (f" (line {rec.line})" if rec.line else "")


def render_table(records, only: str | None = "flagged") -> str:
    """Summary, then one block per listed row: row, model, verdict, codes, and each reason."""
    s = records.summary()
    lines = [f"paramcount verify: {s['file']}" if s["file"] else "paramcount verify"]
    lines += summary_lines(s)
    rows = select(records, only)
    if not rows:
        lines.append("" if only else "")
        lines.append(f"No {only} rows." if only else "No rows.")
        return "\n".join(lines)
    title = {"flagged": "Flagged rows", "ok": "Rows that passed",
             "not-checkable": "Rows that could not be checked"}.get(only or "", "All rows")
    lines += ["", f"{title}:"]
    w_row = max(len(_where(r)) for r in rows)
    w_model = min(max([len(r.model or "-") for r in rows] + [5]), 40)
    lines.append(f"  {'Row':<{w_row}}  {'Model':<{w_model}}  {'Verdict':<13}  Codes")
    for r in rows:
        model = (r.model or "-")[:w_model]
        lines.append(f"  {_where(r):<{w_row}}  {model:<{w_model}}  {r.verdict:<13}  "
                     + (", ".join(r.codes) or "-"))
        detail = _reasons(r) if r.verdict == "flagged" else [
            f"{c.name}: {c.message}" for c in r.checks if c.status == "ok"] or _not_run(r)
        for text in detail:
            lines.append(f"      {text}")
    return "\n".join(lines)


def to_json(records, only: str | None = None) -> dict:
    return {"summary": records.summary(), "codes": _codes(),
            "records": [r.to_dict() for r in select(records, only)]}


def json_text(data: dict) -> str:
    """The report as JSON: summary and codes indented, one compact line per record (fast for
    thousands of rows: the indenting encoder is pure Python, the compact one is C)."""
    head = {k: v for k, v in data.items() if k != "records"}
    text = json.dumps(head, indent=2, default=str)[:-2]  # drop the closing "\n}"
    records = ",\n    ".join(json.dumps(r, default=str, ensure_ascii=False) for r in data["records"])
    return text + ',\n  "records": [\n    ' + records + "\n  ]\n}" if records else \
        text + ',\n  "records": []\n}'


def _codes() -> dict:
    from ..curation.verify import CODES

    return dict(CODES)


def to_csv(records, only: str | None = None) -> str:
    """One line per row: row, line, model, verdict, codes (;-separated), reasons, hardware ids."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in select(records, only):
        reasons = _reasons(r) if r.verdict == "flagged" else _not_run(r) if r.verdict == "not-checkable" else []
        w.writerow([r.row, r.line or "", r.model, r.verdict, ";".join(r.codes), " | ".join(reasons),
                    ";".join(h["id"] or f"?{h['name']}" for h in r.hardware)])
    return buf.getvalue()


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(records, only: str | None = "flagged") -> str:
    s = records.summary()
    out = ["| Rows | Checked | OK | Flagged | Not checkable |", "|---:|---:|---:|---:|---:|",
           f"| {s['rows']} | {s['checked']} | {s['ok']} | {s['flagged']} | {s['not_checkable']} |"]
    if s["flagged_by_code"]:
        out += ["", "| Code | Rows |", "|---|---:|"]
        out += [f"| `{c}` | {n} |" for c, n in s["flagged_by_code"].items()]
    rows = select(records, only)
    if rows:
        out += ["", "| Row | Model | Verdict | Reasons |", "|---:|---|---|---|"]
        for r in rows:
            reasons = (_reasons(r) if r.verdict == "flagged" else _not_run(r)
                       if r.verdict == "not-checkable" else [c.message for c in r.checks if c.status == "ok"])
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
    pick = None if only == "all" else (only or "flagged")
    if fmt == "markdown":
        return to_markdown(records, pick)
    return render_table(records, pick)
