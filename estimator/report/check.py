"""Text and JSON renderings of a cross-check (:class:`estimator.graphs.crosscheck.CheckResult`).

Formatting only. Each witness column shows the witness's parameters and forward FLOPs for
the row and its verdict: ``ok`` (exact), ``expl`` (differs by exactly what the witness
cannot see, said in the note), ``DIFF`` (a disagreement: the check fails), ``-`` (the
witness has no module at this path; its parent row is compared).
"""
from __future__ import annotations

import io
from typing import Any

from ..safety import printable
from ..units import si

_MARK = {"ok": "ok", "explained": "expl", "differs": "DIFF", "-": "-"}


def _table(columns, right=()):
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for c in columns:
        t.add_column(c, justify="right" if c in right else "left", no_wrap=c != "note",
                     overflow="fold")
    return t


def _to_text(*renderables, width: int = 180) -> str:
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False,
                      highlight=False, emoji=False, markup=False)
    # names, files and reasons come from inputs: every control character is shown as an
    # escape, in the text lines before rich (which would drop some, \a or \r, and pass
    # others, ESC) and in what rich lays out (the table's cells)
    for r in renderables:
        console.print("\n".join(map(printable, r.split("\n"))) if isinstance(r, str) else r)
    return "\n".join(printable(line.rstrip())
                     for line in buf.getvalue().rstrip().splitlines()) + "\n"


def _num(params, flops) -> str:
    p = si(params) if params else "0"
    f = si(flops) if flops else "0"
    return f"{p} / {f}"


def _cell(c) -> str:
    if c.verdict == "-" or c.params is None:
        return "-"
    return f"{_num(c.params, c.forward_flops)} {_MARK[c.verdict]}"


def _witness_head(run) -> str:
    if run.status == "ran":
        return f"{run.name} ({run.size})"
    return f"{run.name} (-)"


def render_check(res, depth: int | None = None) -> str:
    """The table: a row per layer, columns analytic | torch | onnx | fvcore, then totals,
    the witnesses (size each ran at, or why it could not) and the verdict."""
    head = [f"{res.name}: cross-check, parameters / forward FLOPs per layer"]
    if res.file:
        head.append(f"spec: {res.file}")
    if res.size == "reduced":
        ov = ", ".join(f"{k}={v}" for k, v in res.overrides.items())
        head.append(f"size: REDUCED ({ov}) because {res.reason}; same structure, every "
                    "witness at this size (full-size totals below)")
        if res.shared_with:
            head.append(f"table: the witnesses' runs at this size are shared with "
                        f"{_owner(res.shared_with)}, whose reduced size is the identical graph "
                        "(each witness ran once on it, earlier in this process)")
    else:
        head.append("size: full" + (f" ({res.reason})" if res.reason else ""))
    head.append("tolerance: parameters exact; forward FLOPs exact where the witness counts "
                "the same operators, otherwise the exact difference is explained")
    head.append("cells: params / forward FLOPs, then ok (exact), expl (differs by exactly "
                "what the note names), DIFF (disagreement), - (no module at this path)")
    names = list(res.witnesses)
    cols = ["layer", "kind", f"analytic ({res.size})"] + [_witness_head(res.witnesses[w])
                                                         for w in names] + ["verdict", "note"]
    t = _table(cols, right=())
    stack: list[str] = []
    for r in res.rows:
        if depth is not None and r.depth > depth:
            continue
        del stack[r.depth - 1:]
        parent = stack[-1] if stack else ""
        name = r.path[len(parent) + 1:] if parent and r.path.startswith(parent + ".") else r.path
        stack.append(r.path)
        t.add_row("  " * (r.depth - 1) + name, r.kind,
                  _num(r.analytic.params, r.analytic.forward_flops),
                  *[_cell(r.cells[w]) for w in names], _MARK[r.verdict], r.note)
    tr = res.total
    t.add_section()
    t.add_row("total", "", _num(tr.analytic.params, tr.analytic.forward_flops),
              *[_cell(tr.cells[w]) for w in names], _MARK[tr.verdict], tr.note)
    parts: list[Any] = ["\n".join(head), t]
    exact = [f"totals (exact): analytic {tr.analytic.params:,} params, "
             f"{tr.analytic.forward_flops:,} forward FLOPs"]
    for w in names:
        c = tr.cells[w]
        if c.params is not None:
            exact.append(f"  {w}: {c.params:,} params, {c.forward_flops:,} FLOPs: {c.verdict}"
                         + (f" ({c.note})" if c.note else ""))
    parts.append("\n".join(exact))
    lines = ["witnesses:"]
    for w in names:
        run = res.witnesses[w]
        if run.status == "ran":
            lines.append(f"  {w}: ran at {run.size} size in {run.seconds:.2f} s ({run.reason})"
                         + (f"; shared with {_owner(run.shared_with)}: its run on the identical "
                            "graph" if run.shared_with else ""))
            if run.result is not None and run.result.unknown_ops:
                lines.append("    skipped/unknown ops: " + ", ".join(
                    f"{k} x{v}" for k, v in run.result.unknown_ops.items()))
        elif run.reason == "not requested":  # --only left it out: skipped, not failed
            lines.append(f"  {w}: skipped (not requested)")
        else:
            lines.append(f"  {w}: {'DIFFERS' if run.status == 'differs' else 'cannot run'}: "
                         f"{run.reason}")
    parts.append("\n".join(lines))
    if res.size == "reduced":
        fl = [f"full size ({res.analytic_full.params:,} params, "
              f"{res.analytic_full.forward_flops:,} forward FLOPs analytic):"]
        for w, run in res.full_witnesses.items():
            c = res.full_size.get(w)
            if c is not None:
                fl.append(f"  {w}: {c.params:,} params, {c.forward_flops:,} FLOPs: "
                          f"{c.verdict}" + (f" ({c.note})" if c.note else "")
                          + f" [{run.seconds:.2f} s]")
            elif run.reason == "not requested":
                fl.append(f"  {w}: skipped (not requested)")
            else:
                fl.append(f"  {w}: cannot run at full size: {run.reason}")
        parts.append("\n".join(fl))
    parts.append(verdict_line(res))
    return _to_text(*parts)


def _owner(shared: dict) -> str:
    """The spec a shared run was made for: its name, and its file where it has one."""
    return shared["name"] + (f" ({shared['file']})" if shared.get("file") else "")


def verdict_line(res) -> str:
    """``verdict: AGREE|DISAGREE|NOT CHECKED: ...``, naming the witnesses that ran and why
    the others could not."""
    fails = res.failures
    if fails:
        return (f"verdict: DISAGREE ({len(fails)}): " + "; ".join(fails[:8])
                + (" ..." if len(fails) > 8 else ""))
    others = [w for w in res.ran if w != "analytic"]
    missing = [f"{w}: {r.reason}" for w, r in res.witnesses.items() if r.status != "ran"]
    if not res.checked:
        return ("verdict: NOT CHECKED: only the analytic count ran, so nothing was compared "
                "(" + "; ".join(missing) + ")")
    return (f"verdict: AGREE: {', '.join(others)} agree"
            + ("s" if len(others) == 1 else "") + " with the analytic count"
            + (f" (not compared: {', '.join(w for w in res.witnesses if w not in others)})"
               if missing else ""))


def check_json(res, depth: int | None = None) -> dict[str, Any]:
    d = res.to_dict()
    if depth is not None:
        d["layers"] = [r for r in d["layers"] if r["depth"] <= depth]
    return d


def render_export(rep) -> str:
    """One paragraph about an export: where, size, exporter, onnxruntime check."""
    lines = [f"exported {rep.name} to {rep.path} ({rep.bytes / 1e6:.1f} MB"
             + (f", weights in {rep.external_data}" if rep.external_data else "") + ")",
             f"size: {rep.size}" + (f" ({', '.join(f'{k}={v}' for k, v in rep.overrides.items())}"
                                    f"): {rep.reason}" if rep.size == "reduced" else ""),
             f"params at this size: {rep.params:,}"
             + (f" (full size: {rep.full_params:,})" if rep.size == "reduced" else ""),
             f"exporter: {rep.exporter}, opset {rep.opset}"]
    if rep.ort_output_shape is not None:
        lines.append("onnxruntime: ran on random input "
                     + ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in
                                 rep.input_shapes.items())
                     + f"; output {'x'.join(map(str, rep.ort_output_shape))} = the spec's "
                       "declared output")
    return "\n".join(lines) + "\n"
