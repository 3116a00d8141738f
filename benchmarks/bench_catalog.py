"""CPU time of `paramcount catalog`: the whole listing at the catalog's size and at 150+
systems, and filtered listings (issue 20 Speed, issue 21's `paramcount catalog llama` row).

Each job is a fresh Python process (start-up included, as a user sees it) after one warm-up
run (bytecode caches exist, as on a user's machine); the figure is the median over repeats of
the child's CPU time (user + system, which does not depend on what else the machine runs).
The 150+ catalog is simulated: a temporary folder holding N copies of every archspec (never
committed), listed with `paramcount catalog FOLDER`.

    python benchmarks/bench_catalog.py                       # prints a Markdown table
    python benchmarks/bench_catalog.py --copies 4 --repeat 7 --markdown benchmarks/RESULTS-catalog.md
"""
from __future__ import annotations

import argparse
import json
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


def cpu_of(cmd: list[str], repeat: int) -> dict:
    """Median CPU seconds of ``cmd`` in a fresh process, after one warm-up run."""
    runs = []
    for i in range(repeat + 1):
        p = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(cmd)],
                           capture_output=True, text=True, check=True)
        r = json.loads(p.stdout)
        if r["rc"] != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {r['err']}")
        if i:
            runs.append(r)
    return {"cpu": statistics.median(r["cpu"] for r in runs), "out": runs[0]["out"]}


def systems(folder: Path) -> int:
    p = subprocess.run([sys.executable, "-m", "estimator", "catalog", str(folder), "--json"],
                       capture_output=True, text=True, check=True)
    return len(json.loads(p.stdout))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=3, help="copies of each archspec in the "
                    "simulated catalog (default 3: 3 x the catalog's systems)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", type=Path, help="write the results file here")
    args = ap.parse_args(argv)
    pc = [sys.executable, "-m", "estimator"]
    env_line = environment()  # the machine and its load when the runs start
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "catalog"
        big.mkdir()
        for src in sorted((ROOT / "archspecs").glob("*.yaml")):
            for i in range(args.copies):
                shutil.copy(src, big / f"{src.stem}-{i}.yaml")
        n_big, n_arch = systems(big), systems(ROOT / "archspecs")
        html = Path(tmp) / "page.html"
        jobs = [
            ("python -c 'import estimator.cli' (start-up floor)",
             [sys.executable, "-c", "import estimator.cli"]),
            (f"paramcount catalog ({n_arch} systems)", pc + ["catalog"]),
            (f"paramcount catalog FOLDER ({n_big} systems)", pc + ["catalog", str(big)]),
            (f"paramcount catalog FOLDER --json ({n_big} systems)",
             pc + ["catalog", str(big), "--json"]),
            ("paramcount catalog llama", pc + ["catalog", "llama"]),
            ("paramcount catalog --domain vision", pc + ["catalog", "--domain", "vision"]),
            (f"paramcount catalog FOLDER llama ({n_big} systems)",
             pc + ["catalog", str(big), "llama"]),
            ("paramcount catalog 'GPT-3 175B' (one system, detail)",
             pc + ["catalog", "GPT-3 175B"]),
        ]
        rows = []
        for label, cmd in jobs:
            r = cpu_of(cmd, args.repeat)
            rows.append({"job": label, **r})
            print(f"{label}: {r['cpu']:.3f} s CPU", file=sys.stderr)
        page = None
        try:
            subprocess.run(pc + ["catalog", "--html", str(html)], capture_output=True, check=True)
            page = html.stat().st_size
        except subprocess.CalledProcessError:
            pass
    lines = ["# `paramcount catalog`: CPU time at 150+ systems", "",
             "Command: `python benchmarks/bench_catalog.py --copies %d --repeat %d --markdown "
             "benchmarks/RESULTS-catalog.md`: each job a fresh process after a warm-up run, "
             "median CPU (user + system) of %d runs. The large catalog is a temporary folder "
             "holding %d copies of every archspec." % (args.copies, args.repeat, args.repeat,
                                                        args.copies), "",
             env_line, "",
             "| job | CPU (s) | output (bytes) |", "|---|---:|---:|"]
    lines += [f"| {r['job']} | {r['cpu']:.3f} | {r['out']:,} |" for r in rows]
    if page is not None:
        lines += ["", f"`paramcount catalog --html` ({n_arch} systems): one self-contained page "
                      f"of {page:,} bytes ({page / 2**20:.2f} MiB)."]
    text = "\n".join(lines) + "\n"
    print(text)
    write_results(args.markdown, text, rows, allow_partial=True)


if __name__ == "__main__":
    main()
