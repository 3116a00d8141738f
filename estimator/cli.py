"""The paramcount command: the only code that prints or exits.

``paramcount SPEC.yaml`` counts a spec (a path as first argument means ``count``); the other
commands are subcommands. A file named like a subcommand is reached with ``paramcount count FILE``.
Exit codes: 0 success, 1 a check found a discrepancy, 2 bad input (one line on stderr).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import PCError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Parameter, FLOP and training-compute counts for neural networks.\n\n"
         "paramcount SPEC.yaml [SPEC2.yaml ...] counts specs; see the subcommands below.",
)


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _print_json(data) -> None:
    _out(json.dumps(data, indent=2, default=str))


def _fail(message: str, code: int = 2) -> None:
    sys.stderr.write(" ".join(str(message).split("\n")) + "\n")
    raise typer.Exit(code)


# ===== spec commands: count, kinds, schema (owner: analytic engine) =====================

@app.command("count")
def count_cmd(
    specs: List[Path] = typer.Argument(..., help="One or more spec YAML files."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
    depth: Optional[int] = typer.Option(None, "--depth", help="Collapse the tree below depth N."),
    causal_half: bool = typer.Option(
        False, "--causal-half",
        help="Count causal attention score/value products as half the full matrix."),
    set_vars: List[str] = typer.Option([], "--set", help="Override a spec variable: NAME=EXPR."),
) -> None:
    """Count parameters and FLOPs of spec files (the default command)."""
    from . import analytic
    from .report import text as report

    overrides = _parse_sets(set_vars)
    results = [analytic.analyze(analytic.load_spec(p, overrides=overrides),
                                causal="half" if causal_half else "full") for p in specs]
    if json_out:
        data = [report.to_json(r, depth=depth) for r in results]
        _print_json(data[0] if len(data) == 1 else data)
    elif len(results) == 1:
        _out(report.render(results[0], depth=depth))
    else:
        _out(report.render_comparison(results))


def _parse_sets(items: List[str]) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            _fail(f"--set {item!r}: expected NAME=EXPR, e.g. --set d_model=64")
        out[name.strip()] = value.strip()
    return out


@app.command("kinds")
def kinds_cmd(json_out: bool = typer.Option(False, "--json", help="Print only JSON.")) -> None:
    """List every layer kind with its keys and defaults."""
    from .layers import registry
    from .report import text as report

    kinds = registry.describe_all()
    if json_out:
        _print_json(kinds)
    else:
        _out(report.render_kinds(kinds))


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the spec language (for editors)."""
    from .spec.schema import json_schema

    _print_json(json_schema())


# ===== end spec commands ================================================================

# ===== hardware & compute commands: hardware, compute, train (owner: issue 6) ===========

# ===== end hardware & compute commands ==================================================

# ===== model commands: model (owner: issue 4) ===========================================

# ===== end model commands ===============================================================

# ===== witness commands: check, export (owner: issue 5) =================================

# ===== end witness commands =============================================================


def _command_names() -> set[str]:
    names = set()
    for cmd in app.registered_commands:
        names.add(cmd.name or cmd.callback.__name__.replace("_", "-"))
    return names


def main(argv: list[str] | None = None) -> None:
    """Entry point: a first argument that is not a subcommand (or an option) means ``count``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-") and args[0] not in _command_names():
        args.insert(0, "count")
    try:
        app(args=args, prog_name="paramcount", standalone_mode=False)
    except PCError as err:
        sys.stderr.write(str(err) + "\n")
        sys.exit(err.exit_code)
    except typer.Exit as ex:
        sys.exit(ex.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            sys.stderr.write(f"paramcount: {exc.format_message()}\n")
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
