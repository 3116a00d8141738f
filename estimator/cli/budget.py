"""Budget commands: memory (training memory per device), infer (cost per token), plan
(compute-optimal size)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import _fail, _out, _parse_sets, _print_json, app, finite

#: tokens (batch x sequence) of a step measured with ``memory --measure`` (a fake-tensor step
#: of 10**8 tokens ran past 90 s); the formulas alone take any length
MAX_MEASURE_TOKENS = 1_048_576


@app.command("memory")
def memory_cmd(
    spec: Optional[Path] = typer.Argument(None, help="A decoder spec YAML (or give --params)."),
    batch: int = typer.Option(1, "--batch", help="Micro-batch size per device."),
    seq: Optional[int] = typer.Option(None, "--seq", help="Sequence length (default: the spec's)."),
    precision: str = typer.Option("bf16", "--precision", help="fp32, bf16 or fp16 (mixed, fp32 masters)."),
    optimizer: str = typer.Option("adamw", "--optimizer", help="sgd, momentum, adam, adamw."),
    recompute: str = typer.Option("none", "--recompute", help="none, selective or full."),
    zero: int = typer.Option(0, "--zero", help="ZeRO stage 0-3 over the data-parallel ranks."),
    dp: int = typer.Option(1, "--dp", help="Data-parallel ranks."),
    tp: int = typer.Option(1, "--tp", help="Tensor-parallel degree."),
    pp: int = typer.Option(1, "--pp", help="Pipeline-parallel degree."),
    hardware: Optional[str] = typer.Option(None, "--hardware", help="Chip: does it fit in its memory?"),
    params: Optional[float] = typer.Option(None, "--params", callback=finite,
                                           help="Parameters, without a spec."),
    measure: bool = typer.Option(False, "--measure", help="Also measure one step of the built spec on fake tensors (single device)."),
    set_vars: List[str] = typer.Option([], "--set", help="Override a spec variable: NAME=EXPR."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
) -> None:
    """Training memory per device: weights, gradients, optimizer states, activations, by the
    ZeRO and Korthikanti formulas (and measured with --measure), sharded, and whether it fits."""
    from ..costs.memory import precision_name, training_memory
    from ..report import memory as report

    overrides = _parse_sets(set_vars)
    if seq is not None and spec is not None:
        overrides.setdefault("T", str(seq))
    est = training_memory(spec, params=params, seq_len=seq,
                          batch=batch, precision=precision, optimizer=optimizer,
                          recompute=recompute, zero=zero, dp=dp, tp=tp, pp=pp,
                          hardware=hardware, overrides=overrides or None)
    measured = None
    if measure and spec is not None:
        from ..analytic import load_spec
        from ..errors import require

        sp = load_spec(spec, overrides=overrides or None)
        if batch * (sp.tokens or 0) > MAX_MEASURE_TOKENS:
            _fail(f"paramcount memory --measure: --batch {batch} x {sp.tokens:,} tokens is "
                  f"{batch * sp.tokens:,} tokens, over the limit of {MAX_MEASURE_TOKENS:,} for "
                  "a measured step (without --measure, the formulas take any length)")
        require("torch", "torch")
        from ..graphs.torch_build import build_module
        from ..graphs.train_memory import measure_train_memory

        model = build_module(sp, device="meta")
        measured = measure_train_memory(model, (batch, sp.tokens) if sp.tokens else None,
                                        precision=precision_name(precision),
                                        optimizer=optimizer, name=sp.name)
    if json_out:
        _print_json(report.to_json(est, measured))
    else:
        _out(report.render(est, measured))


@app.command("infer")
def infer_cmd(
    spec: Path = typer.Argument(..., help="A decoder spec YAML."),
    prompt: int = typer.Option(2048, "--prompt", help="Prompt tokens (prefill)."),
    generate: int = typer.Option(512, "--generate", help="Tokens generated one at a time."),
    batch: int = typer.Option(1, "--batch", help="Sequences served together."),
    precision: str = typer.Option("bf16", "--precision", help="Weights: fp32, bf16, fp16, fp8, int8, int4."),
    kv_precision: Optional[str] = typer.Option(None, "--kv-precision", help="KV cache precision (default: --precision)."),
    causal: str = typer.Option("full", "--causal", help="Prefill score matrix: full or half."),
    set_vars: List[str] = typer.Option([], "--set", help="Override a spec variable: NAME=EXPR."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
) -> None:
    """Inference cost: prefill FLOPs, decode FLOPs per token with a KV cache, KV-cache and
    weight bytes (MHA, GQA, MQA, MLA; MoE active weights)."""
    from ..costs.inference import inference
    from ..report import inference as report

    inf = inference(spec, prompt=prompt, generate=generate, batch=batch, precision=precision,
                    kv_precision=kv_precision, causal=causal,
                    overrides=_parse_sets(set_vars) or None)
    if json_out:
        _print_json(inf.to_dict())
    else:
        _out(report.render(inf))


@app.command("plan")
def plan_cmd(
    budget: Optional[float] = typer.Option(None, "--budget", callback=finite, help="Training compute in FLOPs, e.g. 1e24."),
    params: Optional[float] = typer.Option(None, "--params", callback=finite, help="Parameters N: the budget where N is optimal."),
    tokens: Optional[float] = typer.Option(None, "--tokens", callback=finite, help="Tokens D (or a system's training tokens)."),
    system: Optional[str] = typer.Option(None, "--system", help="A catalog system or spec: how far from compute-optimal?"),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
) -> None:
    """Compute-optimal parameters and tokens (Chinchilla approaches 1-3, Besiroglu et al.
    2024), or how far a trained system was from them."""
    from ..costs.plan import plan
    from ..curation.systems import system_of
    from ..report import plan as report

    p = plan(budget=budget, params=params, tokens=tokens,
             system=system_of(system) if system else None)
    if json_out:
        _print_json(p.to_dict())
    else:
        _out(report.render(p))
