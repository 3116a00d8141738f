"""The catalog command: notable systems recounted beside their published figures."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import require_installed
from ..safety import check_output, write_output
from .common import _fail, _out, _print_json, app


@app.command("catalog")
def catalog_cmd(
    items: List[str] = typer.Argument(
        None, help="Spec files or folders to catalog instead of archspecs/, and/or a name or "
                   "alias to look for: one that names a system exactly (as verify resolves "
                   "it: 'GPT-3 175B (davinci)', 'Llama 2-7B') shows that system, any other "
                   "part of a name lists the systems it is part of ('llama')."),
    domain: Optional[str] = typer.Option(None, "--domain", help="vision, language, speech, "
                                         "multimodal, games, recommendation or biology."),
    since: Optional[int] = typer.Option(None, "--since", help="Published in or after YEAR."),
    until: Optional[int] = typer.Option(None, "--until", help="Published in or before YEAR."),
    sort: str = typer.Option("year", "--sort", help="Column to sort by: year, name, params, "
                             "active_params, forward_flops, flops_per_param, training_compute..."),
    descending: bool = typer.Option(False, "--desc", help="Sort largest first."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON: a list of rows."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
    markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table."),
    page: bool = typer.Option(False, "--page", help="Print the Markdown page docs/catalog.md."),
    plot: Optional[Path] = typer.Option(
        None, "--plot", help="Draw parameters and training compute against year to FILE.png "
                             "or .svg (needs the plot extra: pip install 'paramcount[plot]')."),
    html: Optional[Path] = typer.Option(
        None, "--html", help="Write the catalog as one self-contained web page (charts, "
                             "sortable and filterable table) to FILE.html, or to "
                             "DIR/catalog.html (needs the html extra: pip install "
                             "'paramcount[html]')."),
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
    if sum((json_out, csv_out, markdown, page)) > 1:
        _fail("paramcount catalog: choose one of --json, --csv, --markdown, --page")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        _fail(f"--plot {plot}: the file name must end in .png, .svg or .pdf")
    if html is not None and not (html.suffix.lower() in (".html", ".htm") or html.is_dir()
                                 or not html.suffix):
        _fail(f"--html {html}: give a folder or a file name ending in .html")
    # outputs are checked before any work: the extra installed, the folder there, no input
    # overwritten (by name or link); they are written by safety.write_output at the end
    inputs = cat.spec_files(paths or None)
    if plot is not None:
        require_installed("matplotlib", "plot")
        check_output(plot, inputs, what="--plot")
    if html is not None:
        require_installed("plotly", "html")
        if html.is_dir() or not html.exists() and html.suffix.lower() not in (".html", ".htm"):
            html = html / "catalog.html"  # a folder (one that does not exist is refused)
        check_output(html, inputs, what="--html")
    filters = dict(query=words[0] if words else None, domain=domain, since=since, until=until)
    exact = cat.resolve(words[0], paths or None) if words else None
    if exact is not None:  # the system the name names, as lookup and verify resolve it
        filters["query"] = None
        entries = [cat.entry_of(exact) if not paths else cat.make_entry(*exact)]
    else:
        entries = cat.load_catalog(paths or None, **filters)  # counts only the systems shown
    chosen = cat.select(entries, **filters, sort=sort, descending=descending)
    if words and not chosen:
        close = cat.suggest(words[0], cat.listed(paths or None))
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        _fail(f"paramcount catalog: no system matches {words[0]!r}{hint}")
    rows = [e.to_row() for e in chosen]
    if plot is not None:
        report.plot(rows, plot, inputs=inputs)
    if html is not None:
        from .._version import __version__
        from ..report.catalog_html import page as html_page

        write_output(html, html_page(rows, version=__version__), inputs, what="--html")
    if json_out:
        _print_json(rows)
    elif csv_out:
        _out(report.to_csv(rows))
    elif markdown:  # links to the specs as found from here, not from docs/
        _out(report.to_markdown(rows, links=[_relative(e.spec) for e in chosen]))
    elif page:
        _out(report.catalog_page(rows))
    elif words and len(rows) == 1:
        _out(report.render_detail(rows[0]))
    else:
        _out(report.render(rows))
    if plot is not None and not (json_out or csv_out or markdown or page):
        _out(f"plot written to {plot}")
    if html is not None and not (json_out or csv_out or markdown or page):
        _out(f"page written to {html}")


def _relative(path: Path) -> str:
    """``path`` relative to the current folder where it lies below it, else absolute."""
    import os

    full = Path(path).resolve()
    try:
        return full.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return full.as_posix() if os.sep == "/" else str(full)
