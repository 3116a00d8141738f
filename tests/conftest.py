"""Shared fixtures."""
from __future__ import annotations

import pytest


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``paramcount ARGS`` in-process (torch stays imported across tests): returns
    ``(exit code, stdout, stderr)``; ``cwd=`` runs it from another folder."""
    from estimator.cli import main

    def run(*args, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        with pytest.raises(SystemExit) as ex:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        return ex.value.code, out, err

    return run
