"""Renderings of the catalog: text table, CSV, Markdown, JSON rows, and the plot."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from ..units import sci, si
from .text import _table, _to_text

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
    t = _table(*HEADERS, title=title, right=("params", "published", "ratio", "active",
                                             "forward FLOPs", "FLOPs/param", "train FLOP",
                                             "published FLOP"))
    for row in rows:
        t.add_row(*_cells(row))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = f"{len(rows)} systems: " + ", ".join(f"{n} {s}" for s, n in counts.items())
    return _to_text(t, width=180) + summary + "\n"


def render_detail(row: dict) -> str:
    """One system in full: provenance, every figure beside its count, training compute."""
    lines = [f"{row['name']}  ({row['spec']})"]
    if row["aliases"]:
        lines.append("aliases: " + ", ".join(row["aliases"]))
    for key in ("authors", "title", "venue", "year", "arxiv", "doi", "url", "citation"):
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
        if row["training_compute_6nd"]:
            parts.append(f"6·N·D {sci(row['training_compute_6nd'], 3)}")
        if row["training_compute_hardware"]:
            parts.append(f"hardware method {sci(row['training_compute_hardware'], 3)}")
        if row["published_training_compute"]:
            parts.append(f"published {sci(row['published_training_compute'], 3)} "
                         f"(ratio {row['training_compute_ratio']:.3f})")
        lines.append("training compute: " + "; ".join(parts))
    if row.get("training_error"):
        lines.append(f"training compute not recomputed: {row['training_error']}")
    lines.append(f"status: {row['status']}")
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ["name", "spec", "aliases", "year", "domain", "params", "active_params",
               "published_params", "params_ratio", "forward_flops", "forward_flops_per",
               "forward_flops_per_unit", "flops_per_param", "training_compute",
               "training_compute_6nd", "training_compute_hardware",
               "published_training_compute", "training_compute_ratio", "status", "citation"]


def to_csv(rows: Iterable[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for row in rows:
        w.writerow(["; ".join(row[c]) if c == "aliases" else ("" if row[c] is None else row[c])
                    for c in CSV_COLUMNS])
    return buf.getvalue()


def to_markdown(rows: list[dict]) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    out = ["| " + " | ".join(HEADERS) + " |",
           "|" + "|".join("---:" if h not in ("system", "domain", "status") else "---"
                          for h in HEADERS) + "|"]
    for row in rows:
        cells = _cells(row)
        cells[0] = f"[{esc(row['name'])}](../archspecs/{row['spec']})"
        out.append("| " + " | ".join(esc(c) for c in cells) + " |")
    return "\n".join(out) + "\n"


# matplotlib's tab10 (also plotly's default colours), by domain; the plot and the web page share it
DOMAIN_COLOURS = {"vision": "#1f77b4", "language": "#ff7f0e", "speech": "#2ca02c",
                  "multimodal": "#9467bd", "games": "#d62728", "recommendation": "#8c564b",
                  "biology": "#17becf"}


def plot(rows: list[dict], path, *, label_top: int = 12) -> Any:
    """Parameters (total, and active where they differ) and training compute against
    publication year, log axes, coloured by domain, MoE systems marked: two panels saved to
    ``path`` (.png or .svg). Returns the matplotlib figure."""
    from ..errors import require

    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["year"]]
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

    def label(ax, key):
        """Name the largest systems, skipping one whose label would sit on a named point
        (within two years and a factor of 6): the picture stays readable where systems crowd."""
        import math

        placed: list[tuple[float, float]] = []
        for r in sorted((r for r in rows if r[key]), key=lambda r: -r[key]):
            if len(placed) == label_top:
                break
            y = math.log10(r[key])
            if any(abs(r["year"] - px) < 2 and abs(y - py) < math.log10(6) for px, py in placed):
                continue
            placed.append((r["year"], y))
            ax.annotate(r["name"], (r["year"], r[key]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")

    label(ax_p, "params")
    label(ax_c, "training_compute")
    ax_p.set(yscale="log", xlabel="publication year", ylabel="parameters (recomputed)",
             title="Parameters of notable ML systems")
    ax_c.set(yscale="log", xlabel="publication year", ylabel="training compute (FLOP)",
             title="Training compute (filled: recomputed, open: published)")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_p, ax_c):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.savefig(str(path))
    plt.close(fig)
    return fig


def catalog_page(rows: list[dict]) -> str:
    """docs/catalog.md: the table, then each system's figures with their sources."""
    out = ["# The catalog", "",
           "Generated by `paramcount catalog --page` from the specs in `archspecs/`; a test keeps",
           "it in sync. Each count is recomputed from the architecture (torch-free) and checked",
           "against a PyTorch build on the meta device; training compute is recomputed from the",
           "training inputs each source reports (operation counting: 3 x forward x examples, and",
           "the hardware method: chips x dense peak x 0.3 x time unless the source gives the",
           "utilisation).", "",
           "![parameters and training compute against year](catalog.png)", "",
           to_markdown(rows).rstrip(), "", "## Sources and differences", ""]
    for row in rows:
        out.append(f"### {row['name']} ({row['year']})")
        out.append("")
        who = ", ".join(x for x in (row.get("authors"), row.get("title") and f"*{row['title']}*",
                                    row.get("venue")) if x)
        ids = ", ".join(x for x in (row.get("arxiv") and f"arXiv:{row['arxiv']}",
                                    row.get("doi") and f"doi:{row['doi']}") if x)
        if who or ids:
            out.append(f"{who}{'. ' if who and ids else ''}{ids}.")
            out.append("")
        if row["aliases"]:
            out.append("Also known as: " + ", ".join(row["aliases"]) + ".")
            out.append("")
        out.append(f"- architecture: {row['citation']}")
        for f in row["figures"]:
            counted = f"counted {f['counted']:,}" if f["counted"] is not None else "not a forward count"
            ratio = f" (ratio {f['ratio']:.4f})" if f["ratio"] is not None else ""
            out.append(f"- published {f['key']} {sci(f['published'], 4)}: {f['source']}; "
                       f"{counted}{ratio}")
            if f["explanation"]:
                out.append(f"  - discrepancy: {f['explanation']}")
        if row["training_compute"] is not None:
            out.append(f"- training compute recomputed: {sci(row['training_compute'], 3)} FLOP "
                       f"({row['training_compute_method']})"
                       + (f"; hardware method {sci(row['training_compute_hardware'], 3)}"
                          if row["training_compute_hardware"] else ""))
        out.append("")
    return "\n".join(out).rstrip() + "\n"
