"""What every command group shares: the typer app, output helpers, shared option types."""
from __future__ import annotations

import json
import sys
from typing import List

import typer

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


def _parse_sets(items: List[str]) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            _fail(f"--set {item!r}: expected NAME=EXPR, e.g. --set d_model=64")
        out[name.strip()] = value.strip()
    return out
