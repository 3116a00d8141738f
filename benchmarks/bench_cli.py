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
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALEXNET = ROOT / "archspecs" / "alexnet.yaml"

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
print(json.dumps({"rc": p.returncode, "s": dt, "kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "err": p.stderr[-300:]}))
"""


def measure(cmd: list[str]) -> dict:
    """Wall time and peak RSS of one fresh process running ``cmd``."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(cmd)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def analytic_all_specs() -> tuple[int, float]:
    from estimator.analytic import analyze, load_spec

    specs = sorted((ROOT / "archspecs").glob("*.yaml"))
    analyze(load_spec(specs[0]))  # warm the imports
    t = time.perf_counter()
    for p in specs:
        analyze(load_spec(p))
    return len(specs), time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows = []
    for name, cmd in JOBS.items():
        runs = [measure(cmd) for _ in range(args.repeat)]
        if any(r["rc"] for r in runs):
            rows.append((name, None, None, f"cannot: {runs[0]['err'].strip().splitlines()[-1:]}"))
            continue
        rows.append((name, statistics.median(r["s"] for r in runs), max(r["kb"] for r in runs), ""))
    base_s, base_kb = rows[0][1], rows[0][2]
    print(f"| job | wall time / import torch | peak memory / import torch | wall (s) | peak (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name, s, kb, note in rows:
        if s is None:
            print(f"| {name} | {note} | | | |")
        else:
            print(f"| {name} | {s / base_s:.3f} | {kb / base_kb:.3f} | {s:.3f} | {kb / 1024:.0f} |")
    n, dt = analytic_all_specs()
    print(f"\nanalytic count of all {n} archspecs in-process (load + analyze): {dt * 1000:.1f} ms "
          f"({dt * 1000 / n:.1f} ms per spec)")
    print(f"median of {args.repeat} runs per job; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
