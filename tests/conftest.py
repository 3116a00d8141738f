"""Shared fixtures."""
from __future__ import annotations

import os

import pytest

# torch on one intra-op thread in the suite and in the CLI processes it starts (set before
# any test imports torch): the tests' tensors are small, and on a shared two-core machine the
# second thread's spin-waits cost several times the arithmetic (tests/test_model_unchanged.py:
# 52 s CPU on two threads, 14 s on one). The witnesses do the same (crosscheck._one_thread).
os.environ.setdefault("OMP_NUM_THREADS", "1")


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
