"""The paramcount command: the only code that prints or exits.

``paramcount SPEC.yaml`` counts a spec (a path as first argument means ``count``); the other
commands are subcommands, one module per command group. A file named like a subcommand is
reached with ``paramcount count FILE``.
Exit codes: 0 success, 1 a check found a discrepancy, 2 bad input (one line on stderr).
"""
from __future__ import annotations

import os
import sys

# The command line validates its own specs and has no use for pydantic plugins (observability
# hooks found through package entry points): not scanning for them saves start-up time.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
if os.environ["PYDANTIC_DISABLE_PLUGINS"] == "__all__" and \
        "pydantic.plugin._loader" not in sys.modules:
    # pydantic checks that variable only after importing its plugin loader, which imports
    # importlib.metadata (about 15 ms of start-up) to scan entry points: with every plugin
    # disabled, the loader's one function has one answer, no plugins
    import types

    _loader = types.ModuleType("pydantic.plugin._loader")
    _loader.get_plugins = lambda: ()
    sys.modules["pydantic.plugin._loader"] = _loader

import importlib

import typer

from ..errors import PCError
from .common import app, tidy_help

__all__ = ["app", "main", "COMMANDS"]

# Each command -> the module of estimator.cli that registers it. `paramcount WORD` imports
# only WORD's module (start-up: the others' imports cost more than the command itself);
# `paramcount --help` imports them all, and lists the commands in this order. A new command
# is one line here.
COMMANDS = {
    "count": "spec", "kinds": "spec", "schema": "spec",
    "catalog": "catalog",
    "verify": "curation", "trends": "trends",
    "model": "graphs", "check": "graphs", "export": "graphs", "onnx": "graphs",
    "hardware": "costs", "compute": "costs", "train": "costs",
    "memory": "budget", "infer": "budget", "plan": "budget",
}


def _load(commands=None) -> None:
    """Import the modules registering ``commands`` (all of them when None), in table order."""
    words = COMMANDS if commands is None else commands
    for module in dict.fromkeys(COMMANDS[w] for w in words if w in COMMANDS):
        importlib.import_module(f"{__name__}.{module}")
    # --help lists the commands in table order, whichever module was imported first
    order = {w: i for i, w in enumerate(COMMANDS)}
    app.registered_commands.sort(key=lambda c: order.get(
        c.name or c.callback.__name__.replace("_", "-"), len(order)))


def _command_names() -> set[str]:
    names = set(COMMANDS)
    for cmd in app.registered_commands:
        names.add(cmd.name or cmd.callback.__name__.replace("_", "-"))
    return names


def _not_a_command(word: str) -> str | None:
    """A first word that is no file and no command but close to one: the typo it is."""
    import difflib
    from pathlib import Path

    if Path(word).exists() or Path(word).suffix or "/" in word or "\\" in word:
        return None
    close = difflib.get_close_matches(word, sorted(_command_names()), n=1, cutoff=0.6)
    return close[0] if close else None


def main(argv: list[str] | None = None) -> None:
    """Entry point: a first argument that is not a subcommand (or an option) means ``count``;
    ``-`` is a spec read from stdin."""
    args = list(sys.argv[1:] if argv is None else argv) or ["--help"]
    if args[0] == "-" or not args[0].startswith("-") and args[0] not in _command_names():
        typo = _not_a_command(args[0]) if args[0] != "-" else None
        if typo:
            sys.stderr.write(f"paramcount: {args[0]!r} is neither a command nor a file "
                             f"(did you mean `{typo}`?)\n")
            sys.exit(2)
        args.insert(0, "onnx" if args[0].lower().endswith(".onnx") else "count")
    _load([args[0]] if args[0] in COMMANDS else None)   # an option (--help): every command
    try:
        command = typer.main.get_command(app)
        tidy_help(command)
        rc = command.main(args=args, prog_name="paramcount", standalone_mode=False)
    except PCError as err:
        sys.stderr.write(str(err) + "\n")
        sys.exit(err.exit_code)
    except typer.Exit as ex:
        sys.exit(ex.exit_code)
    except SystemExit:
        raise
    except RecursionError:  # a limit should have caught it first; never a traceback
        sys.stderr.write("paramcount: the input is nested too deeply to process\n")
        sys.exit(2)
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
