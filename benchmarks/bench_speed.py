"""Issue 21's table, before and after, measured in one run: CPU seconds of whole processes.

Each job is a fresh Python process (start-up included, as a user sees it); its CPU time is
user + system time from ``getrusage(RUSAGE_CHILDREN)`` of a wrapper process, which does not
count the time spent waiting for a core on a shared machine (wall time does). Every job runs
once per tree: the "before" tree (a checkout of the commit before the change) and this one,
interleaved, so both see the same machine load; the ratios within one run are the comparison.

    git archive <base commit> | tar -x -C /tmp/base      # the tree before the change
    python benchmarks/bench_speed.py --before /tmp/base --markdown benchmarks/RESULTS-speed.md
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
    ap.add_argument("--check", action="store_true",
                    help="only the check rows and their floor (imports): the check section "
                         "of RESULTS-speed.md, printed (--markdown FILE writes it there)")
    args = ap.parse_args()
    if args.check:
        return check_section(args)
    trees = {"before": args.before.resolve(), "after": ROOT}
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


# the check rows: each check beside the imports it cannot avoid (its floor), and what a count
# on the meta device adds (torch._dynamo, imported by torch's Python meta kernels)
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
    text = head + "\n\n" + "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)

if __name__ == "__main__":
    main()
