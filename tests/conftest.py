"""Shared fixtures."""
from __future__ import annotations

import os

import pytest

# torch on one intra-op thread in the suite and in the CLI processes it starts (set before
# any test imports torch): the tests' tensors are small, and on a shared two-core machine the
# second thread's spin-waits cost several times the arithmetic (tests/test_model_unchanged.py:
# 52 s CPU on two threads, 14 s on one). The witnesses do the same (crosscheck._one_thread).
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _glibc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    import ctypes
    import ctypes.util

    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def _resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


_TRIM = _glibc_trim() if os.path.exists("/proc/self/statm") else None
#: a test that leaves the process this much larger than it was after the last trim (or
#: than the smallest it has been since) is followed by a trim
_TRIM_STEP = 64 * 2**20
_low = [0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a test that grew the process, hand glibc's freed heap back to the system.

    glibc keeps what a test frees (torch's tensors of a CPU build, ONNX graphs, onnxruntime's
    sessions) in its heaps, and the suite's resident size only grows: measured over six
    catalog cross-checks (alphago-zero to xception) it held 822 MB, of which 441 MB were free
    heap that ``malloc_trim(0)`` returns (381 MB after), so the next big test (VGG16's 138M
    weights in tests/test_model_unchanged.py) starts from what is live, not from every
    earlier peak. A trim costs about 0.4 ms; it runs only after a test that left the process
    ``_TRIM_STEP`` larger."""
    yield
    if _TRIM is None:
        return
    now = _resident_bytes()
    if now > _low[0] + _TRIM_STEP:
        _TRIM(0)
        _low[0] = _resident_bytes()
    else:
        _low[0] = min(_low[0], now)


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
