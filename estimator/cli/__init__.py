"""The paramcount command: the only code that prints or exits.

``paramcount SPEC.yaml`` counts a spec (a path as first argument means ``count``); the other
commands are subcommands, one module per command group. A file named like a subcommand is
reached with ``paramcount count FILE``.
Exit codes: 0 success, 1 a check found a discrepancy, 2 bad input (one line on stderr).
"""
from __future__ import annotations

import sys

import typer

from ..errors import PCError
from . import budget, catalog, costs, curation, graphs, spec  # noqa: F401  (each registers its commands)
from .common import app

__all__ = ["app", "main"]


def _command_names() -> set[str]:
    names = set()
    for cmd in app.registered_commands:
        names.add(cmd.name or cmd.callback.__name__.replace("_", "-"))
    return names


def main(argv: list[str] | None = None) -> None:
    """Entry point: a first argument that is not a subcommand (or an option) means ``count``."""
    args = list(sys.argv[1:] if argv is None else argv) or ["--help"]
    if args and not args[0].startswith("-") and args[0] not in _command_names():
        args.insert(0, "onnx" if args[0].lower().endswith(".onnx") else "count")
    try:
        rc = app(args=args, prog_name="paramcount", standalone_mode=False)
    except PCError as err:
        sys.stderr.write(str(err) + "\n")
        sys.exit(err.exit_code)
    except typer.Exit as ex:
        sys.exit(ex.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # usage errors from typer's click (vendored as typer._click)
        names = {c.__name__ for c in type(exc).__mro__}
        if "ClickException" in names:
            message = " ".join(exc.format_message().split())
            hint = getattr(getattr(exc, "param", None), "opts", None)
            where = f"option {hint[0]}: " if hint and hint[0] not in message else ""
            sys.stderr.write(f"paramcount: {where}{message}\n")
            sys.exit(2)
        if "Abort" in names:
            sys.exit(130)
        raise
    # without standalone mode, click returns the code of a typer.Exit instead of raising it
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
