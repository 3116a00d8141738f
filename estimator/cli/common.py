"""What every command group shares: the typer app, output helpers, shared option types."""

import sys
import threading
from contextlib import contextmanager
from typing import List

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Parameter, FLOP and training-compute counts for neural networks.\n\n"
         "paramcount SPEC.yaml [SPEC2.yaml ...] counts specs (- reads one from stdin); "
         "see the subcommands below.",
)


def version() -> str:
    """The version of the code running (the package's ``__version__``) and Python's."""
    import platform

    return (f"paramcount {getattr(sys.modules.get('estimator'), '__version__', 'unknown')} "
            f"(python {platform.python_version()})")


def _show_version(value: bool) -> None:
    if value:
        _out(version())
        raise typer.Exit(0)


@app.callback()
def _root(show_version: bool = typer.Option(False, "--version", is_eager=True,
                                             callback=_show_version,
                                             help="Print the version and exit.")) -> None:
    pass


def tidy_help(command) -> None:
    """Usage lines a user can read: ``--depth INTEGER``, ``--set TEXT``, ``SPECS...``
    instead of typer's ``<int>`` and ``<list[str]>``."""
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)
    import typing

    names = {int: "INTEGER", float: "NUMBER", str: "TEXT"}
    for p in command.params:
        if p.metavar is not None or getattr(p, "is_flag", False):
            continue
        if p.param_type_name == "argument":
            p.metavar = p.name.upper()
            p.display_type_rich = lambda ctx: None  # the name says it (typer adds <type>)
            continue
        ann = p.type_descriptor.annotation
        if typing.get_origin(ann) is list and typing.get_args(ann):
            ann = typing.get_args(ann)[0]
        p.metavar = names.get(ann) or getattr(ann, "__name__", "VALUE").upper()


@contextmanager
def progress(label: str, delay: float = 1.0, stream=None):
    """A spinner with ``label`` on stderr while the block runs, shown only on a terminal and
    only once the work has taken ``delay`` seconds."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield
        return
    from rich.console import Console

    status = Console(file=stream, force_terminal=True).status(label)
    lock = threading.Lock()
    state = {"done": False}

    def start():
        with lock:
            if not state["done"]:
                status.start()

    timer = threading.Timer(delay, start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            status.stop()


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _print_json(data) -> None:
    # no indent: json.dumps uses its C encoder only without one (about 5x faster on large
    # reports); the output is for programs, one line. json is imported here, not at the top:
    # a text report does without it (its import compiles the decoder's patterns, 5M
    # instructions of start-up)
    import json

    _out(json.dumps(data, default=str))


def _fail(message: str, code: int = 2) -> None:
    sys.stderr.write(" ".join(str(message).split("\n")) + "\n")
    raise typer.Exit(code)


def finite(value):
    """A typer callback for number options: ``nan``, ``inf`` and ``1e400`` (which reads as
    infinity) are usage errors, one line with exit 2, before any work."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def _parse_sets(items: List[str]) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            _fail(f"--set {item!r}: expected NAME=EXPR, e.g. --set d_model=64")
        out[name.strip()] = value.strip()
    return out
