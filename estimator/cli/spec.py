"""Spec commands: count (the default), kinds, schema."""

from pathlib import Path
from typing import List, Optional

import typer

from .common import _out, _parse_sets, _print_json, app, progress

Depth = typer.Option(None, "--depth", min=0, help="Show the layer tree down to depth N.")


def load(path: Path, overrides: dict, variant: Optional[str] = None):
    """A spec from a file, or from stdin for ``-``."""
    import sys

    from .. import analytic

    if str(path) == "-":
        return analytic.load_spec_text(_stdin_text(), "<stdin>", overrides=overrides,
                                       variant=variant)
    return analytic.load_spec(path, overrides=overrides, variant=variant)


def _stdin_text() -> str:
    """A spec read from stdin, capped at the spec size limit."""
    import sys

    from ..errors import SpecError
    from ..spec.limits import MAX_SPEC_BYTES

    text = sys.stdin.read(MAX_SPEC_BYTES + 1)
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"over the limit of {MAX_SPEC_BYTES:,} characters", file="<stdin>")
    return text


def load_all(path: Path, overrides: dict, variant: Optional[str] = None) -> list:
    """The specs a file stands for: the one ``--variant`` names, else every variant of a size
    family (counted side by side), else the file's one spec."""
    from .. import analytic

    if variant is not None:
        return [load(path, overrides, variant)]
    if str(path) == "-":
        return analytic.load_specs_text(_stdin_text(), "<stdin>", overrides=overrides)
    return analytic.load_specs(path, overrides=overrides)


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
    variant: Optional[str] = typer.Option(
        None, "--variant", help="Count this variant of a size family (its name or an alias); "
                                "without it a family's variants are counted side by side."),
    show_spec: bool = typer.Option(False, "--show-spec",
                                   help="Print the spec a Hugging Face config.json (or an "
                                        "archspec's config:) turns into, as YAML, and stop."),
) -> None:
    """Count parameters and FLOPs of spec files or Hugging Face config.json files (the default
    command)."""
    from .. import analytic
    from ..report import text as report

    overrides = _parse_sets(set_vars)
    if show_spec:
        _out("\n".join(_spec_yaml(p) for p in specs).rstrip("\n"))
        return
    with progress("counting " + ", ".join(map(str, specs))):
        results = [analytic.analyze(spec, causal="half" if causal_half else "full")
                   for p in specs for spec in load_all(p, overrides, variant)]
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


def _spec_yaml(path: Path) -> str:
    """The YAML of the spec ``path`` stands for: a config.json translated, an archspec's
    ``config:`` expanded, any other spec as written."""
    from ..report.spec_yaml import render_spec_yaml
    from ..spec import hf
    from ..spec.yamlload import load_yaml_file

    if hf.is_config_path(path):
        raw = hf.config_file_spec(path)
    else:
        raw = hf.expand_archspec(load_yaml_file(path), str(path))
    load_all(path, {})  # the spec must also load (a config's errors are one line, exit 2)
    return render_spec_yaml(raw)


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
