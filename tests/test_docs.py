"""Every transcript the README and docs/ show is what the command prints today.

A transcript is a ```text or ```console block whose lines starting ``$ paramcount ARGS`` are
commands; each line after a command (up to the next) must appear in the real output, in
order (a line ``...`` stands for lines left out), so a figure shown in the docs cannot go
stale. Transcripts of commands that need an optional
package are skipped when it is missing.
"""
from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NEEDS = {"check": "torch", "model": "torch", "export": "onnx", "onnx": "onnx"}


def transcripts():
    for page in PAGES:
        for m in re.finditer(r"```(?:text|console)\n(\$ paramcount .*?)```", page.read_text(), re.S):
            for part in re.split(r"^(?=\$ paramcount )", m.group(1), flags=re.M):
                if part.strip():
                    command, _, shown = part.partition("\n")
                    yield pytest.param(command[2:], shown,
                                       id=f"{page.name}:{command[13:60]}")


@pytest.mark.parametrize("command,shown", list(transcripts()))
def test_transcript_is_true(command, shown, cli):
    args = shlex.split(command)[1:]
    sub = args[0] if args else ""
    if sub in NEEDS and importlib.util.find_spec(NEEDS[sub]) is None:
        pytest.skip(f"needs {NEEDS[sub]}")
    code, out, err = cli(*args, cwd=ROOT)
    text = out + err
    lines = [line.rstrip() for line in text.splitlines()]
    pos = 0
    for want in (line.rstrip() for line in shown.rstrip().splitlines()):
        if want.strip() in ("...", ""):
            continue
        try:
            pos = lines.index(want, pos) + 1
        except ValueError:
            raise AssertionError(f"`{command}` no longer prints (in this order):\n{want}") from None


def test_pages_link_to_files_that_exist():
    for page in PAGES:
        for target in re.findall(r"\]\((?!https?:|#|mailto:)([^)#\s]+)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to a missing {target}"
