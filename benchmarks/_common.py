"""What every benchmark shares: the environment line of a results file, and the rule that a
partial run (a peer tool missing) never overwrites committed results."""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> str:
    """'Machine: <cpu> (N cores), Python x.y.z, torch a.b.c, <date>' for a results file."""
    try:
        import torch

        tv = f"torch {torch.__version__}"
    except ImportError:
        tv = "torch not installed"
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at the start"
    return (f"Machine: {cpu_name()} ({os.cpu_count()} cores), Python "
            f"{platform.python_version()}, {tv}, {time.strftime('%Y-%m-%d')}{load}.")


MISSING = ("ModuleNotFoundError", "No module named", "ImportError")


def write_results(path: Path | None, text: str, rows: list[dict], *, allow_partial: bool) -> None:
    """Write ``text`` to ``path`` unless a row failed for a missing package (a partial run
    would replace measured rows with 'cannot' rows): then exit 2 naming what to install."""
    if path is None:
        return
    missing = [f"{r.get('tool', r.get('job', '?'))}" for r in rows
               if any(m in str(r.get("error", "")) for m in MISSING)]
    if missing and not allow_partial:
        sys.stderr.write(f"not writing {path}: {', '.join(sorted(set(missing)))} could not run "
                         "(a package is missing): pip install -e '.[bench]' and run again, or "
                         "pass --allow-partial\n")
        sys.exit(2)
    path.write_text(text)


def proc_status(key: str) -> int:
    """A byte figure of /proc/self/status (VmHWM: peak resident memory, VmRSS: resident)."""
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> bool:
    """Reset VmHWM to the current resident size (Linux clear_refs), so a later peak is what the
    code in between needed; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
