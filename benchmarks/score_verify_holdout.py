"""Precision and recall of ``paramcount verify``'s flags on the judged holdout.

``tests/data/verify-holdout.csv`` holds 100 rows of the shared sample of Epoch AI's "All ML
Systems" export, chosen by a seeded rule that uses no tool output
(``tests/data/make_verify_holdout.py``) and judged by hand, figure by figure (parameters,
training compute, fine-tune compute, hardware): ``correct``, ``error``, ``unknowable``, or
empty where the cell is empty (``tests/data/verify-holdout.md``).

This script runs :func:`estimator.curation.verify.verify` on the whole sample, finds each
holdout row's record again (by ``row_key`` = Model + Publication date, through the sample's
own rows: records come back one per input row, in order), maps every flag to the figure it
concerns and counts, per judged figure (several flags on one figure count once):

* true positive: a flag on a figure judged ``error``;
* false positive: a flag on a figure judged ``correct``;
* flags on ``unknowable`` figures, and on figures whose cell is empty: reported, not counted;
* flags no rule maps to a figure: reported as ``unmapped``, not counted.

A hardware-check flag (utilisation, boards, hardware names) concerns the hardware cells and,
where it divided one, the compute figure it tested (its ``submitted`` value): it is credited to
whichever of the two is judged ``error`` (a fine-tune's '1' FLOP cell makes the utilisation
absurd: the alarm is right, the culprit is the compute cell), and is a false positive only when
every figure it concerns is judged ``correct``.

precision = TP / (TP + FP); recall = errors flagged / errors judged.

    python benchmarks/score_verify_holdout.py                    # the table and the lists
    python benchmarks/score_verify_holdout.py --json             # the numbers as JSON
    python benchmarks/score_verify_holdout.py --markdown benchmarks/RESULTS-verify-holdout.md

The mapping is written for any shape of record the module returns (``.flags`` objects or dicts
with a ``code`` and a ``message``; optional ``figure`` / ``column`` / ``check`` / ``name`` /
``submitted``), so it scores the rewritten verify as well as the one it was written against.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "data" / "epoch-all-ml-systems-sample.csv"
HOLDOUT = ROOT / "tests" / "data" / "verify-holdout.csv"
FIGURES = ("params", "compute", "finetune", "hardware")
COLUMN = {"params": "Parameters", "compute": "Training compute (FLOP)",
          "finetune": "Finetune compute (FLOP)", "hardware": "Training hardware"}

# ------------------------------------------------------------------- flag -> figure rules

# An explicit figure / column / check name on the flag, read first (normalised to letters).
EXPLICIT = {
    "params": "params", "parameters": "params", "activeparams": "params",
    "activeparameters": "params", "basemodel": "params",
    "compute": "compute", "trainingcompute": "compute", "trainingcomputeflop": "compute",
    "finetune": "finetune", "finetunecompute": "finetune", "finetunecomputeflop": "finetune",
    "hardware": "hardware", "hardwarenames": "hardware", "traininghardware": "hardware",
    "hardwarequantity": "hardware", "trainingtimehours": "hardware", "chiphours": "hardware",
    "trainingchiphours": "hardware", "utilisation": "hardware", "utilization": "hardware",
}
# Codes about the hardware check, whatever figure their 'submitted' value is.
HARDWARE_CODE = re.compile(r"hardware|utili[sz]ation|board|chip|peak|time", re.I)
# Codes that name their figure (first match wins, in this order).
CODE_RULES = (
    ("finetune", re.compile(r"fine-?tune", re.I)),
    ("params", re.compile(r"param|moe-active-as-total|unreadable-spec|spec|base-model", re.I)),
    ("compute", re.compile(r"compute|6nd|counting|passes|epoch|tokens|moe", re.I)),
)
# Where a generic code (implausible-value, unit-slip, malformed-cell ...) names its column.
MESSAGE_RULES = (
    ("finetune", re.compile(r"fine-?tune compute", re.I)),
    ("compute", re.compile(r"training compute", re.I)),
    ("params", re.compile(r"\bparameters\b|active parameters", re.I)),
    ("hardware", re.compile(r"hardware|training time|chip-hours|utili[sz]ation", re.I)),
)


def _get(obj, name):
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _num(cell):
    try:
        v = float(str(cell).strip())
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def flags_of(record) -> list:
    """Every flag of a record, as objects carrying code, message and (when known) the check
    name and submitted value: main's Record exposes them through its flagged checks."""
    checks = _get(record, "checks")
    if checks:
        flagged = [c for c in checks if _get(c, "status") == "flagged" and _get(c, "code")]
        if flagged:
            return flagged
    flags = _get(record, "flags")
    if flags:
        return [{"code": f, "message": ""} if isinstance(f, str) else f for f in flags]
    return [{"code": c, "message": ""} for c in (_get(record, "codes") or [])]


def _submitted_figure(flag, row: dict):
    """The column whose cell equals the flag's submitted value, if any."""
    submitted = _num(_get(flag, "submitted"))
    if submitted is None:
        return None
    for fig in ("finetune", "compute", "params"):
        v = _num(row.get(COLUMN[fig]))
        if v is not None and math.isclose(v, submitted, rel_tol=1e-9):
            return fig
    return None


def figures_of(flag, row: dict) -> list[str]:
    """The figures a flag concerns, the primary one first. A hardware-check flag (utilisation,
    boards, names) concerns the hardware cells and, where it tested one, the compute figure
    it divided (its submitted value): a flag on that relation is right if either is wrong."""
    fig = figure_of(flag, row)
    if fig == "hardware":
        other = _submitted_figure(flag, row)
        if other and other != "hardware":
            return ["hardware", other]
    return [fig]


def figure_of(flag, row: dict) -> str:
    """The primary figure a flag concerns: params, compute, finetune, hardware, or
    'unmapped'."""
    code = str(_get(flag, "code") or "")
    message = str(_get(flag, "message") or "")
    for attr in ("figure", "column", "field"):
        v = _get(flag, attr)
        key = re.sub(r"[^a-z]", "", str(v or "").lower())
        if key in EXPLICIT:
            return EXPLICIT[key]
    if HARDWARE_CODE.search(code):
        return "hardware"
    sub = _submitted_figure(flag, row)
    if sub:
        return sub
    check = re.sub(r"[^a-z]", "", str(_get(flag, "check") or _get(flag, "name") or "").lower())
    if check in EXPLICIT and check not in ("compute", "values", "cells"):
        return EXPLICIT[check]
    for fig, rx in CODE_RULES:
        if rx.search(code):
            return fig
    for fig, rx in MESSAGE_RULES:
        if rx.search(message):
            return fig
    if check in EXPLICIT:
        return EXPLICIT[check]
    return "unmapped"


# --------------------------------------------------------------------------------- scoring

def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def row_key(row: dict) -> str:
    return f"{row['Model'].strip()} | {row['Publication date'].strip()}"


def score(records, sample: list[dict], holdout: list[dict]) -> dict:
    rows = [_get(r, "row") for r in records]
    if all(isinstance(n, int) and 1 <= n <= len(sample) for n in rows) and \
            len(set(rows)) == len(rows):
        at = {n - 1: r for n, r in zip(rows, records)}   # records say their 1-based data row
    elif len(records) == len(sample):
        at = dict(enumerate(records))                    # one record per row, in order
    else:
        raise SystemExit(f"score_verify_holdout: verify returned {len(records)} records for "
                         f"{len(sample)} rows of the sample, without row numbers; cannot "
                         "pair them")
    by_key: dict[str, list[int]] = {}
    for i, r in enumerate(sample):
        by_key.setdefault(row_key(r), []).append(i)
    out = {"holdout_rows": len(holdout), "flags_on_holdout_rows": 0, "tp": [], "fp": [],
           "on_unknowable": [], "on_empty": [], "unmapped": [], "missed": [],
           "errors_judged": 0, "by_figure": {f: {"tp": 0, "fp": 0, "errors": 0, "correct": 0}
                                              for f in FIGURES}}
    for h in holdout:
        idx = by_key.get(h["row_key"], [])
        if len(idx) > 1 and h.get("data_row"):  # a key the sample repeats: the stated row
            idx = [int(h["data_row"]) - 1]
        if len(idx) != 1:
            raise SystemExit(f"score_verify_holdout: holdout row {h['row_key']!r} matches "
                             f"{len(idx)} rows of the sample")
        i = idx[0]
        if i not in at:
            raise SystemExit(f"score_verify_holdout: no record for data row {i + 1} "
                             f"({h['row_key']!r})")
        rec, row = at[i], sample[i]
        model = " ".join(str(_get(rec, "model") or "").split())
        if model != " ".join(row["Model"].split()):
            raise SystemExit(f"score_verify_holdout: record {i + 1} is {model!r}, the sample "
                             f"row is {row['Model']!r}")
        flags = flags_of(rec)
        out["flags_on_holdout_rows"] += len(flags)
        flagged: dict[str, list[str]] = {}
        for f in flags:
            figs = figures_of(f, row)
            code = str(_get(f, "code") or "")
            if figs == ["unmapped"]:
                out["unmapped"].append({"row_key": h["row_key"], "code": code,
                                        "message": str(_get(f, "message") or "")[:160]})
                continue
            # a flag on a relation is credited to a member judged error, else to the primary
            wrong = [g for g in figs if h[f"{g}_judgement"] == "error"]
            fig = wrong[0] if wrong else figs[0]
            if not wrong and any(h[f"{g}_judgement"] == "unknowable" for g in figs):
                fig = next(g for g in figs if h[f"{g}_judgement"] == "unknowable")
            flagged.setdefault(fig, [])
            if code not in flagged[fig]:
                flagged[fig].append(code)
        for fig in FIGURES:
            j = h[f"{fig}_judgement"]
            if j == "error":
                out["errors_judged"] += 1
                out["by_figure"][fig]["errors"] += 1
            elif j == "correct":
                out["by_figure"][fig]["correct"] += 1
            item = {"row_key": h["row_key"], "figure": fig, "codes": flagged.get(fig, []),
                    "reason": h["reason"]}
            if fig not in flagged:
                if j == "error":
                    out["missed"].append(item)
                continue
            if j == "error":
                out["tp"].append(item)
                out["by_figure"][fig]["tp"] += 1
            elif j == "correct":
                out["fp"].append(item)
                out["by_figure"][fig]["fp"] += 1
            elif j == "unknowable":
                out["on_unknowable"].append(item)
            else:
                out["on_empty"].append(item)
    tp, fp = len(out["tp"]), len(out["fp"])
    out["precision"] = tp / (tp + fp) if tp + fp else None
    out["recall"] = tp / out["errors_judged"] if out["errors_judged"] else None
    return out


def _ratio(v) -> str:
    return "n/a (no flags on judged figures)" if v is None else f"{v:.3f}"


def markdown(s: dict, *, revision: str, seconds: float) -> str:
    lines = [
        "# `paramcount verify` on the judged holdout",
        "",
        "Command: `python benchmarks/score_verify_holdout.py --markdown "
        "benchmarks/RESULTS-verify-holdout.md`  ",
        f"verify of: {revision}; the shared sample (1,353 rows) checked in {seconds:.1f} s.  ",
        f"Holdout: `tests/data/verify-holdout.csv`, {s['holdout_rows']} rows judged by hand "
        "before any flag was seen (`tests/data/verify-holdout.md`). After a new verify is "
        "merged, rerun the same command: the rows and their judgements do not change.",
        "",
        "A flag counts once per figure it concerns. A hardware-check flag is credited to the "
        "compute figure it divided when that one is judged error (the script's docstring "
        "gives the mapping).",
        "",
        f"- flags on holdout rows: {s['flags_on_holdout_rows']}",
        f"- true positives (flag on a figure judged error): {len(s['tp'])}",
        f"- false positives (flag on a figure judged correct): {len(s['fp'])}",
        f"- flags on figures judged unknowable (not counted): {len(s['on_unknowable'])}",
        f"- flags on figures whose cell is empty (not counted): {len(s['on_empty'])}",
        f"- unmapped flags (no rule says which figure): {len(s['unmapped'])}",
        f"- **precision** = TP / (TP + FP) = {len(s['tp'])} / "
        f"{len(s['tp']) + len(s['fp'])} = {_ratio(s['precision'])}",
        f"- **recall** = errors flagged / errors judged = {len(s['tp'])} / "
        f"{s['errors_judged']} = {_ratio(s['recall'])}",
        "",
        "| figure | errors judged | correct judged | TP | FP |",
        "|---|---:|---:|---:|---:|",
    ]
    for f in FIGURES:
        b = s["by_figure"][f]
        lines.append(f"| {f} | {b['errors']} | {b['correct']} | {b['tp']} | {b['fp']} |")
    for title, key in (("True positives", "tp"), ("False positives", "fp"),
                       ("Flags on unknowable figures", "on_unknowable"),
                       ("Flags on empty cells", "on_empty"),
                       ("Errors not flagged", "missed")):
        lines += ["", f"## {title} ({len(s[key])})", ""]
        if not s[key]:
            lines.append("none")
        for it in s[key]:
            codes = ", ".join(it["codes"]) or "-"
            lines.append(f"- {it['row_key']} / {it['figure']}: {codes}. Judged: {it['reason']}")
    lines += ["", f"## Unmapped flags ({len(s['unmapped'])})", ""]
    if not s["unmapped"]:
        lines.append("none")
    for it in s["unmapped"]:
        lines.append(f"- {it['row_key']}: {it['code']}: {it['message']}")
    return "\n".join(lines) + "\n"


def _revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h (%cs)",
                              "--", "estimator/curation"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return f"`estimator/curation` as of commit {rev}" if rev else "the working tree"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--holdout", type=Path, default=HOLDOUT)
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument("--markdown", type=Path, help="also write the result to this file")
    args = ap.parse_args(argv)
    for p in (args.sample, args.holdout):
        if not p.exists():
            print(f"score_verify_holdout: {p} does not exist", file=sys.stderr)
            return 2
    sys.path.insert(0, str(ROOT))
    from estimator.curation.verify import verify

    sample, holdout = read_csv(args.sample), read_csv(args.holdout)
    t0 = time.perf_counter()
    records = verify(str(args.sample))
    seconds = time.perf_counter() - t0
    s = score(list(records), sample, holdout)
    text = markdown(s, revision=_revision(), seconds=seconds)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        print(json.dumps({k: (len(v) if isinstance(v, list) else v) for k, v in s.items()},
                         indent=2))
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
