"""Issue 21's table, before and after, measured in one run: CPU seconds of whole processes.

Each job is a fresh Python process (start-up included, as a user sees it); its CPU time is
user + system time from ``getrusage(RUSAGE_CHILDREN)`` of a wrapper process, which does not
count the time spent waiting for a core on a shared machine (wall time does). Every job runs
once per tree: the "before" tree (a checkout of the commit before the change) and this one,
interleaved, so both see the same machine load; the ratios within one run are the comparison.

    git archive <base commit> | tar -x -C /tmp/base      # the tree before the change
    python benchmarks/bench_speed.py --before /tmp/base --markdown benchmarks/RESULTS-speed.md

``--startup`` measures only the start-up rows (``paramcount SPEC.yaml`` against ``import
torch``, with the interpreter and the libraries alone beside them as the floor), many rounds,
and with ``--markdown`` replaces only the "## Start-up" section of that file.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, write_results  # noqa: E402

_MEASURE = """
import resource, subprocess, sys, json
cmd, env = json.loads(sys.argv[1]), json.loads(sys.argv[2])
p = subprocess.run(cmd, capture_output=True, text=True, env=env)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "cpu": r.ru_utime + r.ru_stime, "kb": r.ru_maxrss,
                  "out": p.stdout[-2000:], "err": p.stderr[-300:]}))
"""

# count(model) of a 2-layer LSTM 256 -> 512 on T = 100 steps (batch 1): the call's CPU time,
# first call (lazy imports and caches included) and a repeat, beside raw FlopCounterMode
_LSTM = """
import json, time, torch
from torch.utils.flop_counter import FlopCounterMode
from estimator import count
m = torch.nn.LSTM(256, 512, num_layers=2)
x = torch.randn(100, 1, 256)
t = time.process_time(); r = count(m, x); first = time.process_time() - t
t = time.process_time(); r = count(m, x); again = time.process_time() - t
def fcm():
    with FlopCounterMode(display=False) as f:
        m(x)
    return f.get_total_flops()
t = time.process_time(); fcm(); f_first = time.process_time() - t
t = time.process_time(); ff = fcm(); f_again = time.process_time() - t
print(json.dumps({"first": first, "again": again, "fcm_first": f_first, "fcm_again": f_again,
                  "flops": r.forward_flops, "fcm_flops": ff}))
"""


def measure(cmd: list[str], tree: Path, repeat: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(cmd), json.dumps(env)],
                             capture_output=True, text=True, check=True, cwd=tree).stdout
        runs.append(json.loads(out))
    cpu = statistics.median(r["cpu"] for r in runs)
    return {"cpu": cpu, "kb": max(r["kb"] for r in runs), "rc": runs[-1]["rc"],
            "out": runs[-1]["out"], "err": runs[-1]["err"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="the tree before the change")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each cheap job (median)")
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--startup", action="store_true",
                    help="only the start-up rows (see startup())")
    ap.add_argument("--rounds", type=int, default=15, help="with --startup: rounds (median)")
    ap.add_argument("--instructions", action="store_true",
                    help="with --startup: also count each job's instructions under valgrind")
    ap.add_argument("--check", action="store_true",
                    help="only the check rows and their floor (imports): the check section "
                         "of RESULTS-speed.md, printed (--markdown FILE writes it there)")
    args = ap.parse_args()
    if args.check:
        return check_section(args)
    trees = {"before": args.before.resolve(), "after": ROOT}
    if args.startup:
        startup(trees, args)
        return
    py = sys.executable
    la0 = os.getloadavg()[0]
    cheap = args.repeat
    jobs = [
        ("import torch", [py, "-c", "import torch"], cheap),
        ("paramcount archspecs/alexnet.yaml", [py, "-m", "estimator", "archspecs/alexnet.yaml"],
         cheap),
        ("paramcount archspecs/alexnet.yaml --json",
         [py, "-m", "estimator", "archspecs/alexnet.yaml", "--json"], cheap),
        ("paramcount archspecs/gpt3-175b.yaml --set layers=7000 --json",
         [py, "-m", "estimator", "archspecs/gpt3-175b.yaml", "--set", "layers=7000", "--json"],
         cheap),
        ("paramcount check archspecs/resnet50.yaml",
         [py, "-m", "estimator", "check", "archspecs/resnet50.yaml"], 1),
        ("paramcount check archspecs/resnet-152.yaml",
         [py, "-m", "estimator", "check", "archspecs/resnet-152.yaml"], 1),
        ("paramcount check archspecs/gpt2.yaml",
         [py, "-m", "estimator", "check", "archspecs/gpt2.yaml"], 1),
        ("paramcount check archspecs/lstm-seq2seq.yaml",
         [py, "-m", "estimator", "check", "archspecs/lstm-seq2seq.yaml"], 1),
        ("count(model): 2-layer LSTM 256->512, T=100", [py, "-c", _LSTM], 1),
    ]
    res: dict[str, dict[str, dict]] = {}
    for name, cmd, rep in jobs:
        res[name] = {}
        for label, tree in trees.items():
            if rep > 1:
                measure(cmd, tree, 1)   # warm-up: bytecode caches, the file cache
            res[name][label] = measure(cmd, tree, rep)
            sys.stderr.write(f"{name} [{label}]: {res[name][label]['cpu']:.2f} s CPU\n")
    la1 = os.getloadavg()[0]

    def cpu(name, label):
        return res[name][label]["cpu"]

    torch_cpu = {k: cpu("import torch", k) for k in trees}
    lines = ["# Issue 21: the witnesses, start-up and JSON, before and after", "",
             "Command: `python benchmarks/bench_speed.py --before /tmp/base --markdown "
             "benchmarks/RESULTS-speed.md` (before = the tree at the commit before issue 21's "
             "changes, `git archive 55f385c`).  ",
             environment().split(", load average")[0] + f". Load average {la0:.1f} at the start, {la1:.1f} at the end "
             "(2 cores shared with seven other engineers' work). CPU = user + system seconds of "
             "the whole process (start-up included), median of "
             f"{args.repeat} for the cheap jobs, one run for the checks; both trees measured "
             "interleaved in this one run.", "",
             "| job | CPU before (s) | CPU after (s) | after / before | before / import torch "
             "| after / import torch | peak MiB before | peak MiB after |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, _, _ in jobs:
        b, a = res[name]["before"], res[name]["after"]
        bad = [k for k in trees if res[name][k]["rc"] not in (0,)]
        flag = f" (exit {', '.join(str(res[name][k]['rc']) for k in bad)})" if bad else ""
        lines.append(f"| {name}{flag} | {b['cpu']:.2f} | {a['cpu']:.2f} | "
                     f"{a['cpu'] / b['cpu']:.2f} | {b['cpu'] / torch_cpu['before']:.3f} | "
                     f"{a['cpu'] / torch_cpu['after']:.3f} | {b['kb'] / 1024:.0f} | "
                     f"{a['kb'] / 1024:.0f} |")
    js = "paramcount archspecs/alexnet.yaml --json"
    big = "paramcount archspecs/gpt3-175b.yaml --set layers=7000 --json"
    lines += ["", "Ratios the issue asks about (same run):", ""]
    for k in trees:
        lines.append(f"- {k}: layers=7000 `--json` / AlexNet `--json` = "
                     f"{cpu(big, k) / cpu(js, k):.2f} (goal at most 2); start-up "
                     f"`paramcount archspecs/alexnet.yaml` / `import torch` = "
                     f"{cpu('paramcount archspecs/alexnet.yaml', k) / torch_cpu[k]:.3f} "
                     "(goal 0.10); `check resnet50` / `import torch` = "
                     f"{cpu('paramcount check archspecs/resnet50.yaml', k) / torch_cpu[k]:.2f}, "
                     "`check resnet-152` / `import torch` = "
                     f"{cpu('paramcount check archspecs/resnet-152.yaml', k) / torch_cpu[k]:.2f} "
                     "(goal at most 2)")
    lstm = {}
    for k in trees:
        try:
            lstm[k] = json.loads(res["count(model): 2-layer LSTM 256->512, T=100"][k]["out"]
                                 .strip().splitlines()[-1])
        except (ValueError, IndexError):
            lstm[k] = None
    for k, d in lstm.items():
        if d:
            lines.append(f"- {k}: LSTM `count(model)` {d['first']:.3f} s CPU first call, "
                         f"{d['again']:.4f} s repeat ({d['flops']:,} FLOPs); raw "
                         f"FlopCounterMode on the same model {d['fcm_first']:.3f} s first, "
                         f"{d['fcm_again']:.3f} s repeat ({d['fcm_flops']:,} FLOPs: it has "
                         "no formula for the CPU LSTM kernel); count / FlopCounterMode = "
                         f"{d['first'] / d['fcm_first']:.2f} first, "
                         f"{d['again'] / d['fcm_again']:.3f} repeat (goal at most 1.0)")
    text = "\n".join(lines) + "\n"
    print(text)
    write_results(args.markdown, text, [], allow_partial=True)


# what a count cannot start without: typer with its pydantic parameter adapters, pydantic's
# models, PyYAML; exiting as paramcount's process does (gc.freeze, estimator.cli.run)
_LIBRARIES = "import typer, typer._adapters, pydantic.main, yaml, gc; gc.freeze()"


def _instructions(cmd: list[str], tree: Path, env: dict) -> int | None:
    """Instructions executed by ``cmd`` (valgrind's cachegrind without its cache model): a
    figure that, unlike CPU seconds, does not move with the machine's load."""
    import re
    import shutil

    if not shutil.which("valgrind"):
        return None
    p = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                        "--cachegrind-out-file=/dev/null", *cmd], capture_output=True, text=True,
                       env=env, cwd=tree)
    m = re.search(r"I\s+refs:\s+([\d,]+)", p.stderr)
    return int(m.group(1).replace(",", "")) if m else None


def startup(trees: dict[str, Path], args) -> None:
    """The start-up rows: each job a fresh process, in rounds (every job of both trees once per
    round, ``import torch`` and the floor jobs once per round for both), so that both trees
    see the same load; CPU median and minimum over the rounds."""
    py = sys.executable
    rounds = args.rounds
    spec = "archspecs/alexnet.yaml"
    shared = [("import torch", [py, "-c", "import torch"]),
              ("python -c pass (interpreter and site)", [py, "-c", "pass"]),
              ("the libraries alone: `" + _LIBRARIES + "`", [py, "-c", _LIBRARIES])]
    per_tree = [(f"paramcount {spec}", [py, "-m", "estimator", spec]),
                (f"paramcount {spec} --json", [py, "-m", "estimator", spec, "--json"])]
    cpu: dict[tuple[str, str], list[float]] = {}
    la0 = os.getloadavg()[0]
    for name, cmd in per_tree:  # warm-up: bytecode caches, the file cache
        for label, tree in trees.items():
            measure(cmd, tree, 1)
    for r in range(rounds):
        for name, cmd in shared:
            cpu.setdefault((name, "both"), []).append(measure(cmd, ROOT, 1)["cpu"])
        for name, cmd in per_tree:
            for label, tree in trees.items():
                cpu.setdefault((name, label), []).append(measure(cmd, tree, 1)["cpu"])
        sys.stderr.write(f"round {r + 1}/{rounds}\n")
    la1 = os.getloadavg()[0]
    ins = {}
    if args.instructions:
        for name, cmd in shared:
            ins[(name, "both")] = _instructions(cmd, ROOT, _env(ROOT))
        for name, cmd in per_tree:
            for label, tree in trees.items():
                ins[(name, label)] = _instructions(cmd, tree, _env(tree))
    med = {k: statistics.median(v) for k, v in cpu.items()}
    torch = med[("import torch", "both")]
    torch_ins = ins.get(("import torch", "both"))
    lines = ["## Start-up (`paramcount SPEC.yaml` against `import torch`)", "",
             f"Command: `python benchmarks/bench_speed.py --startup --before {args.before}"
             f" --rounds {rounds}{' --instructions' if args.instructions else ''} --markdown "
             "benchmarks/RESULTS-speed.md`.  ",
             environment().split(", load average")[0] + f". Load average {la0:.1f} at the "
             f"start, {la1:.1f} at the end. {rounds} rounds, each job a fresh process with its "
             "bytecode cached (as a user runs it); in every round each job once, both trees "
             "interleaved; CPU = user + system seconds of the whole process.", "",
             "| job | tree | CPU median (s) | CPU min (s) | median / import torch |"
             + (" instructions (M) | instructions / import torch |" if ins else ""),
             "|---|---|---:|---:|---:|" + ("---:|---:|" if ins else "")]
    for name, _ in shared + per_tree:
        for label in (["both"] if (name, "both") in cpu else list(trees)):
            k = (name, label)
            row = (f"| {name} | {label if label != 'both' else '-'} | {med[k]:.3f} | "
                   f"{min(cpu[k]):.3f} | {med[k] / torch:.3f} |")
            if ins:
                n = ins.get(k)
                row += (f" {n / 1e6:,.0f} | {n / torch_ins:.3f} |" if n and torch_ins
                        else " - | - |")
            lines.append(row)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        _replace_section(args.markdown, text)


def _env(tree: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    return env


def _replace_section(path: Path, section: str) -> None:
    """Put ``section`` (a "## Start-up" heading and its text) in place of that section of
    ``path``, leaving every other section as it is; appended if there is none."""
    old = path.read_text().splitlines(keepends=True) if path.exists() else []
    head = section.splitlines()[0].split(" (")[0]
    start = next((i for i, l in enumerate(old) if l.startswith(head)), None)
    if start is None:
        path.write_text("".join(old).rstrip("\n") + "\n\n" + section)
        return
    end = next((i for i in range(start + 1, len(old)) if old[i].startswith("## ")), len(old))
    rest = "".join(old[end:])
    path.write_text("".join(old[:start]) + section + ("\n" + rest if rest else ""))


# the check rows: each check beside the imports it cannot avoid (its floor), and what a count
# on the meta device adds (torch._dynamo, imported by torch's Python meta kernels)
CHECK_HEADING = "## `check`, third pass: no dynamo where CPU can count, cheaper meta counts"
CHECK_SPECS = ("resnet50", "resnet-152", "gpt2", "lstm-seq2seq")
FLOOR = [
    ("import torch", "import torch"),
    ("import torch, torch._dynamo (what a count on meta adds)", "import torch, torch._dynamo"),
    ("import torch, onnx, onnxruntime, fvcore.nn (the witnesses' imports)",
     "import torch, onnx, onnxruntime, fvcore.nn"),
    ("the same + paramcount's check modules (the floor of a check)",
     "import torch, onnx, onnxruntime, fvcore.nn, torch.onnx, estimator.analytic, "
     "estimator.graphs.crosscheck, estimator.report.check, estimator.cli.graphs"),
]


def check_section(args) -> None:
    """The check rows, both trees interleaved: in each of ``--repeat`` rounds every job runs
    once per tree, before and after in turn, ``import torch`` first; each job's ratio to
    ``import torch`` is taken within its round (the load drifts between rounds, and on a
    shared machine CPU seconds swell with it), the median over rounds reported."""
    trees = {"before": args.before.resolve(), "after": ROOT}
    py = sys.executable
    jobs = [(name, [py, "-c", code]) for name, code in FLOOR] + [
        (f"paramcount check archspecs/{s}.yaml",
         [py, "-m", "estimator", "check", f"archspecs/{s}.yaml"]) for s in CHECK_SPECS]
    la0 = os.getloadavg()[0]
    runs: dict[str, dict[str, list]] = {n: {k: [] for k in trees} for n, _ in jobs}
    for name, cmd in jobs:   # warm-up: bytecode and file caches
        for tree in trees.values():
            measure(cmd, tree, 1)
    for _ in range(args.repeat):
        for name, cmd in jobs:
            for label, tree in trees.items():
                r = measure(cmd, tree, 1)
                runs[name][label].append(r)
                sys.stderr.write(f"{name} [{label}]: {r['cpu']:.2f} s CPU (exit {r['rc']})\n")
    la1 = os.getloadavg()[0]

    def med(name, label):
        return statistics.median(r["cpu"] for r in runs[name][label])

    def ratio(name, label):   # to import torch of the same tree and round, median of rounds
        return statistics.median(r["cpu"] / t["cpu"] for r, t in
                                 zip(runs[name][label], runs["import torch"][label]))

    def peak(name, label):
        return max(r["kb"] for r in runs[name][label]) / 1024

    lines = ["| job | CPU before (s) | CPU after (s) | after / before | before / import torch "
             "| after / import torch | peak MiB before | peak MiB after |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, _ in jobs:
        bad = sorted({r["rc"] for k in trees for r in runs[name][k]} - {0})
        flag = f" (exit {', '.join(map(str, bad))})" if bad else ""
        b, a = med(name, "before"), med(name, "after")
        lines.append(f"| {name}{flag} | {b:.2f} | {a:.2f} | {a / b:.2f} | "
                     f"{ratio(name, 'before'):.2f} | {ratio(name, 'after'):.2f} | "
                     f"{peak(name, 'before'):.0f} | {peak(name, 'after'):.0f} |")
    spread = {k: (min(r["cpu"] for r in runs["import torch"][k]),
                  max(r["cpu"] for r in runs["import torch"][k])) for k in trees}
    head = (f"Command: `python benchmarks/bench_speed.py --check --before /tmp/base "
            f"--repeat {args.repeat}`. "
            + environment().split(", load average")[0]
            + f". Load average {la0:.1f} at the start, {la1:.1f} at the end. CPU = user + "
            f"system seconds of the whole process, median of {args.repeat} rounds; in each "
            "round every job ran once per tree, before and after in turn; the ratios to "
            "`import torch` are the median of each round's ratio (`import torch` itself "
            + ", ".join(f"{lo:.2f}-{hi:.2f} s {k}" for k, (lo, hi) in spread.items())
            + ").")
    text = CHECK_HEADING + "\n\n" + head + "\n\n" + "\n".join(lines) + "\n"
    print(text)
    if args.markdown:   # only this section of the file is replaced
        _replace_section(args.markdown, text)

if __name__ == "__main__":
    main()
