"""Text and JSON renderings of counts. Formatting only: the data comes from the counters.

Tables are drawn by rich into a string (no colour codes), so the same text goes to a
terminal, a file or ``print(result)``.
"""
from __future__ import annotations

import io
from typing import Any, Iterable

from ..count import PARAM_TYPES, CountResult
from ..safety import printable
from ..units import si


def _table(*columns: str, title: str | None = None, right: Iterable[str] = ()):
    from rich import box
    from rich.table import Table

    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False,
              show_edge=False)
    right = set(right)
    for c in columns:
        t.add_column(c, justify="right" if c in right else "left", no_wrap=c != "note")
    return t


class Plain(str):
    """Text laid out already (a plain table): printed as it is, never wrapped."""


def _to_text(*renderables, width: int = 140) -> str:
    """Text laid out already (str) as it is; rich renderables (tables of the other reports)
    through a rich console ``width`` wide. rich is imported only when one is given."""
    buf = io.StringIO()
    console = None
    for r in renderables:
        if isinstance(r, str):
            buf.write(r + "\n")
            continue
        if console is None:
            from rich.console import Console

            console = Console(file=buf, width=width, color_system=None, force_terminal=False,
                              highlight=False, emoji=False, markup=False)
        console.print(r)
    # a name, path or note from an input may be in any line (the reports' heads, a CSV's
    # path, its systems' names): no control character reaches the terminal
    return "\n".join(printable(line.rstrip())
                     for line in buf.getvalue().rstrip().splitlines()) + "\n"


def shape_str(shape) -> str:
    return "-" if shape is None else " x ".join(str(s) for s in shape)


def flops_str(v: float) -> str:
    return si(v, "FLOP")


def _rows(result: CountResult, depth: int | None, rows=None):
    return [r for r in (result.layers if rows is None else rows) if depth is None or r.depth <= depth]


#: longest note shown in a text report (the JSON has every character)
NOTE_CHARS = 300
#: most spec notes listed in a text report
MAX_NOTES = 20


def clip(text: str, limit: int = NOTE_CHARS) -> str:
    text = str(text)
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"... (+{len(text) - limit:,} characters; --json has them all)"


def plain_table(columns: list[str], rows: list[list[str]], right: Iterable[str] = ()) -> str:
    """Columns padded to their widest cell, a rule under the header (rich's SIMPLE_HEAD look):
    linear in the rows, where rich costs about a millisecond a row."""
    right = set(right)
    rows = [[printable(cell) for cell in r] for r in rows]  # names and notes come from inputs
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]

    def line(cells):
        out = [cell.rjust(w) if col in right else cell.ljust(w)
               for cell, w, col in zip(cells, widths, columns)]
        return "   ".join(out).rstrip()

    return Plain("\n".join([line(columns), "\u2500" * (sum(widths) + 3 * (len(widths) - 1))]
                           + [line(r) for r in rows]))


def layer_rows(result: CountResult, depth: int | None = None, expand: bool = False):
    """The rows a text report shows: repeats collapsed (one row ``0-95 (x96)`` per run of
    identical copies, its sub-rows per copy) unless ``expand``."""
    from ..count import runs

    rows = result.layers if expand else result.collapsed or collapse_identical(result.layers)
    out = []
    for r, m, _ in runs(rows):
        if depth is not None and r.depth > depth:
            continue
        out.append((r, m))
    return out


def collapse_identical(rows: list) -> list:
    """Rows of a counted graph (a torch module, an ONNX file) with each run of identical
    numbered siblings (``layers.0`` .. ``layers.31``: same kind, counts, output shape and
    subtree) as one row with ``copies``, as a spec's repeats are: the text report then shows
    ``0-31 (x32)`` once instead of 32 blocks."""
    from dataclasses import replace

    nodes: list[list] = []          # [row, children] in pre-order
    stack: list[list] = []
    for r in rows:
        node = [r, []]
        del stack[max(r.depth - 1, 0):]
        (stack[-1][1] if stack else nodes).append(node)
        stack.append(node)

    sig_cache: dict[int, tuple] = {}

    def sig(node) -> tuple:
        key = id(node)
        if key not in sig_cache:
            r, kids = node
            c = r.count
            sig_cache[key] = (r.kind, c.params, c.active_params, c.forward_flops, c.other_flops,
                              tuple(sorted(c.by_type.items())), r.output_shape, r.note,
                              tuple((k[0].path.rpartition(".")[2], sig(k)) for k in kids))
        return sig_cache[key]

    out: list = []

    def emit(node, copies: int) -> None:
        r, kids = node
        out.append(replace(r, copies=copies) if copies != 1 else r)
        walk(kids, copies)

    def walk(kids: list, copies: int) -> None:
        i = 0
        while i < len(kids):
            j = i + 1
            name = kids[i][0].path.rpartition(".")[2]
            if name.isdigit():
                while j < len(kids) and kids[j][0].path.rpartition(".")[2] == str(int(name) + j - i) \
                        and sig(kids[j]) == sig(kids[i]):
                    j += 1
            emit(kids[i], copies * (j - i))
            i = j

    walk(nodes, 1)
    return out


def render_layers(result: CountResult, depth: int | None = None, expand: bool = False) -> str:
    cols = ["layer", "kind", "output", "params", "FLOPs", "other FLOPs", "note"]
    body = []
    stack: list[str] = []  # path of the latest row at each depth
    for r, m in layer_rows(result, depth, expand):
        del stack[r.depth - 1:]
        parent = stack[-1] if stack else ""
        name = r.path[len(parent) + 1:] if parent and r.path.startswith(parent + ".") else r.path
        stack.append(r.path)
        note = r.note
        if m > 1:
            first = int(name)
            name = f"{first}-{first + m - 1} (x{m})"
            c = r.count.scale(m)
            note = (f"identical copies, figures per copy (all {m}: {si(c.params)} params, "
                    f"{flops_str(c.forward_flops)})" + (f"; {note}" if note else ""))
        body.append(["  " * (r.depth - 1) + name, r.kind, shape_str(r.output_shape),
                     si(r.count.params) if r.count.params else "-",
                     flops_str(r.count.forward_flops) if r.count.forward_flops else "-",
                     flops_str(r.count.other_flops) if r.count.other_flops else "-", clip(note)])
    return plain_table(cols, body, right=("params", "FLOPs", "other FLOPs"))


def render(result: CountResult, depth: int | None = None, expand: bool = False) -> str:
    """The readable breakdown: a tree of layers (repeats collapsed unless ``expand``), then
    the totals, then published figures."""
    head = [f"{result.name}  ({result.source} count)"]
    cite = result.extra.get("citation")
    if cite:
        head.append(f"source: {clip(cite)}")
    sets = result.extra.get("overrides")
    if sets:
        head.append("modified by --set: " + ", ".join(f"{k}={v}" for k, v in sets.items()))
    inputs = ", ".join(shape_str(v) if k == "input" else f"{k}: {shape_str(v)}"
                       for k, v in result.input_shapes.items())
    if inputs:
        head.append(f"input: {inputs}" + (" (token ids)" if result.tokens else "")
                    + "; " + _forward_for(result))
    parts = ["\n".join(printable(line) for line in head), render_layers(result, depth, expand),
             render_totals(result)]
    pub = render_published(result)
    if pub:
        parts.append(pub)
    if result.notes:
        shown = [f"  - {printable(clip(n))}" for n in result.notes[:MAX_NOTES]]
        if len(result.notes) > MAX_NOTES:
            shown.append(f"  ... and {len(result.notes) - MAX_NOTES:,} more notes (--json lists them)")
        parts.append("notes:\n" + "\n".join(shown))
    return _to_text(*parts)


def _forward_for(result: CountResult) -> str:
    """What the totals are for: one example, or the batch that was counted."""
    if result.batch and result.batch > 1:
        return (f"forward pass for a batch of {result.batch} examples (totals for the batch; "
                "per example below)")
    if result.batch == 1 or result.source == "analytic":
        return "forward pass for one example, batch 1"
    return "forward pass on this input (no batch dimension recognised)"


def _exact(v: float) -> str:
    """An exact-column figure: a whole number as one (``43,098,112``), else one decimal."""
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"


def totals(result: CountResult) -> list[tuple[str, str, str]]:
    """(label, human figure, exact figure) for the totals block."""
    out = [("params", si(result.params), f"{result.params:,}")]
    if result.active_params != result.params:
        out.append(("active params", si(result.active_params), f"{result.active_params:,}"))
    out.append(("embedding / non-embedding",
                f"{si(result.embedding_params)} / {si(result.non_embedding_params)}",
                f"{result.embedding_params:,} / {result.non_embedding_params:,}"))
    by_type = result.params_by_type
    order = [k for k in PARAM_TYPES if k in by_type] + [k for k in by_type if k not in PARAM_TYPES]
    for k in order:
        out.append((f"  {k} params", si(by_type[k]), f"{by_type[k]:,}"))
    out.append(("forward FLOPs", flops_str(result.forward_flops), f"{result.forward_flops:,}"))
    out.append(("MACs", si(result.macs, "MAC"), f"{result.macs:,}"))
    out.append(("other FLOPs (estimated)", flops_str(result.other_flops), f"{result.other_flops:,}"))
    if result.flops_per_param:
        out.append(("FLOPs per active param", f"{result.flops_per_param:.3g}", ""))
    pe = result.per_example()
    if pe:
        out.append((f"forward FLOPs per example (batch {result.batch})",
                    flops_str(pe["forward_flops"]), _exact(pe["forward_flops"])))
        out.append(("other FLOPs per example", flops_str(pe["other_flops"]),
                    _exact(pe["other_flops"])))
    pt = result.per_token()
    if pt:
        label = (f"per token (T = {result.tokens})" if not result.batch or result.batch == 1
                 else f"per token ({result.tokens} tokens in the batch)")
        out.append((label, flops_str(pt["forward_flops"]), _exact(pt["forward_flops"]) + " FLOP"))
    if result.unknown_ops:
        out.append(("unknown ops (not counted)",
                    ", ".join(f"{k} x{v}" for k, v in sorted(result.unknown_ops.items())), ""))
    return out


def render_totals(result: CountResult) -> str:
    return plain_table(["total", "", "exact"], [list(row) for row in totals(result)],
                       right=("",))


def render_published(result: CountResult):
    rows = published_rows(result)
    if not rows:
        return None
    cols = ["published", "value", "counted", "counted / published"]
    body, sources = [], []
    for r in rows:
        body.append([r["key"], _fmt_pub(r["key"], r["published"]),
                     "-" if r["counted"] is None else _fmt_pub(r["key"], r["counted"]),
                     "-" if r["ratio"] is None else f"{r['ratio']:.4f}"])
        sources.append(printable(f"  {r['key']}: {clip(r['source'])}"
                                 + (f" ({clip(r['note'])})" if r.get("note") else "")))
    sets = result.extra.get("overrides")
    warn = ("not compared: these figures are for the published model, and the model counted "
            "is modified by --set " + ", ".join(f"{k}={v}" for k, v in sets.items()) + "\n"
            if sets else "")
    return (plain_table(cols, body, right=cols[1:]) + "\n" + warn + "sources:\n"
            + "\n".join(sources))


def _fmt_pub(key: str, v: float) -> str:
    if "flops" in key or key == "training_compute":
        return flops_str(v)
    if key == "macs":
        return si(v, "MAC")
    return si(v) if v >= 1e4 else f"{v:g}"


def published_rows(result: CountResult) -> list[dict[str, Any]]:
    from ..analytic import compare_published

    return compare_published(result)


def to_json(result: CountResult, depth: int | None = None, expand: bool = False
            ) -> dict[str, Any]:
    """The JSON of ``--json``: ``result.to_dict()`` with ``layers`` as the text table shows
    them: a run of identical repeat copies is one row carrying ``copies`` (the number of
    layers it stands for; its figures are per copy, as in the table's ``0-95 (x96)`` row),
    and its sub-rows carry the same ``copies``. ``expand``: one row per layer, no
    ``copies``."""
    rows = result.layers if expand or result.collapsed is None else result.collapsed
    if rows is result.layers and depth is None:
        d = result.to_dict()
    else:
        layers, result.layers = result.layers, []
        try:
            d = result.to_dict()
        finally:
            result.layers = layers
        d["layers"] = [r.to_dict() for r in _rows(result, depth, rows)]
    if "published" in d:
        d["published_check"] = published_rows(result)
    return d


_COMPARE = [
    ("params", lambda r: si(r.params)),
    ("active params", lambda r: si(r.active_params)),
    ("embedding params", lambda r: si(r.embedding_params)),
    ("forward FLOPs", lambda r: flops_str(r.forward_flops)),
    ("MACs", lambda r: si(r.macs, "MAC")),
    ("other FLOPs", lambda r: flops_str(r.other_flops)),
    ("FLOPs per active param", lambda r: f"{r.flops_per_param:.3g}" if r.flops_per_param else "-"),
    ("FLOPs per token", lambda r: flops_str(r.per_token()["forward_flops"]) if r.tokens else "-"),
    ("input", lambda r: "; ".join(shape_str(v) for v in r.input_shapes.values())),
    ("output", lambda r: shape_str(r.output_shape)),
]


def render_comparison(results: list[CountResult]) -> str:
    names = [printable(r.name) for r in results]
    t = _table("", *names, right=names)
    for label, fn in _COMPARE:
        t.add_row(label, *[fn(r) for r in results])
    return _to_text(t)


def render_kinds(kinds: list[dict]) -> str:
    lines = []
    for k in kinds:
        lines.append(f"{k['kind']}  [{k['family']}]  {k['description']}")
        for key in k["keys"]:
            default = "required" if key["required"] else f"default {key['default']!r}"
            lines.append(f"    {key['key']:<16} {default:<22} {key['description']}")
    lines.append("")
    lines.append("every layer also takes: name, repeat, shared, share, tie, from")
    return "\n".join(lines) + "\n"


def render_kinds_markdown(kinds: list[dict]) -> str:
    """The README's spec reference: one entry per kind, grouped by family."""
    import json

    lines: list[str] = []
    family = None
    for k in sorted(kinds, key=lambda k: (k["family"], k["kind"])):
        if k["family"] != family:
            family = k["family"]
            lines += [f"### {family}", ""]
        lines += [f"#### `{k['kind']}`", "", k["description"], ""]
        lines += [d for para in k.get("details", []) for d in (para, "")]
        if k["keys"]:
            lines += ["| key | default | meaning |", "|---|---|---|"]
            for key in k["keys"]:
                default = "**required**" if key["required"] else f"`{json.dumps(key['default'])}`"
                lines.append(f"| `{key['key']}` | {default} | {key['description']} |")
            lines.append("")
        if k.get("example"):
            lines += [f"Example: `{json.dumps(k['example']['layer'])}` on input "
                      f"`{json.dumps(k['example']['input'])}`", ""]
    return "\n".join(lines).rstrip() + "\n"
