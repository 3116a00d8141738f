"""Cost grows with the model, not faster: the analytic count against the number of layers.

The GPT-3 spec scaled with ``layers=N`` (N = 1 ... 10,000 transformer blocks), a
``shared: true`` (ALBERT-style) stack of N blocks, and a stack of ``repeat: 10**9``. Each
figure is the best of ``--repeat`` in-process runs of load + analyze (and, separately, the
default text table), reported as a ratio to the same job at N = 1: a linear engine has ratios
no faster than N, and a collapsed repeat keeps them flat.

    python benchmarks/bench_scaling.py --markdown benchmarks/RESULTS-scaling.md
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from estimator.analytic import analyze, load_spec  # noqa: E402
from estimator.report.text import render  # noqa: E402

GPT3 = ROOT / "archspecs" / "gpt3-175b.yaml"
SIZES = [1, 10, 100, 1000, 10_000]


def shared_stack(n: int) -> dict:
    return {"name": "shared", "input": {"shape": [128, 64]}, "layers": [
        {"kind": "sequential", "name": "blocks", "repeat": n, "shared": n > 1, "layers": [
            {"kind": "attention", "heads": 4}, {"kind": "mlp", "hidden": 256}]}]}


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(repeat: int) -> list[tuple]:
    rows = []
    for label, make in (("GPT-3 spec, layers=N", lambda n: load_spec(GPT3, overrides={"layers": str(n)})),
                        ("shared: true stack of N blocks", lambda n: load_spec(shared_stack(n)))):
        base = base_table = None
        for n in SIZES:
            t = best(lambda: analyze(make(n)), repeat)
            r = analyze(make(n))
            tt = best(lambda: render(r), repeat)
            base = base or t
            base_table = base_table or tt
            rows.append((label, n, t, t / base, tt / base_table, len(r.layers)))
    n = 10**9
    t = best(lambda: analyze(load_spec({"name": "huge", "input": {"shape": [8, 16]}, "layers": [
        {"kind": "linear", "out": 16, "repeat": n}]})), repeat)
    t1 = best(lambda: analyze(load_spec({"name": "one", "input": {"shape": [8, 16]}, "layers": [
        {"kind": "linear", "out": 16, "repeat": 1}]})), repeat)
    rows.append(("linear, repeat: N", n, t, t / t1, None, 2))
    return rows


def markdown(rows, repeat: int) -> str:
    out = ["# The analytic count against the number of layers", "",
           "Command: `python benchmarks/bench_scaling.py --markdown benchmarks/RESULTS-scaling.md`  ",
           f"Machine: {cpu_name()}, {platform.machine()}, Python {platform.python_version()} "
           f"({platform.python_implementation()}), {time.strftime('%Y-%m-%d')}.  ",
           f"Time: best of {repeat} in-process runs. Ratios are to the same job at N = 1 "
           "(a linear cost has a ratio at most N; the collapsed repeat stays flat).", "",
           "| job | N | load + analyze (s) | analyze / at N=1 | text table / at N=1 | rows |",
           "|---|---:|---:|---:|---:|---:|"]
    for label, n, t, ratio, table, nrows in rows:
        out.append(f"| {label} | {n:,} | {t:.4f} | {ratio:.2f} | "
                   f"{'-' if table is None else f'{table:.2f}'} | {nrows:,} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = ap.parse_args()
    text = markdown(run(args.repeat), args.repeat)
    sys.stdout.write(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
