"""The catalog as one self-contained web page (``paramcount catalog --html``).

Built from the same rows as ``paramcount catalog --json``: two log-scale charts drawn by
plotly's Python package (parameters against year, training compute against year), a table
of every system, and a few lines of vanilla JavaScript that sort the table and filter table
and charts together. plotly.js is embedded inline, so the page works offline from a file://
URL: no CDN, no server. The page carries no timestamp, so the same catalog gives the same page.
"""
from __future__ import annotations

import html
import json
import textwrap
from typing import Any

from ..curation.catalog import normalise
from .catalog import DOMAIN_COLOURS, HEADERS, _cells

CHART_IDS = ("params-chart", "compute-chart")
SPREAD = 0.6   # systems of one year are spread over this much of the year, so each can be hovered

# row key behind each table column (HEADERS order), for sorting; plus the source column
_SORT_KEYS = ["name", "year", "domain", "params", "published_params", "params_ratio",
              "active_params", "forward_flops_per_unit", "flops_per_param", "training_compute",
              "published_training_compute", "status", "citation"]
_TEXT_COLUMNS = {"name", "domain", "status", "citation"}

CONVENTIONS = (
    "Counting conventions. Parameters are unique tensors: tied or shared weights count once, "
    "buffers are not parameters. Active parameters are what one token (one example) uses: for "
    "a mixture of experts, the shared parts, the router and the top-k experts, embedding "
    "tables whole. One multiply-add is 2 FLOPs; forward FLOPs count the matrix-class work "
    "(linear, convolution, the full attention score matrix), per token for sequence models and "
    "per example otherwise. Training compute is recomputed from the training inputs the source "
    "reports: by counting (forward x 3 x examples seen) or, failing that, by the hardware method "
    "(chips x dense peak x utilisation x time, 0.3 unless the source gives it). Published "
    "figures are the sources' own, with their locators.")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _hover_esc(value: Any) -> str:
    """Hover text is plotly's small HTML subset, which knows &lt; &gt; &amp; but not &quot;."""
    return html.escape(str(value), quote=False)


def _wrap(text: str, width: int = 64) -> str:
    """Escaped for a hover label, long lines broken with <br>."""
    return "<br>".join(_hover_esc(line) for line in textwrap.wrap(text, width))


def _int(v) -> str:
    return f"{int(v):,}"


def _sci(v) -> str:
    from ..units import sci

    return sci(v, 3)


def hover_text(row: dict) -> str:
    """What a point of either chart shows: the system's figures with their sources."""
    lines = [f"<b>{_hover_esc(row['name'])}</b> ({row['year']}, "
             f"{_hover_esc(row['domain'] or '-')})"]
    lines.append(f"params: {_int(row['params'])} computed")
    if row["published_params"]:
        lines.append(f"published: {_int(row['published_params'])} "
                     f"(ratio {row['params_ratio']:.4f})")
    if row["moe"]:
        lines.append(f"active params (MoE): {_int(row['active_params'])}")
    lines.append(f"forward: {_sci(row['forward_flops_per_unit'])} FLOP per "
                 f"{row['forward_flops_per']}")
    if row["training_compute"]:
        lines.append(f"training compute: {_sci(row['training_compute'])} FLOP recomputed "
                     f"({row['training_compute_method']})")
    if row["published_training_compute"]:
        ratio = row["training_compute_ratio"]
        lines.append(f"training compute: {_sci(row['published_training_compute'])} FLOP "
                     "published" + (f" (ratio {ratio:.3f})" if ratio else ""))
    lines.append(f"status: {row['status']}")
    if row["citation"]:
        lines.append(_wrap(f"architecture: {row['citation']}"))
    for f in row["figures"]:
        if f["key"] == "params":
            lines.append(_wrap(f"published params: {f['source']}"))
    return "<br>".join(lines)


def _x_positions(rows: list[dict]) -> list[float | None]:
    """Publication year, with the systems of one year spread evenly across SPREAD of it
    (in row order) so that no two points sit on top of each other."""
    by_year: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        if r["year"]:
            by_year.setdefault(r["year"], []).append(i)
    x: list[float | None] = [None] * len(rows)
    for year, idx in by_year.items():
        n = len(idx)
        for k, i in enumerate(idx):
            x[i] = year + (0 if n == 1 else SPREAD * (k / (n - 1) - 0.5))
    return x


def _colour(domain) -> str:
    return DOMAIN_COLOURS.get(domain, "#7f7f7f")


def _traces(rows, x, hover, series) -> list[dict]:
    """One scatter trace per (domain, series); ``series`` = [(kind, row filter, y key,
    marker)]. customdata holds the row index, which the page's filters use."""
    domains = list(dict.fromkeys(r["domain"] for r in rows))
    traces, legend_shown = [], set()
    for domain in domains:
        for kind, keep, key, marker in series:
            idx = [i for i, r in enumerate(rows)
                   if r["domain"] == domain and x[i] is not None and r[key] and keep(r)]
            if not idx:
                continue
            traces.append(dict(
                type="scatter", mode="markers", name=domain or "other", legendgroup=str(domain),
                showlegend=domain not in legend_shown, meta=kind,
                x=[x[i] for i in idx], y=[rows[i][key] for i in idx], customdata=idx,
                hovertext=[hover[i] for i in idx], hovertemplate="%{hovertext}<extra></extra>",
                marker=dict(color=_colour(domain), **marker)))
            legend_shown.add(domain)
    return traces


def _figure(traces, title: str, ytitle: str, years: list[int]):
    import plotly.graph_objects as go

    fig = go.Figure(traces)
    fig.update_layout(
        title=dict(text=title, x=0.02), template="plotly_white", height=520,
        margin=dict(l=70, r=20, t=60, b=50), hovermode="closest",
        hoverlabel=dict(align="left", font_size=12), legend=dict(title_text="domain"),
        xaxis=dict(title="publication year", dtick=1 if len(set(years)) <= 16 else 2,
                   tickformat="d",
                   range=[min(years) - 0.7, max(years) + 0.7] if years else None),
        yaxis=dict(title=ytitle, type="log", exponentformat="power"))
    return fig


def figures(rows: list[dict]):
    """The two plotly figures: parameters and training compute against year."""
    x = _x_positions(rows)
    hover = [hover_text(r) for r in rows]
    years = [r["year"] for r in rows if r["year"]]
    dot = dict(size=10, line=dict(width=0.5, color="white"))
    params = _traces(rows, x, hover, [
        ("total", lambda r: not r["moe"], "params", dict(symbol="circle", **dot)),
        ("total", lambda r: r["moe"], "params",
         dict(symbol="diamond", size=12, line=dict(width=1, color="black"))),
        ("active", lambda r: r["moe"], "active_params",
         dict(symbol="diamond-open", size=11, line=dict(width=2))),
    ])
    compute = _traces(rows, x, hover, [
        ("recomputed", lambda r: True, "training_compute", dict(symbol="circle", **dot)),
        ("published", lambda r: True, "published_training_compute",
         dict(symbol="circle-open", size=15, line=dict(width=2))),
    ])
    figs = (_figure(params, "Parameters (recomputed)", "parameters", years),
            _figure(compute, "Training compute", "training compute (FLOP)", years))
    from .trends import add_trend_lines  # the lines of `paramcount trends` on the catalog

    add_trend_lines(figs, rows)
    return figs


def table_html(rows: list[dict]) -> str:
    """The table of every system, each cell with its sort value (``data-v``)."""
    heads = HEADERS + ["source"]
    out = ['<table id="catalog-table"><thead><tr>']
    for h, key in zip(heads, _SORT_KEYS):
        kind = "text" if key in _TEXT_COLUMNS else "num"
        out.append(f'<th data-key="{key}" data-kind="{kind}" title="sort by {_esc(h)}">'
                   f'{_esc(h)}</th>')
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        names = [row["name"], row["spec"].rsplit(".", 1)[0], *row["aliases"]]
        search = " ".join(normalise(n) for n in names)
        out.append(f'<tr data-row="{i}" data-domain="{_esc(row["domain"] or "")}" '
                   f'data-year="{row["year"] or ""}" data-search="{_esc(search)}">')
        cells = _cells(row) + [row["citation"] or "-"]
        for key, cell in zip(_SORT_KEYS, cells):
            v = row[key]
            sort = "" if v is None else (str(v).lower() if key in _TEXT_COLUMNS else repr(v))
            body = _esc(cell)
            if key == "name" and row["aliases"]:
                body += f'<div class="aka">{_esc(", ".join(row["aliases"]))}</div>'
            out.append(f'<td data-v="{_esc(sort)}" class="{key}">{body}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def page(rows: list[dict], *, version: str, title: str = "Notable ML systems, recounted") -> str:
    """The whole page as one string: HTML, CSS, plotly.js and the filter script inline."""
    from ..errors import require

    require("plotly", "html")
    fig_params, fig_compute = figures(rows)
    config = {"displaylogo": False, "responsive": True}
    charts = (fig_params.to_html(full_html=False, include_plotlyjs=True, div_id=CHART_IDS[0],
                                 config=config)
              + fig_compute.to_html(full_html=False, include_plotlyjs=False,
                                    div_id=CHART_IDS[1], config=config))
    years = sorted({r["year"] for r in rows if r["year"]})
    domains = sorted({r["domain"] for r in rows if r["domain"]})
    options = "".join(f'<option value="{_esc(d)}">{_esc(d)}</option>' for d in domains)
    lo, hi = (years[0], years[-1]) if years else ("", "")
    unplotted = sum(1 for r in rows if not r["year"])
    note = (f" {unplotted} without a publication year are in the table only." if unplotted
            else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="generator" content="paramcount {_esc(version)}">
<title>{_esc(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{_esc(title)}</h1>
<p class="lede">Parameters and training compute of {len(rows)} systems, each recounted from
its architecture and set beside the figures its source published. Hover a point for the
figures and their sources; the table and its filters below drive both charts.{note}</p>
<form id="filters" onsubmit="return false">
 <label>domain <select id="f-domain"><option value="">all</option>{options}</select></label>
 <label>years <input id="f-from" type="number" value="{lo}" min="{lo}" max="{hi}"> to
 <input id="f-to" type="number" value="{hi}" min="{lo}" max="{hi}"></label>
 <label>name or alias <input id="f-search" type="search" placeholder="e.g. llama"></label>
 <button id="f-reset" type="button">reset</button>
 <span id="f-count">{len(rows)} of {len(rows)} systems</span>
</form>
<p class="key">Parameters: ● total · ◆ mixture of experts, total · ◇ mixture of experts,
active. Training compute: ● recomputed · ○ published.</p>
<div class="charts">{charts}</div>
<div class="table-wrap">{table_html(rows)}</div>
<p class="note">{_esc(CONVENTIONS)}</p>
<p class="made">Made by paramcount {_esc(version)} (<code>paramcount catalog --html</code>)
from {len(rows)} specs.</p>
<script>{_JS}</script>
</body></html>
"""


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.2em 2em;color:#222}
h1{font-size:1.5em;margin:0 0 .3em}
.lede,.note,.key{max-width:70em;font-size:.92em;line-height:1.4}
.note{color:#444;margin-top:1.5em}.made{color:#666;font-size:.85em}
#filters{display:flex;flex-wrap:wrap;gap:1.2em;align-items:center;margin:.8em 0;
 padding:.6em .8em;background:#f4f6f8;border-radius:6px;font-size:.92em}
#filters input[type=number]{width:5em}#f-count{color:#555}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:1em}.charts>div{min-width:0}
@media (max-width:1100px){.charts{grid-template-columns:1fr}}
table{border-collapse:collapse;font-size:.85em;margin-top:1em;width:100%}
.table-wrap{overflow-x:auto}
th{background:#eef1f4;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
th,td{padding:.3em .5em;border-bottom:1px solid #e3e6ea;text-align:right;vertical-align:top}
td.name,td.domain,td.status,td.citation,th[data-kind=text]{text-align:left}
td.citation{min-width:14em;color:#555;font-size:.92em}.aka{color:#777;font-size:.88em}
tr[hidden]{display:none}
"""

# The filters: rows pass by domain, year range and a name/alias substring (normalised as
# paramcount's own lookup does: lowercase, letters and digits only); every chart trace keeps
# the points whose customdata (row index) passed. Sorting: numbers largest first on the first
# click, text A-Z; missing values always last.
_JS = """
(function(){
var KEYS=['x','y','customdata','hovertext'];
var tbody=document.querySelector('#catalog-table tbody');
var rows=Array.prototype.slice.call(tbody.rows);
var charts=%s.map(function(id){return document.getElementById(id);});
var full=charts.map(function(gd){return gd.data.map(function(t){
  var o={};KEYS.forEach(function(k){o[k]=Array.prototype.slice.call(t[k]);});return o;});});
var $=function(id){return document.getElementById(id);};
charts.forEach(function(gd){Plotly.Plots.resize(gd);});  // drawn before the grid had both
function norm(s){return s.toLowerCase().replace(/[^0-9a-z]+/g,'');}
function apply(){
  var dom=$('f-domain').value,lo=parseInt($('f-from').value),hi=parseInt($('f-to').value),
      q=norm($('f-search').value),keep={},n=0;
  rows.forEach(function(tr){
    var y=parseInt(tr.dataset.year),ok=(!dom||tr.dataset.domain===dom)&&
      (isNaN(lo)||y>=lo)&&(isNaN(hi)||y<=hi)&&(!q||tr.dataset.search.indexOf(q)>=0);
    tr.hidden=!ok;if(ok){keep[tr.dataset.row]=true;n++;}});
  charts.forEach(function(gd,c){
    var upd={};KEYS.forEach(function(k){upd[k]=[];});
    full[c].forEach(function(t){
      var idx=[];t.customdata.forEach(function(r,i){if(keep[r])idx.push(i);});
      KEYS.forEach(function(k){upd[k].push(idx.map(function(i){return t[k][i];}));});});
    Plotly.restyle(gd,upd);});
  $('f-count').textContent=n+' of '+rows.length+' systems';
}
['f-domain','f-from','f-to','f-search'].forEach(function(id){
  $(id).addEventListener('input',apply);$(id).addEventListener('change',apply);});
$('f-reset').addEventListener('click',function(){$('filters').reset();apply();});
document.querySelectorAll('#catalog-table th').forEach(function(th,col){
  th.addEventListener('click',function(){
    var text=th.dataset.kind==='text',was=th.getAttribute('aria-sort');
    var desc=was?was==='ascending':!text;
    document.querySelectorAll('#catalog-table th').forEach(function(h){
      h.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',desc?'descending':'ascending');
    rows.slice().sort(function(a,b){
      var u=a.cells[col].dataset.v,v=b.cells[col].dataset.v;
      if(u===''||v==='')return (u==='')-(v==='');
      var d=text?u.localeCompare(v):parseFloat(u)-parseFloat(v);
      return desc?-d:d;}).forEach(function(tr){tbody.appendChild(tr);});});});
})();
""" % json.dumps(list(CHART_IDS))
