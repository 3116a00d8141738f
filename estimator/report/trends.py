"""Renderings of ``paramcount trends``: the text report, the JSON document and the plot."""
from __future__ import annotations

from typing import Any

from ..curation.trends import BIC_MARGIN, METRICS, LARGE_SCALE_SD, LARGE_SCALE_YEARS, Trends
from ..units import sci, si
from .text import _table, _to_text


def _months(v) -> str:
    if v is None:
        return "-"
    return f"{v:.1f}" if abs(v) < 1000 else f"{v:.3g}"


def _ci(ci) -> str:
    lo, hi = ci
    return "unbounded" if lo is None else f"{_months(lo)} to {_months(hi)}"


def _value(v: float, metric: str) -> str:
    return sci(v, 3) if metric == "compute" else si(v)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


_SHAPES = {"jump": "two lines (slope change and level jump)",
           "kink": "one broken line (slope change only)"}


def render(result: Trends) -> str:
    """The readable report: method, what was read and left out, one row per fit, then the
    breaks, the large-scale systems and the gap when asked for."""
    data = result.data
    metric = data.metric
    lines = [f"paramcount trends: {data.source}, {METRICS[metric]}",
             f"Method: {result.method}.",
             f"Dates: {data.date_basis}."]
    lines += [f"Note: {n}." for n in data.notes]
    lines.append(f"Rows read: {data.rows:,}; systems fitted: {len(data.points):,}")
    for reason, n in data.skipped.items():
        lines.append(f"  {_plural(n, 'row')} {reason} left out")
    for reason, n in data.excluded.items():
        lines.append(f"  {_plural(n, 'system')} {reason} left out")
    lines.append("")
    t = _table("group", "segment", "from", "to", "n", "OOM/year", "doubling (months)",
               f"{result.fits[0].ci_level * 100:g}% interval", "R²",
               right=("n", "OOM/year", "doubling (months)", "R²"))
    for f in result.fits:
        t.add_row(f.group, f.segment, f.start, f.end, str(f.n), f"{f.slope:.3f}",
                  _months(f.doubling_months), _ci(f.ci), f"{f.r2:.2f}")
    out = [_to_text(*lines), _to_text(t, width=160)]
    more = []
    for u in result.unfitted:
        more.append(f"No fit: {u['reason']}.")
    for b in result.breaks:
        if b["kind"] == "given":
            continue
        verdict = "a break" if b["found"] else "no break"
        shape = (f"two lines (slope change and level jump of {b['jump_oom']:+.2f} OOM)"
                 if b["model"] == "jump" else _SHAPES["kink"])
        more.append(
            f"Break search ({b['group']}, {b['n']} systems): best break {b['date']} as {shape}; "
            f"doubling {_months(b['doubling_months_before'])} months before "
            f"({b['n_before']} systems), {_months(b['doubling_months_after'])} after "
            f"({b['n_after']}).")
        more.append(
            f"  BIC one line {b['bic_one_line']:.1f}, two segments {b['bic_two_segments']:.1f}: "
            f"{_bic_change(b['delta_bic'])} (a drop of {BIC_MARGIN:g} is needed): {verdict}. "
            f"Chow F = {_fstat(b['f'])}, p = {b['p']:.2g} (at that date; the search makes it "
            "optimistic).")
        for m, e in b.get("models", {}).items():
            if m != b["model"]:
                more.append(f"  The other model, {_SHAPES[m]}, at its best date {e['date']}: "
                            f"BIC {_bic_change(e['delta_bic'])}, F = {_fstat(e['f'])}, "
                            f"p = {e['p']:.2g}.")
    if result.large_scale_points:
        more.append(f"Large-scale systems ({len(result.large_scale_points)}): log10 compute more "
                    f"than {LARGE_SCALE_SD} SD above the mean of the other systems published "
                    f"within {LARGE_SCALE_YEARS:g} years either side (Sevilla et al. 2022):")
        names = [f"{p.name} ({p.date.isoformat()[:7]}, {sci(p.value, 2)})"
                 for p in result.large_scale_points]
        more += _wrap("  ", names)
    if result.gap:
        g = result.gap
        more.append(f"Parameter gap: {g['systems']} systems published from {g['since']} on "
                    f"({METRICS[g['metric']]}); bands of {g['log10_width']:.2f} OOM:")
        for band in ("below", "inside", "above"):
            b = g[band]
            more.append(f"  {band:<6} [{_value(b['low'], g['metric'])}, "
                        f"{_value(b['high'], g['metric'])}): {b['n']}")
    if more:
        out.append(_to_text(*more))
    return "\n".join(o.rstrip("\n") for o in out) + "\n"


def _fstat(f) -> str:
    return "infinite (an exact fit)" if f is None else f"{f:.2f}"


def _bic_change(delta: float) -> str:
    return f"{'lower' if delta >= 0 else 'higher'} by {abs(delta):.1f}"


def _wrap(indent: str, items: list[str], width: int = 100) -> list[str]:
    lines, cur = [], indent
    for item in items:
        piece = item + ", "
        if len(cur) + len(piece) > width and cur.strip():
            lines.append(cur.rstrip())
            cur = indent
        cur += piece
    if cur.strip():
        lines.append(cur.rstrip().rstrip(","))
    return lines


def to_json(result: Trends) -> dict:
    return result.to_dict()


# ----------------------------------------------------------------------------------- plot

def _domain(result: Trends, p) -> str:
    """The domain a point is coloured by: its first domain that is a fitted group (with
    ``--by domain``), else its first domain."""
    return next((d for d in p.domains if d in result.groups), p.domain)


def _colours(result: Trends) -> dict[str, str]:
    """One colour per domain (a system's first domain), the commonest first: the catalog's
    own colours for its domains, so both plots agree, then matplotlib's tab20 for the rest;
    past 9 domains, grey."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    from .catalog import DOMAIN_COLOURS

    counts: dict[str, int] = {}
    for p in result.data.points:
        counts[_domain(result, p)] = counts.get(_domain(result, p), 0) + 1
    free = [c for c in (to_hex(c) for c in colormaps["tab20"].colors)
            if c not in DOMAIN_COLOURS.values()]
    out: dict[str, str] = {}
    for i, d in enumerate(sorted(counts, key=lambda d: (-counts[d], d.lower()))):
        out[d] = (DOMAIN_COLOURS.get(d.lower()) or free.pop(0)) if i < 9 else "#bbbbbb"
    return out


def plot(result: Trends, path, *, title: str | None = None) -> Any:
    """The points (coloured by first domain; large-scale ringed) on a log axis, with each
    fitted segment drawn over its dates and labelled with its doubling time. Saved to
    ``path`` (.png or .svg); returns the matplotlib figure."""
    from ..curation.trends import decimal_year
    from ..errors import require

    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = result.data
    colours = _colours(result)
    what = METRICS[data.metric]
    fig, ax = plt.subplots(figsize=(11, 6.5), constrained_layout=True)
    shown = 0
    for d, c in colours.items():
        mine = [p for p in data.points if _domain(result, p) == d]
        label = d if shown < 9 else None
        shown += 1
        ax.scatter([p.t for p in mine], [p.value for p in mine], s=18, c=c, alpha=0.75,
                   edgecolors="none", label=label)
    if shown > 9:
        ax.scatter([], [], s=18, c="#bbbbbb", label="other domains")
    big = result.large_scale_points
    if big:
        ax.scatter([p.t for p in big], [p.value for p in big], s=70, facecolors="none",
                   edgecolors="black", linewidths=0.9, label="large-scale")
    styles = ["-", "--", "-.", ":"]
    for i, f in enumerate(result.fits):
        t0 = decimal_year(_date(f.start))
        t1 = decimal_year(_date(f.end))
        ts = [t0, t1]
        colour = "black" if len({x.group for x in result.fits}) == 1 else colours.get(f.group, "k")
        dbl = f.doubling_months
        label = (f"{f.group + ', ' if f.group != 'all' else ''}{f.segment}: "
                 f"{_months(dbl)} months per doubling (n={f.n})")
        ax.plot(ts, [f.value_at(x) for x in ts], styles[i % len(styles)], c=colour, lw=1.8,
                label=label)
    ax.set_yscale("log")
    ax.set_xlabel("publication date (year)")
    ax.set_ylabel(METRICS[data.metric])
    ax.set_title(title or f"{what[0].upper()}{what[1:]}: {data.source}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", framealpha=0.85)
    fig.text(0.99, 0.005, "lines: OLS of log10 on date (log space), per segment",
             ha="right", va="bottom", fontsize=7, color="#555555")
    ext = str(path).lower().rsplit(".", 1)[-1]
    # no timestamps and no random SVG ids, so the same data gives the same file
    meta = {"svg": {"Date": None}, "png": {"Software": None}}.get(ext)
    with plt.rc_context({"svg.hashsalt": "paramcount"}):
        fig.savefig(path, dpi=130, metadata=meta)
    plt.close(fig)
    return fig


def _date(iso: str):
    import datetime as dt

    return dt.date.fromisoformat(iso)


def catalog_trend_lines(rows: list[dict]) -> dict[str, dict]:
    """The catalog page's trend lines: the log-space fit of parameters and of recomputed
    training compute over the catalog rows (year only: each system at its year's mid-point),
    as {'params' | 'training_compute': {x, y, label}} in the page's year coordinates (where a
    year's systems sit around the integer year, so the mid-point is year + 0.5 - 0.5)."""
    import datetime as dt

    from ..curation.trends import Point, fit
    from ..errors import PCError

    out = {}
    for key in ("params", "training_compute"):
        pts = [Point(name=r["name"], date=dt.date(int(r["year"]), 7, 2), value=float(r[key]))
               for r in rows if r.get("year") and r.get(key)]
        try:
            f = fit(pts, metric=key, resamples=200)
        except PCError:  # fewer than 3 systems, or numpy/scipy (the trends extra) missing
            continue
        t0, t1 = decimal_year_of(f.start), decimal_year_of(f.end)
        out[key] = {"x": [t0 - 0.5, t1 - 0.5], "y": [f.value_at(t0), f.value_at(t1)],
                    "label": f"trend: {_months(f.doubling_months)} months per doubling "
                             f"(OLS of log10 on year, n={f.n})"}
    return out


def decimal_year_of(iso: str) -> float:
    from ..curation.trends import decimal_year

    return decimal_year(_date(iso))



def add_trend_lines(figures, rows: list[dict]) -> None:
    """Draw :func:`catalog_trend_lines` on the catalog page's two plotly figures (parameters,
    training compute) as dashed layout shapes labelled with the doubling time. Shapes, not
    traces: the page's filters restyle traces only, and on a log axis a shape's ends are
    data values (plotly.js maps them through the axis's d2r), like the points'. Without
    numpy/scipy the page has no lines."""
    lines = catalog_trend_lines(rows)
    for fig, key in zip(figures, ("params", "training_compute")):
        line = lines.get(key)
        if not line:
            continue
        (x0, x1), (y0, y1) = line["x"], line["y"]
        fig.add_shape(type="line", xref="x", yref="y", x0=x0, x1=x1, y0=y0, y1=y1,
                      line=dict(color="#444444", width=1.5, dash="dash"),
                      label=dict(text=line["label"], textposition="start",
                                 font=dict(size=11, color="#444444"), yanchor="bottom"))
