"""Speed of ``paramcount verify`` on a realistic 2,000-row submissions file.

The file is made here, deterministically (``--seed``), in Epoch AI's column layout: systems of
the catalog and unknown ones, hardware names as datasets spell them (including cells listing two
parts), fine-tunes with and without their own compute, messy cells (thousands separators, '~',
'3.1E+23', '175B', blanks, text in numeric columns, trailing spaces), and deliberate slips.
Each timing is a fresh process, start-up included (as a user sees it), median of ``--repeat``
runs; the ratio is to ``python -c "import csv"`` start-up on the same machine.

    python benchmarks/bench_verify.py                 # writes benchmarks/data/submissions-2000.csv
    python benchmarks/bench_verify.py --rows 2000 --repeat 5
    python benchmarks/bench_verify.py --sample        # the measures of issue 18 on the shared sample

``--sample`` runs verify on Epoch AI's shared sample (``<repo>/../shared/data/``) and reports:
the flag precision on the judged subset (``tests/data/verify-judged.csv``: every flagged row
judged against its own notes; a judged row whose codes changed is listed, not counted), the
flags per code, the verdict counts, the share of rows with a Parameters figure that were
recounted, and the time of a fresh process (with a check that torch was not imported).
"""
from __future__ import annotations

import argparse
import csv
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "data" / "submissions-2000.csv"

HEADER = ["Model", "Organization", "Domain", "Publication date", "Parameters",
          "Training compute (FLOP)", "Training dataset size (datapoints)", "Epochs",
          "Training time (hours)", "Training hardware", "Hardware quantity",
          "Hardware utilization (MFU)", "Base model", "Finetune compute (FLOP)", "Confidence",
          "Notes"]
HARDWARE = ["NVIDIA A100 SXM4 80 GB", "NVIDIA A100", "NVIDIA H100 SXM5 80GB", "NVIDIA V100",
            "NVIDIA Tesla V100 DGXS 32 GB", "Google TPU v3", "Google TPU v4", "NVIDIA Tesla K80",
            "NVIDIA Tesla P100", "NVIDIA GeForce RTX 2080 Ti 11GB", "NVIDIA A800 PCIe 40 GB",
            "Google TPU v4,Google TPU v3", "Huawei Ascend 910", "AMD Radeon Instinct MI250X",
            "NVIDIA GeForce GTX 1080 Ti", "Graphcore IPU Mk2"]
CATALOG = ["GPT-3 175B", "AlexNet", "ResNet-50", "GPT-2 small", "Mixtral 8x7B", "VGG-16",
           "Transformer (base)"]


def _num(rng: random.Random, v: float) -> str:
    """A figure as a spreadsheet might hold it."""
    style = rng.random()
    if style < 0.5:
        return f"{v:.3g}"
    if style < 0.65:
        return f"{v:.2E}"
    if style < 0.75:
        return "~" + f"{v:.2g}"
    if style < 0.85 and v < 1e15:
        return f"{v:,.0f}"
    if style < 0.95 and 1e9 <= v < 1e13:
        return f"{v / 1e9:.3g}B"
    return f"{v:.3g} "


def make_rows(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        language = rng.random() < 0.7
        name = rng.choice(CATALOG) if rng.random() < 0.25 else f"System-{i}"
        params = 10 ** rng.uniform(6, 11.5)
        tokens = 20 * params * 10 ** rng.uniform(-0.5, 0.5)
        compute = 6 * params * tokens * 10 ** rng.uniform(-0.15, 0.15)
        hw = rng.choice(HARDWARE)
        chips = rng.choice([1, 8, 64, 256, 1024, 4096])
        peak = 150e12
        hours = compute / (chips * peak * rng.uniform(0.2, 0.5) * 3600)
        base = ft = ""
        r = rng.random()
        if r < 0.05:
            compute *= 1000                       # unit slip
        elif r < 0.08:
            compute = 5                           # typing slip
        elif r < 0.12:
            base = "LLaMA-7B"
            ft = _num(rng, compute / 1000) if rng.random() < 0.5 else ""
        cells = [name + (" " if rng.random() < 0.1 else ""), "Lab", "Language" if language else "Vision",
                 f"20{rng.randint(12, 24)}-01-01", _num(rng, params),
                 "" if rng.random() < 0.05 else _num(rng, compute),
                 _num(rng, tokens if language else 1.28e6), "" if language else "90",
                 "see paper" if rng.random() < 0.02 else _num(rng, max(hours, 0.1)), hw,
                 str(chips), "" if rng.random() < 0.8 else f"{rng.uniform(20, 55):.0f}%", base,
                 ft, rng.choice(["Confident", "Likely", "Speculative"]),
                 "multi-line\nnote" if rng.random() < 0.05 else ""]
        rows.append(cells)
    return rows


def write_file(path: Path, n: int, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(make_rows(n, seed))
    return path


def timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of a fresh process. CPU time is the steadier
    figure on a shared machine: wall time there includes waiting for a core."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr.strip()[-300:]}")
    return statistics.median(walls), statistics.median(cpus)


SAMPLE = ROOT.parent / "shared" / "data" / "epoch-all-ml-systems-sample.csv"
JUDGED = ROOT / "tests" / "data" / "verify-judged.csv"


def measure_sample(repeat: int) -> None:
    """The measures of issue 18 on the shared sample, as a Markdown report on stdout."""
    import json

    if not SAMPLE.exists():
        raise SystemExit(f"the shared sample is absent: {SAMPLE}")
    report = ROOT / "benchmarks" / "data" / "sample-report.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "estimator", "verify", str(SAMPLE), "--format", "json", "-o",
           str(report)]
    wall, cpu = timed(cmd, repeat)
    data = json.loads(report.read_text())
    s = data["summary"]
    rows = list(csv.DictReader(open(SAMPLE, encoding="utf-8")))
    by = {(r["model"], rows[r["row"] - 1]["Publication date"]): r for r in data["records"]}
    judged = list(csv.DictReader(open(JUDGED, encoding="utf-8")))
    right = wrong = 0
    changed = []
    for j in judged:
        rec = by.get((j["model"], j["publication_date"]))
        if rec is None or ";".join(rec["codes"]) != j["codes"]:
            changed.append(j["model"])
            continue
        right += j["judgement"] == "right"
        wrong += j["judgement"] == "wrong"
    flagged = [r for r in data["records"] if r["verdict"] == "flagged"]
    unjudged = [r["model"] for r in flagged
                if (r["model"], rows[r["row"] - 1]["Publication date"]) not in
                {(j["model"], j["publication_date"]) for j in judged}]
    check = subprocess.run([sys.executable, "-c", "import sys, estimator.cli as c\n"
                            "try: c.main(['verify', sys.argv[1]])\nexcept SystemExit: pass\n"
                            "sys.stderr.write(str('torch' in sys.modules))", str(SAMPLE)],
                           capture_output=True, text=True, cwd=ROOT)
    print(f"Sample: {SAMPLE.name}, {s['rows']} rows")
    print(f"\n| verified | consistent | flagged | not checkable |\n|---:|---:|---:|---:|\n"
          f"| {s['verified']} | {s['consistent']} | {s['flagged']} | {s['not_checkable']} |")
    print("\nFlags by code: " + ", ".join(f"{c} {n}" for c, n in s["flagged_by_code"].items()))
    n = right + wrong
    print(f"\nJudged flagged rows: {len(judged)}; still flagged with the judged codes: {n}; "
          f"right {right}, wrong {wrong}: precision {right / n:.3f}" if n else "no judged rows")
    print(f"Codes changed since judged: {changed or 'none'}; flagged rows not judged: "
          f"{unjudged or 'none'}")
    print(f"\nParameters recounted for {s['params_recounted']} of {s['rows_with_params']} rows "
          f"with a Parameters figure ({s['params_recounted'] / s['rows_with_params']:.1%})")
    print(f"\nTime (fresh process, median of {repeat}): wall {wall:.2f} s, CPU {cpu:.2f} s; "
          f"torch imported: {check.stderr.strip()}; python {sys.version.split()[0]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", action="store_true", help="the issue-18 measures on the shared sample")
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--file", type=Path, default=OUT)
    args = ap.parse_args()
    if args.sample:
        measure_sample(args.repeat)
        return
    path = write_file(args.file, args.rows, args.seed)
    base = timed([sys.executable, "-c", "import csv"], args.repeat)
    jobs = {
        f"paramcount verify ({args.rows} rows, table)": [sys.executable, "-m", "estimator", "verify", str(path)],
        f"paramcount verify ({args.rows} rows) --format json -o report.json":
            [sys.executable, "-m", "estimator", "verify", str(path), "--format", "json", "-o",
             str(path.with_suffix(".report.json"))],
    }
    print("| job | wall (s) | wall x `import csv` | CPU (s) | CPU x `import csv` |")
    print("|---|---:|---:|---:|---:|")
    print(f"| python -c 'import csv' (baseline) | {base[0]:.3f} | 1.0 | {base[1]:.3f} | 1.0 |")
    for name, cmd in jobs.items():
        wall, cpu = timed(cmd, args.repeat)
        print(f"| {name} | {wall:.3f} | {wall / base[0]:.1f} | {cpu:.3f} | {cpu / base[1]:.1f} |")
    check = subprocess.run([sys.executable, "-c", "import sys, estimator.cli as c\n"
                            "try: c.main(['verify', sys.argv[1]])\nexcept SystemExit: pass\n"
                            "sys.stderr.write('torch imported: %s' % ('torch' in sys.modules))",
                            str(path)], capture_output=True, text=True, cwd=ROOT)
    print(f"\n{check.stderr.strip()}; median of {args.repeat} runs; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
