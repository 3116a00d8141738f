"""Speed and memory of counting a PyTorch model: paramcount vs raw FlopCounterMode, fvcore,
ptflops and thop, side by side in one run.

    python benchmarks/bench_count_model.py [--repeat 3] \
        [--markdown benchmarks/RESULTS-count-model.md]

Each (model, tool) pair runs in a fresh subprocess: the model is built first, then the peak
resident memory is reset (``/proc/self/clear_refs``) and the counting call is timed (best of
``--repeat`` calls), so "peak" is the extra memory the counting itself needed. Times and peaks
are reported as ratios to raw ``FlopCounterMode`` on the same model as given. FLOPs are shown
as FLOPs (fvcore, ptflops and thop report multiply-adds; they are doubled here).

Models: ResNet-50 with real (random) weights, 1x3x224x224; GPT-2 small built on the meta
device, 1x1024 tokens; a GPT-3-175B-shaped decoder (GPT-2 architecture, d=12288, 96 layers,
96 heads, T=2048) on the meta device: its fp32 weights would need 700 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, proc_status, reset_peak, write_results  # noqa: E402
MODELS = ["resnet50", "gpt2", "gpt3-175b"]
TOOLS = ["paramcount", "FlopCounterMode", "FlopCounterMode on meta", "fvcore", "ptflops", "thop"]


def build(name):
    import torch

    if name == "resnet50":
        sys.path.insert(0, str(ROOT / "tests"))
        import zoo

        torch.manual_seed(0)
        return zoo.resnet50().eval(), (torch.randn(1, 3, 224, 224),), {}, "real weights"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers as T

    cfg = T.GPT2Config() if name == "gpt2" else T.GPT2Config(
        n_embd=12288, n_layer=96, n_head=96, n_positions=2048, vocab_size=50257)
    with torch.device("meta"):
        m = T.GPT2LMHeadModel(cfg).eval()
    seq = 1024 if name == "gpt2" else 2048
    ids = torch.zeros(1, seq, dtype=torch.long, device="meta")
    return m, (), {"input_ids": ids}, "meta device"


def run_tool(tool, model, args, kwargs):
    """Count once; return (params or None, FLOPs or None)."""
    import torch

    if tool == "paramcount":
        from estimator.graphs.torch_count import count_module

        r = count_module(model, kwargs if kwargs else args[0])
        return r.params, r.forward_flops
    if tool == "FlopCounterMode":
        from torch.utils.flop_counter import FlopCounterMode

        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            model(*args, **kwargs)
        return None, fc.get_total_flops()
    if tool == "FlopCounterMode on meta":  # the same meta swap paramcount makes, no rows
        from torch.utils.flop_counter import FlopCounterMode

        meta = {n: torch.empty_like(t, device="meta") for n, t in
                list(model.named_parameters()) + list(model.named_buffers())}
        margs = tuple(torch.empty_like(a, device="meta") for a in args)
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            torch.func.functional_call(model, meta, margs, kwargs)
        return None, fc.get_total_flops()
    if tool == "fvcore":
        from fvcore.nn import FlopCountAnalysis, parameter_count

        if args:
            target, inputs = model, args
        else:  # fvcore traces with torch.jit: give it a module that returns a tensor
            class Logits(torch.nn.Module):
                def __init__(self, m):
                    super().__init__()
                    self.m = m

                def forward(self, ids):
                    return self.m(input_ids=ids, use_cache=False).logits

            target, inputs = Logits(model), (kwargs["input_ids"],)
        fa = FlopCountAnalysis(target, inputs)
        fa.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return parameter_count(model)[""], 2 * fa.total()
    if tool == "ptflops":
        from ptflops import get_model_complexity_info

        if args:
            shape = tuple(args[0].shape[1:])
            ctor = None
        else:
            shape = tuple(kwargs["input_ids"].shape)
            ctor = lambda _s: dict(kwargs)  # noqa: E731
        macs, params = get_model_complexity_info(
            model, shape, as_strings=False, print_per_layer_stat=False, verbose=False,
            input_constructor=ctor, backend="pytorch")
        if macs is None:
            raise RuntimeError("ptflops returned no count (its forward failed)")
        return int(params), 2 * int(macs)
    if tool == "thop":
        from thop import profile

        macs, params = profile(model, inputs=args if args else (kwargs["input_ids"],),
                               verbose=False)
        return int(params), 2 * int(macs)
    raise ValueError(tool)


def child(model_name, tool, repeat):
    import io
    import contextlib
    import warnings

    warnings.filterwarnings("ignore")
    model, args, kwargs, how = build(model_name)
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        res = run_tool(tool, model, args, kwargs)  # first call: lazy imports, caches
    first = time.perf_counter() - t
    hwm_before = proc_status("VmHWM")
    rss0 = proc_status("VmRSS")
    ok = reset_peak()
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            res = run_tool(tool, model, args, kwargs)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    hwm_after = proc_status("VmHWM")
    peak = hwm_after - rss0 if ok else None
    process_peak = max(hwm_before, hwm_after)
    return {"model": model_name, "tool": tool, "how": how, "seconds": best, "first": first,
            "peak_bytes": max(peak, 0) if peak is not None else None,
            "process_peak": process_peak, "params": res[0], "flops": res[1]}


def _cannot(model_name, tool, err: str) -> str:
    if model_name == "gpt3-175b" and tool in ("ptflops", "thop", "fvcore"):
        return (f"cannot on meta ({err}); with real weights it needs ~700 GB (fp32) "
                "for 174.6B parameters")
    return f"cannot ({err})"


def parent(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--tools", nargs="*", default=TOOLS)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--allow-partial", action="store_true",
                    help="write --markdown even when a peer tool could not run")
    a = ap.parse_args(argv)
    rows = []
    for m in a.models:
        for t in a.tools:
            if t == "FlopCounterMode on meta" and m != "resnet50":
                continue  # the other models are on meta already: same as FlopCounterMode
            cmd = [sys.executable, __file__, "--child", m, t, str(a.repeat)]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout,
                                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
                line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
                if p.returncode == 0 and line.startswith("{"):
                    rows.append(json.loads(line))
                else:
                    err = (p.stderr.strip().splitlines() or ["failed"])[-1]
                    rows.append({"model": m, "tool": t, "error": _cannot(m, t, err[:160])})
            except subprocess.TimeoutExpired:
                rows.append({"model": m, "tool": t, "error": f"cannot (over {a.timeout} s)"})
            print(json.dumps(rows[-1]), file=sys.stderr)
    text = markdown(rows)
    print(text)
    write_results(a.markdown, text, rows, allow_partial=a.allow_partial)


def _fmt_s(s):
    return f"{s:.3f} s" if s < 10 else f"{s:.1f} s"


def _fmt_p(p):
    return "-" if p is None else f"{p:,}"


def _fmt_b(b):
    return "n/a" if b is None else f"{b / 2**20:.1f} MiB"


def markdown(rows):
    out = ["# Counting a PyTorch model: paramcount vs peer tools", "",
           "Command: `python benchmarks/bench_count_model.py --markdown "
           "benchmarks/RESULTS-count-model.md`  ",
           environment() + " Time: best of 3 calls after a first (untimed for the "
           "ratio, shown as 'first call': lazy imports and caches); peak = extra resident memory "
           "of those calls over the built model (VmHWM after reset). Ratios are to raw "
           "`FlopCounterMode` on the "
           "same model (time ratio < 1: faster).", ""]
    for m in dict.fromkeys(r["model"] for r in rows):
        mr = [r for r in rows if r["model"] == m]
        base = next((r for r in mr if r["tool"] == "FlopCounterMode" and "error" not in r), None)
        how = next((r["how"] for r in mr if "how" in r), "")
        ours = next((r for r in mr if r["tool"] == "paramcount" and "error" not in r), None)
        out += [f"## {m} ({how})", "",
                "| tool | params | forward FLOPs | FLOPs / paramcount | first call | time | "
                "time x FlopCounterMode | counting peak | x FlopCounterMode | process peak |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in mr:
            if "error" in r:
                out.append(f"| {r['tool']} | {r['error']} | | | | | | | | |")
                continue
            tr = f"{r['seconds'] / base['seconds']:.2f}" if base else "-"
            pr = (f"{r['peak_bytes'] / base['peak_bytes']:.2f}"
                  if base and r["peak_bytes"] is not None and base["peak_bytes"]
                  and base["peak_bytes"] >= 2**20 else "- (< 1 MiB)")
            fr = f"{r['flops'] / ours['flops']:.3f}" if ours and ours["flops"] else "-"
            out.append(f"| {r['tool']} | {_fmt_p(r['params'])} | {r['flops']:,} | {fr} | "
                       f"{_fmt_s(r['first'])} | {_fmt_s(r['seconds'])} | {tr} | "
                       f"{_fmt_b(r['peak_bytes'])} | {pr} | {_fmt_b(r['process_peak'])} |")
        out.append("")
    out += [
        "## Reading the tables", "",
        "* ResNet-50 is given with real weights: raw `FlopCounterMode`, fvcore, ptflops and thop "
        "run its real convolutions, while paramcount swaps in meta tensors and skips the "
        "arithmetic. `FlopCounterMode on meta` makes the same swap without per-module rows: it "
        "is the like-for-like baseline for paramcount's instrumentation overhead.",
        "* GPT-2 and the GPT-3-175B-shaped decoder are built on the meta device; every tool was "
        "tried on meta (fvcore through a wrapper returning the logits tensor, since it traces "
        "with torch.jit). With real fp32 weights the 175B decoder would need about 700 GB, "
        "which no tool here can hold on this machine.",
        "* `FLOPs / paramcount` compares totals (fvcore, ptflops and thop report multiply-adds; "
        "they are doubled). paramcount equals raw `FlopCounterMode` wherever the latter "
        "sees every operator; fvcore misses the attention score/value products of GPT-2's "
        "scaled-dot-product attention; thop only knows some module types (it counts HF GPT-2's "
        "lm_head and norms but not its Conv1D projections or attention, hence its "
        "parameter count of 38.6M); ptflops' higher figures for GPT-2 come from its own "
        "accounting of HF modules (not analysed here).",
        "* Timings come from a 2-core machine shared with other work: repeat the command for "
        "stable figures; the ratios within one run are the comparison.",
        "* Targets of issue 4: the 175B decoder counted in under 5 s and under 2 GiB peak "
        "memory (process peak, Python and torch included), overhead over raw "
        "`FlopCounterMode` under 25 %.", ""]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        parent(sys.argv[1:])
