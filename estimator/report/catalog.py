"""Renderings of the catalog: text table, CSV, Markdown, JSON rows, and the plot."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from ..safety import csv_cell, markdown_text, printable
from ..units import sci, si
from .text import plain_table

# (header, row key, formatter) of the text and Markdown tables
_STATUS_SHORT = {"reproduced": "reproduced", "explained discrepancy": "explained",
                 "unexplained discrepancy": "UNEXPLAINED", "not published": "not published"}


_PER = {"token": "tok", "example": "ex"}


def _num(v, unit="") -> str:
    return "-" if v is None else si(v, unit)


def _ratio(v) -> str:
    return "-" if v is None else f"{v:.4f}"


def _sci(v) -> str:
    return "-" if v is None else sci(v, 2)


def _cells(row: dict) -> list[str]:
    per = f"{_num(row['forward_flops_per_unit'], 'FLOP')}/{_PER[row['forward_flops_per']]}"
    active = "" if not row["moe"] else _num(row["active_params"])
    return [row["name"], str(row["year"] or "-"), row["domain"] or "-",
            _num(row["params"]), _num(row["published_params"]), _ratio(row["params_ratio"]),
            active, per,
            "-" if row["flops_per_param"] is None else f"{row['flops_per_param']:.3g}",
            _sci(row["training_compute"]), _sci(row["published_training_compute"]),
            _STATUS_SHORT.get(row["status"], row["status"])]


HEADERS = ["system", "year", "domain", "params", "published", "ratio", "active",
           "forward FLOPs", "FLOPs/param", "train FLOP", "published FLOP", "status"]


def render(rows: list[dict], *, title: str | None = None) -> str:
    """The text table (plain fixed-width columns: linear in the rows), then a status count.
    Every cell is shown with its control characters escaped (names come from specs)."""
    table = plain_table(HEADERS, [[printable(c) for c in _cells(row)] for row in rows],
                        right=("params", "published", "ratio", "active", "forward FLOPs",
                               "FLOPs/param", "train FLOP", "published FLOP"))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = f"{len(rows)} systems: " + ", ".join(f"{n} {s}" for s, n in counts.items())
    return (f"{title}\n" if title else "") + table + "\n" + summary + "\n"


def render_detail(row: dict) -> str:
    """One system in full: provenance, every figure beside its count, training compute."""
    where = row["spec"] + (f", variant {row['variant']!r} of the {row['family']} family"
                           if row.get("variant") else "")
    lines = [f"{row['name']}  ({where})"]
    if row["aliases"]:
        lines.append("aliases: " + ", ".join(row["aliases"]))
    for key in ("authors", "title", "venue", "year", "date", "arxiv", "doi", "url", "citation"):
        if row.get(key):
            lines.append(f"{key}: {row[key]}")
    lines.append(f"params {row['params']:,}; active {row['active_params']:,}; forward "
                 f"{row['forward_flops']:,} FLOP per {row['forward_flops_per'] if row['tokens_per_example'] is None else str(row['tokens_per_example']) + ' tokens'}")
    if row["params_by_type"]:
        lines.append("by type: " + ", ".join(f"{k} {v:,}" for k, v in row["params_by_type"].items()))
    for f in row["figures"]:
        counted = "-" if f["counted"] is None else f"{f['counted']:,}"
        ratio = "" if f["ratio"] is None else f"  ratio {f['ratio']:.4f}"
        lines.append(f"published {f['key']}: {sci(f['published'], 4)} ({f['source']}); "
                     f"counted {counted}{ratio}")
        if f["explanation"]:
            lines.append(f"  discrepancy: {f['explanation']}")
    if row["training_compute"] is not None:
        parts = [f"recomputed {sci(row['training_compute'], 3)} FLOP ({row['training_compute_method']})"]
        if row.get("training_compute_excludes") and row["training_compute_counting"]:
            parts.append(f"operation counting {sci(row['training_compute_counting'], 3)} is a "
                         f"lower bound: it leaves out {row['training_compute_excludes']}")
        if row["training_compute_6nd"]:
            parts.append(f"6·N·D {sci(row['training_compute_6nd'], 3)}")
        if row["training_compute_hardware"] and row["training_compute_method"] != "hardware method":
            parts.append(f"hardware method {sci(row['training_compute_hardware'], 3)}")
        if row["published_training_compute"]:
            parts.append(f"published {sci(row['published_training_compute'], 3)} "
                         f"(ratio {row['training_compute_ratio']:.3f})")
        lines.append("training compute: " + "; ".join(parts))
    if row.get("training_error"):
        lines.append(f"training compute not recomputed: {row['training_error']}")
    elif row["training_compute"] is None and row["training"]:
        lines.append("training compute not recomputed: the source's inputs do not allow it ("
                     + (row["training"].get("note") or row["training"].get("source", "")).strip()
                     + ")")
    lines.append(f"status: {row['status']}")
    return "\n".join(printable(line) for line in lines) + "\n"


CSV_COLUMNS = ["name", "spec", "variant", "aliases", "year", "domain", "params", "active_params",
               "published_params", "params_ratio", "forward_flops", "forward_flops_per",
               "forward_flops_per_unit", "flops_per_param", "training_compute",
               "training_compute_6nd", "training_compute_hardware",
               "published_training_compute", "training_compute_ratio", "status", "citation"]


def _csv_value(v):
    """A cell: None empty, a whole float as an integer (``60000000``, not ``60000000.0``),
    text neutralised against formula injection (:func:`~estimator.safety.csv_cell`)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 53:
        return int(v)
    return csv_cell(v)


def to_csv(rows: Iterable[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for row in rows:
        w.writerow([_csv_value("; ".join(row[c]) if c == "aliases" else row[c])
                    for c in CSV_COLUMNS])
    return buf.getvalue()


def _href(target) -> str:
    """A link target as Markdown takes it: forward slashes, spaces and parentheses escaped."""
    from urllib.parse import quote

    return quote(str(target).replace("\\", "/"), safe="/.-_~:")


def to_markdown(rows: list[dict], links: list | None = None) -> str:
    """The table in Markdown; every value from a spec escaped (no tag can open, a cell stays
    a cell). Each system links to its spec: ``links[i]`` for row i (paths as the reader will
    resolve them), by default ``../archspecs/SPEC``, as docs/catalog.md sits in docs/."""
    def esc(s) -> str:
        return markdown_text(s, cell=True)

    out = ["| " + " | ".join(HEADERS) + " |",
           "|" + "|".join("---:" if h not in ("system", "domain", "status") else "---"
                          for h in HEADERS) + "|"]
    for i, row in enumerate(rows):
        cells = [esc(c) for c in _cells(row)]
        target = links[i] if links is not None else f"../archspecs/{row['spec']}"
        cells[0] = f"[{esc(row['name'])}]({_href(target)})"
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


# matplotlib's tab10 (also plotly's default colours), by domain; the plot and the web page share it
DOMAIN_COLOURS = {"vision": "#1f77b4", "language": "#ff7f0e", "speech": "#2ca02c",
                  "multimodal": "#9467bd", "games": "#d62728", "recommendation": "#8c564b",
                  "biology": "#17becf"}


def plot(rows: list[dict], path, *, label_top: int = 12, inputs: Iterable = ()) -> Any:
    """Parameters (total, and active where they differ) and training compute against
    publication year, log axes, coloured by domain, MoE systems marked: two panels saved to
    ``path`` (.png, .svg or .pdf) by :func:`estimator.safety.write_output` (never onto one of
    ``inputs``). Returns the matplotlib figure."""
    from ..safety import write_output

    fmt = str(path).rsplit(".", 1)[-1].lower()
    fig, data = plot_bytes(rows, fmt, label_top=label_top)
    write_output(path, data, inputs, what="--plot")
    return fig


def plot_bytes(rows: list[dict], fmt: str = "png", *, label_top: int = 12) -> tuple[Any, bytes]:
    """The figure of :func:`plot` and its bytes in ``fmt``. An :class:`InputError` when no
    system of ``rows`` has both a year and parameters (nothing to draw); a panel with no
    training compute says so instead of a log axis over nothing."""
    import io as _io

    from ..errors import InputError, require

    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["year"] and r["params"]]
    if not rows:
        raise InputError("--plot: nothing to plot: no system of the selection has both a year "
                         "and parameters")
    fig, (ax_p, ax_c) = plt.subplots(1, 2, figsize=(14, 6), constrained_layout=True)
    for domain, colour in DOMAIN_COLOURS.items():
        mine = [r for r in rows if r["domain"] == domain]
        dense = [r for r in mine if not r["moe"]]
        moe = [r for r in mine if r["moe"]]
        ax_p.scatter([r["year"] for r in dense], [r["params"] for r in dense], c=colour,
                     label=domain, s=30, edgecolors="none")
        ax_p.scatter([r["year"] for r in moe], [r["params"] for r in moe], c=colour, marker="D",
                     s=40, edgecolors="black", linewidths=0.6)
        for r in moe:  # active parameters beside the total, joined by a line
            ax_p.plot([r["year"], r["year"]], [r["active_params"], r["params"]], c=colour, lw=0.8)
            ax_p.scatter([r["year"]], [r["active_params"]], c="white", edgecolors=colour,
                         marker="D", s=30)
        tc = [r for r in mine if r["training_compute"]]
        ax_c.scatter([r["year"] for r in tc], [r["training_compute"] for r in tc], c=colour,
                     label=domain, s=30, edgecolors="none")
        pub = [r for r in mine if r["published_training_compute"]]
        ax_c.scatter([r["year"] for r in pub], [r["published_training_compute"] for r in pub],
                     facecolors="none", edgecolors=colour, s=60, marker="o")
    ax_p.scatter([], [], marker="D", c="grey", edgecolors="black", label="MoE total (open: active)")
    ax_c.scatter([], [], facecolors="none", edgecolors="grey", s=60, label="published")
    has_compute = any(r["training_compute"] or r["published_training_compute"] for r in rows)

    ax_p.set(yscale="log", xlabel="publication year", ylabel="parameters (recomputed)",
             title="Parameters of notable ML systems")
    ax_c.set(xlabel="publication year", ylabel="training compute (FLOP)",
             title="Training compute (filled: recomputed, open: published)")
    if has_compute:
        ax_c.set_yscale("log")
    else:
        ax_c.text(0.5, 0.5, "no training compute recorded for these systems",
                  transform=ax_c.transAxes, ha="center", va="center", color="grey")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_p, ax_c):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.draw_without_rendering()  # the layout settled: label boxes measured where they land

    def label(ax, key):
        """Name the largest systems, skipping one whose label would sit on a named point
        (within two years and a factor of 6) or overlap a label already placed, measured by
        the boxes the renderer gives them: the picture stays readable where systems crowd."""
        import math

        from matplotlib.transforms import Bbox

        renderer = fig.canvas.get_renderer()
        placed: list[tuple[float, float]] = []
        boxes: list = []
        for r in sorted((r for r in rows if r[key]), key=lambda r: -r[key]):
            if len(placed) == label_top:
                break
            y = math.log10(r[key])
            if any(abs(r["year"] - px) < 2 and abs(y - py) < math.log10(6) for px, py in placed):
                continue
            note = ax.annotate(r["name"], (r["year"], r[key]), fontsize=7, xytext=(3, 3),
                               textcoords="offset points")
            b0 = note.get_window_extent(renderer)  # padded: the final layout shifts a pixel
            box = Bbox.from_extents(b0.x0 - 4, b0.y0 - 2, b0.x1 + 4, b0.y1 + 2)
            if any(box.overlaps(b) for b in boxes):
                note.remove()
                continue
            placed.append((r["year"], y))
            boxes.append(box)

    label(ax_p, "params")
    if has_compute:
        label(ax_c, "training_compute")
    buf = _io.BytesIO()
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    return fig, buf.getvalue()


def catalog_page(rows: list[dict]) -> str:
    """docs/catalog.md: the table, then each system's figures with their sources."""
    families = sorted({r["spec"] for r in rows if r.get("variant")})
    in_families = sum(1 for r in rows if r.get("variant"))
    size = (f"{len(rows)} systems" + (f", {in_families} of them variants of {len(families)} size "
                                      f"famil{'y' if len(families) == 1 else 'ies'}"
                                      if families else ""))
    out = ["# The catalog", "",
           f"{size}.", "",
           "Generated by `paramcount catalog --page` from the specs in `archspecs/`; a test keeps",
           "it in sync. Each count is recomputed from the architecture (torch-free) and checked",
           "against a PyTorch build on the meta device; training compute is recomputed from the",
           "training inputs each source reports (operation counting: 3 x forward x examples, and",
           "the hardware method: chips x dense peak x 0.3 x time unless the source gives the",
           "utilisation).", "",
           "To add a system, write its spec in `archspecs/` (the spec language:",
           "[spec-language.md](spec-language.md)) with its citation and published figures, or,",
           "for another size of a family already here, add an entry to that file's `variants:`;",
           "then regenerate this page: `paramcount catalog --page > docs/catalog.md`.", "",
           "![parameters and training compute against year](catalog.png)", "",
           to_markdown(rows).rstrip(), "", "## Sources and differences", ""]
    for row in rows:
        md = markdown_text
        out.append(f"### {md(row['name'])} ({row['year']})")
        out.append("")
        who = ", ".join(md(x) for x in (row.get("authors"),
                                        row.get("title") and f"*{row['title']}*",
                                        row.get("venue")) if x)
        ids = ", ".join(md(x) for x in (row.get("arxiv") and f"arXiv:{row['arxiv']}",
                                        row.get("doi") and f"doi:{row['doi']}") if x)
        if who or ids:
            out.append(f"{who}{'. ' if who and ids else ''}{ids}.")
            out.append("")
        if row.get("variant"):
            out.append(f"A size of the {md(row['family'])} family "
                       f"([{md(row['spec'])}]({_href('../archspecs/' + row['spec'])})).")
            out.append("")
        if row["aliases"]:
            out.append("Also known as: " + ", ".join(md(a) for a in row["aliases"]) + ".")
            out.append("")
        out.append(f"- architecture: {md(row['citation'])}")
        for f in row["figures"]:
            counted = f"counted {f['counted']:,}" if f["counted"] is not None else "not a forward count"
            ratio = f" (ratio {f['ratio']:.4f})" if f["ratio"] is not None else ""
            out.append(f"- published {md(f['key'])} {sci(f['published'], 4)}: {md(f['source'])}; "
                       f"{counted}{ratio}")
            if f["explanation"]:
                out.append(f"  - discrepancy: {md(f['explanation'])}")
        if row["training_compute"] is not None:
            out.append(f"- training compute recomputed: {sci(row['training_compute'], 3)} FLOP "
                       f"({md(row['training_compute_method'])})"
                       + (f"; hardware method {sci(row['training_compute_hardware'], 3)}"
                          if row["training_compute_hardware"]
                          and row["training_compute_method"] != "hardware method" else ""))
            if row.get("training_compute_excludes"):
                out.append(f"  - operation counting leaves out {row['training_compute_excludes']}: "
                           + ("the figure is the hardware method's, which covers the whole run"
                              if row["training_compute_method"] == "hardware method"
                              else "the figure is a lower bound"))
        out.append("")
    return "\n".join(out).rstrip() + "\n"
