"""Speed and memory of the analytic path, side by side with the torch-based tools, in one run.

Each row is a fresh Python process doing one whole job (start-up included, as a user sees it),
timed over several repeats (median wall time) with its peak resident memory. Ratios are to
``python -c "import torch"`` on the same machine, the floor of any torch-based counter.

    python benchmarks/bench_cli.py            # prints a Markdown table
    python benchmarks/bench_cli.py --repeat 7

Also times the in-process analytic count of every archspec (load + analyze), which must take
milliseconds.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALEXNET = ROOT / "archspecs" / "alexnet.yaml"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, write_results  # noqa: E402

_PEER = """
import torch
from estimator.analytic import load_spec
from estimator.graphs.torch_build import build_module, example_inputs
spec = load_spec({spec!r})
model = build_module(spec, 'cpu')
x = example_inputs(spec, 'cpu')
{body}
"""

JOBS = {
    "python -c 'import torch' (baseline)": [sys.executable, "-c", "import torch"],
    "paramcount archspecs/alexnet.yaml": [sys.executable, "-m", "estimator", str(ALEXNET)],
    "paramcount archspecs/alexnet.yaml --json": [sys.executable, "-m", "estimator",
                                                 str(ALEXNET), "--json"],
    "torch FlopCounterMode on the built AlexNet": [sys.executable, "-c", _PEER.format(
        spec=str(ALEXNET), body="from torch.utils.flop_counter import FlopCounterMode\n"
        "with FlopCounterMode(display=False) as f: model(*x)\nprint(f.get_total_flops())")],
    "fvcore FlopCountAnalysis on the built AlexNet": [sys.executable, "-c", _PEER.format(
        spec=str(ALEXNET), body="from fvcore.nn import FlopCountAnalysis\n"
        "a = FlopCountAnalysis(model, x); a.unsupported_ops_warnings(False); print(a.total())")],
    "ptflops on the built AlexNet": [sys.executable, "-c", _PEER.format(
        spec=str(ALEXNET), body="from ptflops import get_model_complexity_info\n"
        "print(get_model_complexity_info(model, (3, 227, 227), as_strings=False, "
        "print_per_layer_stat=False, verbose=False))")],
    "thop on the built AlexNet": [sys.executable, "-c", _PEER.format(
        spec=str(ALEXNET), body="from thop import profile\nprint(profile(model, inputs=x, verbose=False))")],
}

_MEASURE = """
import resource, subprocess, sys, time, json
cmd = json.loads(sys.argv[1])
t = time.perf_counter()
p = subprocess.run(cmd, capture_output=True, text=True)
dt = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "s": dt, "cpu": r.ru_utime + r.ru_stime, "kb": r.ru_maxrss,
                  "err": p.stderr[-300:]}))
"""


def measure(cmd: list[str]) -> dict:
    """Wall time, CPU time (user + system) and peak RSS of one fresh process running ``cmd``,
    with Python's bytecode caches written and used, as on a user's machine."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(cmd)], capture_output=True,
                         text=True, check=True, env=env).stdout
    return json.loads(out)


def analytic_all_specs() -> tuple[int, float]:
    from estimator.analytic import analyze, load_spec, load_specs

    specs = sorted((ROOT / "archspecs").glob("*.yaml"))
    analyze(load_spec(specs[0]))  # warm the imports
    t = time.perf_counter()
    n = 0
    for p in specs:  # a size family's file holds several systems: each variant is counted
        for spec in load_specs(p):
            analyze(spec)
            n += 1
    return n, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    ap.add_argument("--allow-partial", action="store_true",
                    help="write --markdown even when a peer tool could not run")
    args = ap.parse_args()
    rows = []
    for name, cmd in JOBS.items():
        measure(cmd)  # warm-up: bytecode caches, the OS file cache
        runs = [measure(cmd) for _ in range(args.repeat)]
        if any(r["rc"] for r in runs):
            rows.append({"job": name, "error": f"cannot: {runs[0]['err'].strip().splitlines()[-1:]}"})
            continue
        rows.append({"job": name, "s": statistics.median(r["s"] for r in runs),
                     "cpu": statistics.median(r["cpu"] for r in runs),
                     "kb": max(r["kb"] for r in runs)})
    base = rows[0]
    out = ["# Start-up and the analytic count beside the torch-based tools", "",
           "Command: `python benchmarks/bench_cli.py --markdown benchmarks/RESULTS-cli.md`  ",
           environment() + f" Median of {args.repeat} fresh processes per job after a warm-up "
           "run; CPU = user + system time of the process (what it costs, whatever else the "
           "machine runs); ratios to `python -c \"import torch\"`.", "",
           "| job | CPU / import torch | wall / import torch | peak memory / import torch | CPU (s) | wall (s) | peak (MiB) |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['job']} | {r['error']} | | | | | |")
        else:
            out.append(f"| {r['job']} | {r['cpu'] / base['cpu']:.3f} | {r['s'] / base['s']:.3f} | "
                       f"{r['kb'] / base['kb']:.3f} | {r['cpu']:.3f} | {r['s']:.3f} | {r['kb'] / 1024:.0f} |")
    n, dt = analytic_all_specs()
    out += ["", f"Analytic count of all {n} archspecs in-process (load + analyze): "
            f"{dt * 1000:.1f} ms ({dt * 1000 / n:.1f} ms per spec)."]
    text = "\n".join(out) + "\n"
    print(text)
    write_results(args.markdown, text, rows, allow_partial=args.allow_partial)


if __name__ == "__main__":
    main()
