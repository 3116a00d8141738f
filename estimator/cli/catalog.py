"""The catalog command: notable systems recounted beside their published figures."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import _fail, _out, _print_json, app


@app.command("catalog")
def catalog_cmd(
    items: List[str] = typer.Argument(
        None, help="Spec files or folders to catalog instead of archspecs/, and/or a name or "
                   "alias to look for (any part of it: 'llama', 'GPT-3 175B (davinci)')."),
    domain: Optional[str] = typer.Option(None, "--domain", help="vision, language, speech, "
                                         "multimodal, games or recommendation."),
    since: Optional[int] = typer.Option(None, "--since", help="Published in or after YEAR."),
    until: Optional[int] = typer.Option(None, "--until", help="Published in or before YEAR."),
    sort: str = typer.Option("year", "--sort", help="Column to sort by: year, name, params, "
                             "active_params, forward_flops, flops_per_param, training_compute..."),
    descending: bool = typer.Option(False, "--desc", help="Sort largest first."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON: a list of rows."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
    markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table."),
    plot: Optional[Path] = typer.Option(
        None, "--plot", help="Draw parameters and training compute against year to FILE.png "
                             "or .svg (needs the plot extra: pip install 'paramcount[plot]')."),
) -> None:
    """The catalog: each system's parameters and FLOPs recounted from its spec, beside the
    published figures with their sources, and training compute by both methods."""
    from ..curation import catalog as cat
    from ..report import catalog as report

    paths = [i for i in items or [] if Path(i).exists()]
    words = [i for i in items or [] if not Path(i).exists()]
    if len(words) > 1:
        _fail(f"paramcount catalog: {words[1]!r} is neither a spec file nor a folder "
              "(give one name to look for)")
    if sum((json_out, csv_out, markdown)) > 1:
        _fail("paramcount catalog: choose one of --json, --csv, --markdown")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        _fail(f"--plot {plot}: the file name must end in .png, .svg or .pdf")
    entries = cat.load_catalog(paths or None)
    chosen = cat.select(entries, query=words[0] if words else None, domain=domain,
                        since=since, until=until, sort=sort, descending=descending)
    if words and not chosen:
        close = cat.suggest(words[0], entries)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        _fail(f"paramcount catalog: no system matches {words[0]!r}{hint}")
    rows = [e.to_row() for e in chosen]
    if plot is not None:
        report.plot(rows, plot)
    if json_out:
        _print_json(rows)
    elif csv_out:
        _out(report.to_csv(rows))
    elif markdown:
        _out(report.to_markdown(rows))
    elif words and len(rows) == 1:
        _out(report.render_detail(rows[0]))
    else:
        _out(report.render(rows))
    if plot is not None and not json_out and not csv_out and not markdown:
        _out(f"plot written to {plot}")
