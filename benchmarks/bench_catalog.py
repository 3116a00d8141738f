"""CPU time of `paramcount catalog`: the whole listing, a larger simulated catalog, and
filtered listings (issue 20 Speed, issue 21's `paramcount catalog llama` row).

Each job is a fresh Python process (start-up included, as a user sees it) after one warm-up
run, so bytecode caches exist as on a user's machine (``PYTHONDONTWRITEBYTECODE`` is dropped
from the children's environment: with it set, every run would compile paramcount's modules
again); the figure is the median over repeats of the child's CPU time (user + system). The
larger catalog is simulated: a temporary folder holding N copies of every archspec (never
committed), listed with `paramcount catalog FOLDER`.

``--before DIR`` measures another source tree too (an exported main: ``git archive main |
tar -x -C DIR``), interleaved run by run with this one, so that both see the same machine
load; each tree runs as ``python -m estimator`` from its own folder with its own archspecs.

    python benchmarks/bench_catalog.py                       # prints a Markdown table
    python benchmarks/bench_catalog.py --before /tmp/main --repeat 7 --markdown benchmarks/RESULTS-catalog.md
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, write_results  # noqa: E402

_MEASURE = """
import resource, subprocess, sys, json
cmd = json.loads(sys.argv[1])
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "cpu": ru.ru_utime + ru.ru_stime,
                  "out": len(p.stdout), "err": p.stderr.decode()[-300:]}))
"""


def _env(tree: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    return env


def _run(cmd: list[str], tree: Path) -> dict:
    p = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(cmd)], cwd=tree,
                       env=_env(tree), capture_output=True, text=True, check=True)
    r = json.loads(p.stdout)
    if r["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {tree}: {r['err']}")
    return r


def cpu_of(cmd: list[str], repeat: int, trees: list[Path]) -> list[dict]:
    """Per tree, the median CPU seconds of ``cmd`` in a fresh process, after one warm-up run;
    the trees' runs alternate."""
    runs: dict[Path, list[dict]] = {t: [] for t in trees}
    for i in range(repeat + 1):
        for t in trees:
            r = _run(cmd, t)
            if i:
                runs[t].append(r)
    return [{"cpu": statistics.median(r["cpu"] for r in runs[t]),
             "min": min(r["cpu"] for r in runs[t]), "out": runs[t][0]["out"]} for t in trees]


def systems(folder: Path) -> int:
    p = subprocess.run([sys.executable, "-m", "estimator", "catalog", str(folder), "--json"],
                       cwd=ROOT, env=_env(ROOT), capture_output=True, text=True, check=True)
    return len(json.loads(p.stdout))


def page_size(tree: Path, html: Path) -> int | None:
    try:
        subprocess.run([sys.executable, "-m", "estimator", "catalog", "--html", str(html)],
                       cwd=tree, env=_env(tree), capture_output=True, check=True)
    except subprocess.CalledProcessError:
        return None
    return html.stat().st_size


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=3, help="copies of each archspec in the "
                    "simulated catalog (default 3: 3 x the catalog's systems)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", type=Path, help="another source tree, measured interleaved")
    ap.add_argument("--markdown", type=Path, help="write the results file here")
    args = ap.parse_args(argv)
    trees = ([args.before.resolve()] if args.before else []) + [ROOT]
    pc = [sys.executable, "-m", "estimator"]
    env_line = environment()  # the machine and its load when the runs start
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "catalog"
        big.mkdir()
        for src in sorted((ROOT / "archspecs").glob("*.yaml")):
            for i in range(args.copies):
                shutil.copy(src, big / f"{src.stem}-{i}.yaml")
        n_big, n_arch = systems(big), systems(ROOT / "archspecs")
        jobs = [
            ("python -c 'import estimator.cli' (start-up floor)",
             [sys.executable, "-c", "import estimator.cli"]),
            (f"paramcount catalog ({n_arch} systems)", pc + ["catalog"]),
            ("paramcount catalog --json", pc + ["catalog", "--json"]),
            (f"paramcount catalog FOLDER ({n_big} systems)", pc + ["catalog", str(big)]),
            ("paramcount catalog llama", pc + ["catalog", "llama"]),
            ("paramcount catalog --domain vision", pc + ["catalog", "--domain", "vision"]),
            (f"paramcount catalog FOLDER llama ({n_big} systems)",
             pc + ["catalog", str(big), "llama"]),
            ("paramcount catalog 'GPT-3 175B' (one system, detail)",
             pc + ["catalog", "GPT-3 175B"]),
        ]
        rows = []
        for label, cmd in jobs:
            got = cpu_of(cmd, args.repeat, trees)
            rows.append({"job": label, "trees": got})
            print(f"{label}: " + " / ".join(f"{g['cpu']:.3f}" for g in got) + " s CPU",
                  file=sys.stderr)
        pages = [page_size(t, Path(tmp) / f"page{i}.html") for i, t in enumerate(trees)]
    end_load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"
    lines = ["# `paramcount catalog`: CPU time", "",
             f"Command: `python benchmarks/bench_catalog.py{' --before DIR' if args.before else ''}"
             f" --copies {args.copies} --repeat {args.repeat} --markdown "
             "benchmarks/RESULTS-catalog.md`: each job a fresh process after a warm-up run, "
             f"median CPU (user + system) of {args.repeat} runs"
             + (", the two trees' runs interleaved" if args.before else "")
             + f". The large catalog is a temporary folder holding {args.copies} copies of "
             "every archspec.", "",
             f"{env_line} Load average {end_load} at the end.", ""]
    if args.before:
        lines += ["| job | before: CPU (s) | after: CPU (s) | after / before | after: fastest run (s) |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {r['job']} | {r['trees'][0]['cpu']:.3f} | {r['trees'][1]['cpu']:.3f} | "
                  f"{r['trees'][1]['cpu'] / r['trees'][0]['cpu']:.2f} | {r['trees'][1]['min']:.3f} |"
                  for r in rows]
    else:
        lines += ["| job | CPU (s) | fastest run (s) | output (bytes) |", "|---|---:|---:|---:|"]
        lines += [f"| {r['job']} | {r['trees'][0]['cpu']:.3f} | {r['trees'][0]['min']:.3f} | "
                  f"{r['trees'][0]['out']:,} |" for r in rows]
    if pages[-1] is not None:
        before = (f" (before: {pages[0]:,} bytes)" if args.before and pages[0] is not None
                  else "")
        lines += ["", f"`paramcount catalog --html` ({n_arch} systems): one self-contained page "
                      f"of {pages[-1]:,} bytes ({pages[-1] / 2**20:.2f} MiB){before}."]
    text = "\n".join(lines) + "\n"
    print(text)
    flat = [{"job": r["job"], "cpu": r["trees"][-1]["cpu"]} for r in rows]
    write_results(args.markdown, text, flat, allow_partial=True)


if __name__ == "__main__":
    main()
