"""Speed and memory of counting a whole training step on meta: paramcount vs raw
FlopCounterMode on the same step.

    python benchmarks/bench_train_step.py [--layers 96] [--repeat 2] \
        [--markdown benchmarks/RESULTS-train-step.md]

Model: the GPT-3-175B-shaped decoder of bench_count_model.py (Hugging Face GPT-2
architecture, d=12288, 96 heads, T=2048, vocabulary 50257) built on the meta device;
``--layers`` keeps fewer layers when the machine is short of time. Each tool runs in a fresh
subprocess: the model is built, the peak resident memory reset (/proc/self/clear_refs), then
the step is timed (best of ``--repeat``). Rows: paramcount's forward count (count_module),
paramcount's training step (forward, loss, backward split into input and weight gradients,
AdamW update), and raw FlopCounterMode on forward + mean-loss + backward (no per-phase
split, no optimizer).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import proc_status, reset_peak  # noqa: E402
TOOLS = ["paramcount forward", "paramcount train step", "FlopCounterMode fwd+bwd"]


def child(tool: str, layers: int, repeat: int) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import warnings

    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(ROOT))
    import torch
    import transformers as T

    cfg = T.GPT2Config(n_embd=12288, n_layer=layers, n_head=96, n_positions=2048,
                       vocab_size=50257)
    with torch.device("meta"):
        m = T.GPT2LMHeadModel(cfg)
    ids = {"input_ids": (1, 2048)}

    def once():
        if tool == "paramcount forward":
            from estimator.graphs.torch_count import count_module

            r = count_module(m, ids)
            return {"forward": r.forward_flops}
        if tool == "paramcount train step":
            from estimator.graphs.train_step import count_train_step

            r = count_train_step(m, ids, optimizer="adamw")
            return {"forward": r.forward_flops, "backward": r.backward_flops,
                    "input_grad": r.input_grad_flops, "weight_grad": r.weight_grad_flops,
                    "optimizer_other": r.optimizer_flops, "ratio": r.backward_ratio}
        from torch.utils.flop_counter import FlopCounterMode

        x = torch.zeros(1, 2048, dtype=torch.long, device="meta")
        with FlopCounterMode(display=False) as fc:
            m(input_ids=x).logits.mean().backward()
        m.zero_grad(set_to_none=True)
        return {"forward+backward": fc.get_total_flops()}

    t0 = time.perf_counter()
    res = once()
    first = time.perf_counter() - t0
    base = proc_status("VmHWM")
    reset_peak()
    base = proc_status("VmHWM")
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = once()
        best = min(best, time.perf_counter() - t0)
    return {"tool": tool, "first": first, "time": best, "peak": max(proc_status("VmHWM") - base, 0),
            "counts": res}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=96)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--markdown")
    ap.add_argument("--child", nargs=2)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], int(a.child[1]), a.repeat)))
        return
    rows = []
    for tool in TOOLS:
        out = subprocess.run([sys.executable, __file__, "--child", tool, str(a.layers),
                              "--repeat", str(a.repeat)], capture_output=True, text=True,
                             check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    import torch

    fcm = rows[2]
    step = rows[1]
    lines = ["# Counting a training step on meta: paramcount vs FlopCounterMode", "",
             f"Command: `python benchmarks/bench_train_step.py --layers {a.layers}"
             + (f" --markdown {a.markdown}`" if a.markdown else "`") + "  ",
             f"Machine: {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
             f"torch {torch.__version__}. Model: GPT-3-175B-shaped decoder (HF GPT-2 "
             f"architecture, d=12288, 96 heads, T=2048) with {a.layers} of its 96 layers, "
             "on the meta device. Time: best of "
             f"{a.repeat} after a first call; peak: extra resident memory of those calls.", "",
             "| tool | FLOPs counted | time | first call | time x FlopCounterMode | peak |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        c = r["counts"]
        flops = c.get("forward+backward") or (c["forward"] + c.get("backward", 0))
        lines.append(f"| {r['tool']} | {flops:,} | {r['time']:.2f} s | {r['first']:.2f} s | "
                     f"{r['time'] / fcm['time']:.2f} | {r['peak'] / 2**20:.1f} MiB |")
        sc = step["counts"]
    lines += ["", f"Training step: forward {sc['forward']:,}, input gradients "
              f"{sc['input_grad']:,}, weight gradients {sc['weight_grad']:,} FLOP; measured "
              f"backward/forward ratio {sc['ratio']:.6f}; AdamW update {sc['optimizer_other']:,}"
              " elementwise FLOP. forward + backward equals FlopCounterMode's total: "
              f"{sc['forward'] + sc['backward'] == fcm['counts']['forward+backward']}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.markdown:
        Path(a.markdown).write_text(text)


if __name__ == "__main__":
    main()
