"""Does counting a PyTorch model cost grow with the model, no faster? ``count(model)`` (and the
fvcore witness) against a bare forward of the same module on the meta device, at two depths.

    python benchmarks/bench_count_depth.py [--layers 96 768] [--repeat 2] [--fvcore] \
        [--markdown benchmarks/RESULTS-count-depth.md]

The model is the GPT-3 175B archspec (d_model 12288, 96 heads, T = 2048) with its depth set
by the spec override ``layers=N`` (``paramcount --set layers=N``), built as an ``nn.Module``
on the meta device by :func:`estimator.graphs.torch_build.build_module`: no weights are
allocated, so the times are the counters' own bookkeeping plus the meta kernels.

Reported per depth: the bare forward (``torch.no_grad()``, no counter, no hooks), then each
counter's time as a ratio to it. A counter whose cost is linear in the model keeps the same
ratio at 96 and 768 layers; a quadratic one shows a ratio that grows with depth (8x the
layers, 8x the ratio). Best of ``--repeat`` runs after one untimed warm-up call.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _best(fn, repeat: int) -> float:
    """Best process CPU time of ``repeat`` calls after a warm-up. CPU time, not wall time:
    on a shared machine other processes stretch the wall clock, not this process's work
    (meta kernels compute nothing, so no intra-op threads run)."""
    fn()  # warm-up: lazy imports, kernel caches
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def measure(layers: int, repeat: int, fvcore: bool) -> dict:
    import torch

    from estimator.analytic import load_spec
    from estimator.graphs.torch_build import build_module, example_inputs
    from estimator.graphs.torch_count import count_module

    spec = load_spec(ROOT / "archspecs" / "gpt3-175b.yaml", overrides={"layers": layers})
    model = build_module(spec, "meta")
    inputs = example_inputs(spec, "meta")
    modules = sum(1 for _ in model.modules())

    def bare():
        with torch.no_grad():
            model(*inputs)

    out = {"layers": layers, "modules": modules}
    out["bare"] = _best(bare, repeat)
    res = count_module(model, inputs)
    out["count"] = _best(lambda: count_module(model, inputs), repeat)
    out["params"], out["flops"] = res.params, res.forward_flops
    if fvcore:
        from estimator.graphs.fvcore_count import count_fvcore

        out["fvcore"] = _best(lambda: count_fvcore(model, inputs), 1)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, nargs="+", default=[96, 768])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--fvcore", action="store_true", help="also time the fvcore witness")
    ap.add_argument("--markdown", type=Path, help="write the results table here")
    a = ap.parse_args(argv)

    import torch

    rows = [measure(n, a.repeat, a.fvcore) for n in a.layers]
    cols = ["count(model)"] + (["fvcore witness"] if a.fvcore else [])
    lines = [
        "# Counting cost against depth: count(model) vs a bare meta forward",
        "",
        "Command: `python benchmarks/bench_count_depth.py"
        + (" --fvcore" if a.fvcore else "") + f" --repeat {a.repeat}`  ",
        f"Environment: torch {torch.__version__}, Python {platform.python_version()}, "
        f"{_cpu()}, {torch.get_num_threads()} torch threads.  ",
        "Model: archspecs/gpt3-175b.yaml with `--set layers=N`, built on the meta device "
        "by `estimator.graphs.torch_build`; input 1 x 2048 tokens. Times: process CPU "
        "seconds, best of "
        f"{a.repeat} after a warm-up"
        + (" (fvcore: one run after a warm-up)" if a.fvcore else "") + ".",
        "",
        "| layers | modules | bare meta forward (s) | " + " | ".join(
            f"{c} (s) | {c} / bare" for c in cols) + " |",
        "|---:|---:|---:|" + "---:|---:|" * len(cols),
    ]
    for r in rows:
        cells = [f"{r['count']:.2f} | {r['count'] / r['bare']:.2f}"]
        if a.fvcore:
            cells.append(f"{r['fvcore']:.2f} | {r['fvcore'] / r['bare']:.2f}")
        lines.append(f"| {r['layers']} | {r['modules']:,} | {r['bare']:.2f} | "
                     + " | ".join(cells) + " |")
    if len(rows) >= 2:
        lo, hi = rows[0], rows[-1]
        growth = (hi["count"] / hi["bare"]) / (lo["count"] / lo["bare"])
        lines += ["", f"count(model) / bare at {hi['layers']} layers over the same ratio at "
                      f"{lo['layers']}: {growth:.2f} (1.0 = cost linear in the model, like the "
                      f"forward; {hi['layers'] / lo['layers']:.0f} = quadratic)."]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.markdown:
        a.markdown.write_text(text)


if __name__ == "__main__":
    main()
