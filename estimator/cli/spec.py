"""Spec commands: count (the default), kinds, schema."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import _out, _parse_sets, _print_json, app, progress

Depth = typer.Option(None, "--depth", min=0, help="Show the layer tree down to depth N.")


def load(path: Path, overrides: dict):
    """A spec from a file, or from stdin for ``-``."""
    import sys

    from .. import analytic

    if str(path) == "-":
        return analytic.load_spec_text(sys.stdin.read(), "<stdin>", overrides=overrides)
    return analytic.load_spec(path, overrides=overrides)


@app.command("count")
def count_cmd(
    specs: List[Path] = typer.Argument(..., help="One or more spec YAML files (- reads stdin)."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
    depth: Optional[int] = Depth,
    expand: bool = typer.Option(False, "--expand",
                                help="One row per repeated copy (default: a run of identical "
                                     "copies is one row, 0-95 (x96); in JSON one row with "
                                     "copies: 96)."),
    causal_half: bool = typer.Option(
        False, "--causal-half",
        help="Count causal attention score/value products as half the full matrix."),
    set_vars: List[str] = typer.Option([], "--set", help="Override a spec variable: NAME=EXPR."),
) -> None:
    """Count parameters and FLOPs of spec files (the default command)."""
    from .. import analytic
    from ..report import text as report

    overrides = _parse_sets(set_vars)
    with progress("counting " + ", ".join(map(str, specs))):
        results = [analytic.analyze(load(p, overrides), causal="half" if causal_half else "full")
                   for p in specs]
        if json_out:
            data = [report.to_json(r, depth=depth, expand=expand) for r in results]
            text = None
        elif len(results) == 1:
            text = report.render(results[0], depth=depth, expand=expand)
        else:
            text = report.render_comparison(results)
    if text is None:
        _print_json(data[0] if len(data) == 1 else data)
    else:
        _out(text)


@app.command("kinds")
def kinds_cmd(json_out: bool = typer.Option(False, "--json", help="Print only JSON."),
              markdown: bool = typer.Option(False, "--markdown",
                                            help="Print the README's spec reference.")) -> None:
    """List every layer kind with its keys and defaults."""
    from ..layers import registry
    from ..report import text as report

    kinds = registry.describe_all()
    if json_out:
        _print_json(kinds)
    elif markdown:
        _out(report.render_kinds_markdown(kinds))
    else:
        _out(report.render_kinds(kinds))


@app.command("schema")
def schema_cmd(json_out: bool = typer.Option(True, "--json",
                                             help="Print JSON (the only format; accepted for "
                                                  "symmetry with the other commands).")) -> None:
    """Print the JSON Schema of the spec language (for editors)."""
    from ..spec.schema import json_schema

    _print_json(json_schema())
