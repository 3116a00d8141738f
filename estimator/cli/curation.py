"""Curator commands: verify (submitted parameter and compute figures, in bulk)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .common import _fail, _out, app

_PROGRESS_MIN_ROWS = 200  # a progress bar only for files this large, and only on a terminal
_SUFFIX_FORMAT = {".json": "json", ".jsonl": "json", ".csv": "csv", ".md": "markdown",
                  ".markdown": "markdown", ".txt": "table"}


def _choice(value: Optional[str], allowed: tuple, option: str) -> Optional[str]:
    if value is not None and value not in allowed:
        _fail(f"paramcount verify: option {option}: {value!r} is not one of {', '.join(allowed)}")
    return value


@app.command("verify")
def verify_cmd(
    file: Path = typer.Argument(..., help="Submissions: CSV (Epoch AI's column names work as "
                                          "they are) or JSON lines."),
    fmt: str = typer.Option("table", "--format", help="table, csv, json or markdown."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="Write the full report (every row) to FILE; its "
                                               "format follows the suffix (.json, .csv, .md) or --format."),
    only: Optional[str] = typer.Option(None, "--only", help="List only rows with this verdict: "
                                                             "flagged, verified, consistent, "
                                                             "not-checkable (or all)."),
    specs_dir: list[Path] = typer.Option([], "--specs-dir",
                                         help="Also allow Spec paths named in rows inside this "
                                              "folder (repeatable); by default only the input "
                                              "file's own folder."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on",
                                          help="'flagged': exit 1 when any row is flagged."),
) -> None:
    """Check submitted parameters and training compute, row by row: against the catalog spec,
    6·N·D and the hardware (chips x dense peak x time). The input file is never modified."""
    from ..curation.verify import verify
    from ..report import verify as report
    from ..safety import check_output, write_output

    fmt = _choice(fmt, report.FORMATS, "--format")
    only = _choice(only, report.ONLY, "--only")
    _choice(fail_on, ("flagged",), "--fail-on")
    if output is not None:   # fail fast: no report onto the input, by name or through a link
        check_output(output, [file], what="-o")

    bar = None
    if sys.stderr.isatty():
        bar = _ProgressBar()
    try:
        records = verify(file, specs_dirs=specs_dir, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()

    if output is not None:
        out_fmt = _SUFFIX_FORMAT.get(output.suffix.lower(), fmt)
        write_output(output, report.render(records, out_fmt, "all") + "\n", [file], what="-o")
    _out(report.render(records, fmt, only))
    if fail_on == "flagged" and any(r.verdict == "flagged" for r in records):
        raise typer.Exit(1)


class _ProgressBar:
    """A rich progress bar on stderr, started only once a file proves large."""

    def __init__(self):
        self.bar = None
        self.task = None

    def update(self, done: int, total: int) -> None:
        if total < _PROGRESS_MIN_ROWS:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("verifying rows", total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
