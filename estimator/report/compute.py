"""Formatting of training-compute estimates (``paramcount compute`` / ``train``). Formatting only."""
from __future__ import annotations

from ..costs.compute import (CountingEstimate, HardwareEstimate, TrainingCompute, fmt_flops,
                       fmt_utilisation)
from ..units import Interval, fmt_interval, sci


def _range_line(iv: Interval) -> str:
    if iv.is_point:
        return ""
    return (f"  low {sci(iv.low)} / central {sci(iv.central)} (geometric mean) / "
            f"high {sci(iv.high)} FLOP")


def render_hardware(hw: HardwareEstimate) -> list[str]:
    if hw.hardware is not None:
        a = hw.hardware
        what = f"{a.name} [{a.id}], {hw.precision}"
    else:
        what = f"custom peak, {hw.precision}"
    lines = [f"Hardware method ({what})", "  " + hw.arithmetic()]
    r = _range_line(hw.flops)
    if r:
        lines.append(r)
    lines.append(f"  time: {hw.time_text}")
    lines.append("  assumptions:")
    lines += [f"    - {a}" for a in hw.assumptions]
    for n in hw.notes:
        lines.append(f"  note: {n}")
    return lines


def render_counting(c: CountingEstimate) -> list[str]:
    lines = [f"Operation counting ({c.name}: forward {sci(c.forward_flops, 4)} FLOP per "
             + (f"sequence of {c.seq_len} tokens" if c.seq_len else "example")
             + f", {sci(c.params, 4)} params"
             + (f", {sci(c.active_params, 4)} active" if c.active_params != c.params else "") + ")",
             f"  {fmt_flops_mult(c)}: {c.arithmetic()}"]
    r = _range_line(c.training_flops)
    if r:
        lines.append(r)
    if c.ratio_source:
        lines.append(f"  with the conventional ratio 2: {fmt_flops(c.conventional_flops)}; "
                     f"measured / conventional = "
                     f"{c.training_flops.central / c.conventional_flops.central:.4f}")
    if c.six_nd is not None:
        ratio = c.ratio_to_6nd
        lines.append(f"  6·N·D: {c.six_nd_arithmetic()}")
        lines.append(f"  {fmt_flops_mult(c)} / 6·N·D = {ratio:.3f}")
    if c.generation_flops is not None:
        lines.append(f"  data generation (forward only): ({fmt_interval(c.generation_passes)} passes)"
                     f"({sci(c.forward_flops, 4)} FLOP) = {fmt_flops(c.generation_flops)}")
        lines.append(f"  total: {fmt_flops(c.total)}")
    if c.published:
        pv = c.published["value"]
        sets = c.published.get("modified")
        verdict = (f"not compared: the model counted is modified by --set "
                   f"{', '.join(f'{k}={v}' for k, v in sets.items())}" if sets else
                   f"counted / published = {c.total.central / pv:.3f}")
        lines.append(f"  published: {sci(pv, 3)} FLOP ({c.published.get('source') or 'spec'}); "
                     + verdict)
    lines.append("  inputs:")
    lines += [f"    - {i}" for i in c.inputs]
    for n in c.notes:
        lines.append(f"  note: {n}")
    return lines


def fmt_flops_mult(c: CountingEstimate) -> str:
    mult = 1 + c.backward_ratio
    m = f"{mult:g}"
    return f"{m} x forward x examples"


def render(tc: TrainingCompute) -> str:
    blocks: list[list[str]] = []
    if tc.counting:
        blocks.append(render_counting(tc.counting))
    if tc.hardware:
        blocks.append(render_hardware(tc.hardware))
    if tc.counting and tc.hardware:
        iu = tc.implied_utilisation
        both = ["Both methods",
                f"  counted {fmt_flops(tc.counting.total)} / hardware at 100% "
                f"{fmt_flops(tc.hardware.capacity)}",
                f"  implied utilisation {fmt_utilisation(iu)}: "
                f"{tc.verdict.upper()} ({tc.verdict_reason})"]
        blocks.append(both)
    head = f"Training compute: {fmt_flops(tc.estimate)} ({tc.method})"
    return "\n\n".join([head] + ["\n".join(b) for b in blocks])


def to_json(tc: TrainingCompute) -> dict:
    return tc.to_dict()
