"""Cost commands: hardware, compute, train."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .common import _out, _parse_sets, _print_json, app, finite


@app.command("hardware")
def hardware_cmd(
    query: Optional[str] = typer.Argument(
        None, help="A chip name, alias or id (V100, 'TPU v3-8'), or any part of one."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
) -> None:
    """List and search the accelerator table (dense peaks per chip, with sources)."""
    from ..costs import hardware as hwmod
    from ..errors import InputError
    from ..report import hardware as report

    table = hwmod.load_table()
    if not query:
        rows = table.rows
        if json_out:
            _print_json(report.to_json(rows))
        else:
            _out(report.render_list(rows))
        return
    try:
        acc = table.lookup(query)
    except InputError as err:
        rows = table.search(query)
        if not rows:
            raise err
        if json_out:
            _print_json(report.to_json(rows))
        else:
            _out(report.render_list(rows, query=query, total=len(table)))
        return
    if json_out:
        _print_json(report.to_json([acc]))
    else:
        _out(report.render_detail(acc, hwmod.boards_of(acc, table)))


def _show_compute(tc, json_out: bool) -> None:
    from ..report import compute as report

    if json_out:
        _print_json(report.to_json(tc))
    else:
        _out(report.render(tc))
    if tc.verdict == "impossible":  # a check found a discrepancy: exit 1, the verdict on stderr
        from ..costs.compute import Discrepancy

        raise Discrepancy(tc.verdict_reason)


# The hardware-method options, shared by `compute` and `train` (any value may be a range: 80-95).
Hardware = Annotated[Optional[str], typer.Option("--hardware", help="Chip name/alias/id (paramcount hardware lists them).")]
Chips = Annotated[Optional[str], typer.Option("--chips", help="Chips (or boards) running at once.")]
Seconds = Annotated[Optional[str], typer.Option("--seconds", help="Wall-clock seconds (times --chips). Any value may be a range, e.g. 80-95.")]
Hours = Annotated[Optional[str], typer.Option("--hours", help="Wall-clock hours (times --chips).")]
Days = Annotated[Optional[str], typer.Option("--days", help="Wall-clock days (times --chips).")]
GpuHours = Annotated[Optional[str], typer.Option("--gpu-hours", help="GPU-hours, already summed over chips.")]
GpuDays = Annotated[Optional[str], typer.Option("--gpu-days", help="GPU-days, already summed over chips.")]
ChipHours = Annotated[Optional[str], typer.Option("--chip-hours", help="Chip-hours, already summed over chips.")]
ChipDays = Annotated[Optional[str], typer.Option("--chip-days", help="Chip-days, already summed over chips.")]
Precision = Annotated[Optional[str], typer.Option("--precision", help="fp64, fp32, tf32, fp16, bf16, fp8, int8 (default: best dense 16-bit tensor figure, else fp32).")]
Utilisation = Annotated[Optional[str], typer.Option("--utilisation", "--utilization", help="Fraction of peak achieved (default 0.3).")]
Runs = Annotated[Optional[str], typer.Option("--runs", help="Independent runs (e.g. 32 agents).")]
Peak = Annotated[Optional[str], typer.Option("--peak", help="Override the table: peak FLOP/s per chip.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]


@app.command("compute")
def compute_cmd(hardware: Hardware = None, chips: Chips = None, seconds: Seconds = None,
                hours: Hours = None, days: Days = None, gpu_hours: GpuHours = None,
                gpu_days: GpuDays = None, chip_hours: ChipHours = None, chip_days: ChipDays = None,
                precision: Precision = None, utilisation: Utilisation = None, runs: Runs = None,
                peak: Peak = None, json_out: JsonOut = False) -> None:
    """Training compute by the hardware method: chips x peak x utilisation x runs x time."""
    from ..costs.compute import training_compute

    tc = training_compute(hardware=hardware, chips=chips, seconds=seconds, hours=hours, days=days,
                          gpu_hours=gpu_hours, gpu_days=gpu_days, chip_hours=chip_hours,
                          chip_days=chip_days, precision=precision, utilisation=utilisation,
                          runs=runs, peak=peak)
    _show_compute(tc, json_out)


@app.command("train")
def train_cmd(
    spec: Path = typer.Argument(..., help="The spec YAML of the trained network."),
    tokens: Optional[str] = typer.Option(None, "--tokens", help="Training tokens seen (sequence models), e.g. 300e9."),
    examples: Optional[str] = typer.Option(None, "--examples", help="Training examples per epoch, e.g. 1.2e6."),
    epochs: Optional[str] = typer.Option(None, "--epochs", help="Epochs (default 1)."),
    backward_ratio: float = typer.Option(2.0, "--backward-ratio", callback=finite, help="Backward/forward FLOP ratio."),
    measure: bool = typer.Option(False, "--measure", help="Measure the backward/forward ratio: count a training step of the built spec on meta (torch)."),
    generation_passes: Optional[str] = typer.Option(None, "--generation-passes", help="Forward-only passes spent generating data (self-play...)."),
    generation_tokens: Optional[str] = typer.Option(None, "--generation-tokens", help="Tokens generated (forward only), sequence models."),
    set_vars: List[str] = typer.Option([], "--set", help="Override a spec variable: NAME=EXPR."),
    hardware: Hardware = None, chips: Chips = None, seconds: Seconds = None, hours: Hours = None,
    days: Days = None, gpu_hours: GpuHours = None, gpu_days: GpuDays = None,
    chip_hours: ChipHours = None, chip_days: ChipDays = None, precision: Precision = None,
    utilisation: Utilisation = None, runs: Runs = None, peak: Peak = None,
    json_out: JsonOut = False,
) -> None:
    """Training compute by operation counting (3 x forward x examples, 6·N·D), and with
    --hardware and a time also the hardware method, the implied utilisation and a verdict."""
    from .. import analytic
    from ..costs.compute import training_compute

    loaded = analytic.load_spec(spec, overrides=_parse_sets(set_vars))
    result = analytic.analyze(loaded)
    source = None
    if measure:
        from ..graphs.train_step import count_spec_step

        # only the backward/forward ratio is read: no optimizer update (it adds only
        # elementwise work, never to either side of the ratio, and was a third of the step)
        step = count_spec_step(loaded, optimizer="none")
        backward_ratio = step.backward_ratio
        source = (f"measured: a training step of the built spec counted on meta, input "
                  f"gradients {step.input_grad_flops:,} + weight gradients "
                  f"{step.weight_grad_flops:,} over forward {step.forward_flops:,} FLOP")
    tc = training_compute(result, tokens=tokens, examples=examples, epochs=epochs,
                          backward_ratio=backward_ratio, generation_passes=generation_passes,
                          generation_tokens=generation_tokens, hardware=hardware, chips=chips,
                          seconds=seconds, hours=hours, days=days, gpu_hours=gpu_hours,
                          gpu_days=gpu_days, chip_hours=chip_hours, chip_days=chip_days,
                          precision=precision, utilisation=utilisation, runs=runs, peak=peak,
                          ratio_source=source)
    _show_compute(tc, json_out)
