"""The README's two opening commands are what CI runs and what a new user types."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", readme)[:2]


def test_readme_opens_with_run_and_test_commands():
    run, test = _commands()
    assert run.endswith("paramcount archspecs/alexnet.yaml")
    assert test.endswith("python -m pytest")
    assert "python3 -m venv" in run and "python3 -m venv" in test


def test_ci_runs_the_readme_test_command():
    _, test = _commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci
