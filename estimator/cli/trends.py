"""The trends command: doubling times, eras, breaks, large-scale systems and the gap."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import _fail, _out, _print_json, app


@app.command("trends")
def trends_cmd(
    files: List[Path] = typer.Argument(
        None, help="Curator CSV / JSON lines files (Epoch AI's columns as exported), or catalog "
                   "spec files / folders; default: the catalog's recounted figures."),
    metric: str = typer.Option("params", "--metric", help="params, active-params or compute."),
    domain: List[str] = typer.Option(None, "--domain", help="Keep systems of this domain "
                                     "(repeatable; a system with several domains passes when "
                                     "one matches; default all)."),
    by: Optional[str] = typer.Option(None, "--by", help="'domain': one fit per domain (a "
                                     "system with several domains counts in each)."),
    since: Optional[str] = typer.Option(None, "--since", help="Published on or after DATE "
                                        "(YYYY-MM-DD, YYYY-MM or YYYY)."),
    until: Optional[str] = typer.Option(None, "--until", help="Published on or before DATE "
                                        "(2021 means to 2021-12-31)."),
    notable_only: bool = typer.Option(False, "--notable-only", help="Only rows with a "
                                      "'Notability criteria' entry."),
    breaks: Optional[str] = typer.Option(None, "--breaks", help="Era boundaries DATE[,DATE...]: "
                                         "each era gets its own line."),
    find_breaks: bool = typer.Option(False, "--find-breaks", help="Search for the best break "
                                     "date; a break when BIC drops by 10 or more."),
    large_scale: bool = typer.Option(False, "--large-scale", help="Mark the large-scale systems "
                                     "(Sevilla et al.'s rule; --metric compute), fit them and "
                                     "the others as their own trends, and list them."),
    large_scale_since: Optional[str] = typer.Option(
        None, "--large-scale-since", help="Fit the large-scale (and regular-scale) trends from "
                                          "DATE on (the paper's large-scale era: 2015-09-01)."),
    gap: Optional[str] = typer.Option(None, "--gap", help="LOW,HIGH (e.g. 20e9,70e9): systems "
                                      "inside the band against the bands of the same log width "
                                      "below and above."),
    gap_since: str = typer.Option("2020-01-01", "--gap-since", help="--gap counts systems "
                                  "published from DATE on."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap (1,000 resamples, 95% "
                             "interval)."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON: method, fits, breaks, "
                                  "large_scale, gap."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Draw the points and fitted "
                                        "segments to FILE.png or .svg (needs the plot extra)."),
) -> None:
    """Growth of parameters or training compute: a line in log space per era (OLS of log10 on
    the date), doubling times with bootstrap intervals, breaks, large-scale systems, the gap.
    Needs the trends extra: pip install 'paramcount[trends]'. Input files are never modified."""
    from ..curation import trends as tr
    from ..errors import require

    require("numpy", "trends")
    require("scipy", "trends")
    if by is not None and by != "domain":
        _fail(f"--by {by!r}: only 'domain' is supported")
    inputs = [p.resolve() for p in files or []]
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg"):
            _fail(f"--plot {plot}: the file name must end in .png or .svg")
        if not plot.parent.resolve().is_dir():
            _fail(f"--plot {plot}: no such folder {plot.parent}")
        if plot.resolve() in inputs:
            _fail(f"--plot {plot}: that is an input file; write the plot elsewhere")
        require("matplotlib", "plot")
    band = tr.parse_band(gap) if gap is not None else None
    break_dates = [tr.first_day(b.strip(), "breaks") for b in (breaks or "").split(",")
                   if b.strip()]
    if breaks is not None and not break_dates:
        _fail(f"--breaks {breaks!r}: expected DATE[,DATE...] such as 2010-01-01,2015-09-01")
    result = tr.trends(files or None, metric=metric, domains=domain or None, since=since,
                       until=until, notable_only=notable_only, breaks=break_dates,
                       by_domain=by == "domain", find_breaks=find_breaks,
                       large_scale=large_scale, large_scale_since=large_scale_since, gap=band,
                       gap_since=gap_since, seed=seed)
    from ..report import trends as report

    if plot is not None:
        try:
            report.plot(result, plot)
        except OSError as err:
            _fail(f"--plot {plot}: cannot write the plot: {err.strerror or err}")
    if json_out:
        _print_json(report.to_json(result))
        return
    _out(report.render(result))
    if plot is not None:
        _out(f"plot written to {plot}")
