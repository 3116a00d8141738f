"""Check: the hardware method. Compute / (chips x dense peak x time) = implied utilisation.

* chip-seconds from ``Hardware quantity`` x ``Training time (hours)``, or from ``Training
  chip-hours`` when the row gives those instead (a hardware check without quantity x time);
  when it gives both and they disagree by more than 2x, ``chip-hours-mismatch``;
* the peak at the row's ``Numerical format`` where the part has it (FP32, TF32, BF16, FP16,
  FP8; a list: the fastest listed), else the part's default precision (best dense 16-bit on
  tensor-core parts, else fp32); impossibility is judged at the part's best dense peak;
* judged by :func:`estimator.costs.compute.judge_utilisation` (one range for ``verify``,
  ``train`` and ``compute``): above 1 at the best peak is ``impossible-utilisation``, outside
  the plausible range ``suspicious-utilisation``; the other reading of the quantity (boards
  of this chip, chips of this board) that fits is ``board-as-chips``;
* a compute the row estimated by the hardware method is judged only for impossibility unless the
  row states its Numerical format: it already embodies an assumed utilisation and peak;
* a utilisation below the range is expected of Games / Robotics systems (simulation time):
  shown as plausible, not flagged;
* independence: when the row's ``Training compute estimation method`` is "Hardware", its
  compute was derived from these very cells, so agreement is "consistent", not "verified".
"""
from __future__ import annotations

import re

from ....units import Interval
from ..cells import fmt

COMPUTE_FACTOR = 2.0
# reinforcement learners spend their hardware time on the environment: a low utilisation of
# the learner's FLOP is expected there, not a sign of an error
_SIMULATION = re.compile(r"games|robotics", re.I)
_FORMATS = {"fp32": "fp32", "tf32": "tf32", "bf16": "bf16", "fp16": "fp16", "fp8": "fp8",
            "fp64": "fp64", "int8": "int8"}


def _best(acc) -> tuple[str, Interval]:
    floats = [p for p in acc.precisions if p != "int8"]
    prec = max(floats, key=lambda p: acc.peak_flops(p).high)
    return prec, acc.peak_flops(prec)


def _precision(r, acc) -> tuple[str, str]:
    """(precision, how chosen): the row's Numerical format where the part has it."""
    cell = r.text("precision")
    listed = [_FORMATS[w] for w in cell.lower().replace(" ", "").split(",") if w in _FORMATS]
    have = [p for p in listed if p in acc.precisions and p != "int8"]
    if have:
        best = max(have, key=lambda p: acc.peak_flops(p).high)
        return best, f"Numerical format {cell}"
    if listed:
        return acc.default, (f"default {acc.default}: {acc.id} has no {'/'.join(listed)} peak "
                             f"in the table (Numerical format {cell})")
    return acc.default, f"default {acc.default}"


def _other_reading(acc, table):
    from ....costs.hardware import boards_of

    boards = boards_of(acc, table)
    return boards[0] if boards else table.by_id.get(acc.chip) if acc.chip else None


def run(r, ctx) -> None:
    from ....costs.compute import SUSPICIOUS_HIGH, SUSPICIOUS_LOW, fmt_utilisation, judge_utilisation

    fine_tune = r.fine_tune
    c = r.num("finetune_compute") if fine_tune else r.num("compute")
    what = "Finetune compute" if fine_tune else "Training compute"
    if fine_tune and c is None:
        r.add("hardware", "not-checkable",
              f"fine-tune of {r.text('base_model')!r} without Finetune compute: the compute "
              "column includes the base model's pretraining while the hardware and time "
              "describe the fine-tune")
        return
    if ctx.hardware_problem:
        status = "flagged" if ctx.hardware_code else "not-checkable"
        r.add("hardware", status, ctx.hardware_problem + "; the hardware check did not run",
              code=ctx.hardware_code)
        return
    parts = ctx.parts
    q, hours, chip_hours = r.v.get("quantity"), r.v.get("hours"), r.v.get("chip_hours")
    if q is not None and hours is not None:
        chip_h = q * hours
        time_text = f"{fmt(q.central)} chips x {fmt(hours.central)} h"
        if chip_hours is not None:
            k = chip_hours.central / chip_h.central
            if not (1 / COMPUTE_FACTOR <= k <= COMPUTE_FACTOR):
                r.add("hardware", "flagged", f"Training chip-hours {fmt(chip_hours.central)} "
                      f"disagree with Hardware quantity x Training time = {time_text} = "
                      f"{fmt(chip_h.central)} chip-hours ({k:.3g}x)", code="chip-hours-mismatch",
                      submitted=chip_hours.central, recomputed=chip_h.central, ratio=k,
                      independent=False,
                      arithmetic=f"{fmt(chip_hours.central)} / ({time_text}) = {k:.3g}")
    elif chip_hours is not None:
        chip_h = chip_hours
        time_text = f"{fmt(chip_hours.central)} chip-hours"
        q = None
    else:
        chip_h = None
    missing = [w for w, v in ((what, c), ("Training hardware", parts),
                              ("Hardware quantity x Training time, or Training chip-hours",
                               chip_h)) if not v]
    if missing:
        r.add("hardware", "not-checkable", "the hardware check needs " + ", ".join(missing))
        return
    independent = "hardware" not in r.method
    if len(parts) > 1:  # several parts in one cell: the peak lies between theirs
        peaks = [a.peak_flops(a.default) for a in parts]
        peak = Interval(min(p.low for p in peaks), max(p.high for p in peaks))
        best = Interval.of(max(_best(a)[1].high for a in parts))
        label = " / ".join(a.id for a in parts) + " (peak between theirs)"
        alt = None
    else:
        acc = parts[0]
        prec, how = _precision(r, acc)
        peak = acc.peak_flops(prec)
        best = _best(acc)[1]
        label = f"{acc.id} at {prec} ({how})"
        alt = _other_reading(acc, ctx.table)
    seconds = chip_h * 3600
    capacity = seconds * peak
    iu = Interval.of(c) / capacity
    iu_best = Interval.of(c) / (seconds * best)
    arith = (f"{fmt(c)} FLOP / ({time_text} x 3600 s x {fmt(peak.central)} FLOP/s) "
             f"= utilisation {fmt_utilisation(iu)}")
    nums = dict(submitted=c, recomputed=capacity.central, low=capacity.low, high=capacity.high,
                ratio=iu.central, arithmetic=arith, independent=independent)
    alt_text = None
    if alt is not None and q is not None:
        alt_iu = Interval.of(c) / (seconds * alt.peak_flops(alt.default))
        alt_best = Interval.of(c) / (seconds * _best(alt)[1])
        unit = "boards" if alt.kind == "board" else "chips"
        each = f"{alt.chips} chips each" if alt.kind == "board" else "one chip each"
        alt_text = (f"if Hardware quantity counts {alt.id} {unit} ({each}), the utilisation "
                    f"is {fmt_utilisation(alt_iu)}")
    verdict, why = judge_utilisation(iu_best)
    if verdict == "impossible":
        if alt_text and alt_best.central <= 1:
            r.add("hardware", "flagged", f"{what} {fmt(c)} FLOP needs utilisation "
                  f"{fmt_utilisation(iu_best)} of {label} even at its best dense peak: "
                  f"impossible as chips; {alt_text}", code="board-as-chips", **nums)
            return
        r.add("hardware", "flagged", f"{what} {fmt(c)} FLOP: {why} at the best dense peak "
              f"({label})", code="impossible-utilisation", **nums)
        return
    verdict, why = judge_utilisation(iu)
    if verdict == "impossible":  # above 1 at the chosen precision, possible at the best one
        r.add("hardware", "flagged", f"{why} ({label}); possible only at the part's best dense "
              f"peak (utilisation {fmt_utilisation(iu_best)})", code="suspicious-utilisation",
              **nums)
        return
    if verdict == "suspicious" and not independent and not r.text("precision"):
        r.add("hardware", "plausible", f"{why} ({label}); the row's compute was itself estimated "
              "from these cells with a utilisation and a peak it assumed, so only an impossible "
              "figure would be a finding", **nums)
        return
    if verdict == "suspicious" and iu.central < SUSPICIOUS_LOW and _SIMULATION.search(r.text("domain")):
        r.add("hardware", "plausible", f"{why} ({label}); expected of a {r.text('domain')} system, "
              "whose training time goes largely to simulating its environment", **nums)
        return
    if verdict == "suspicious":
        if alt_text and SUSPICIOUS_LOW <= alt_iu.central <= SUSPICIOUS_HIGH:
            r.add("hardware", "flagged", f"{why} ({label}); {alt_text}, which is plausible",
                  code="board-as-chips", **nums)
            return
        r.add("hardware", "flagged", f"{why} ({label})", code="suspicious-utilisation", **nums)
        return
    dep = "" if independent else (" (not independent: the row's compute was estimated by the "
                                  "hardware method from these cells)")
    r.add("hardware", "ok", f"{why} ({label}){dep}", **nums)
    stated = r.v.get("utilisation")
    if stated is not None and stated.central > 0:
        k = iu.central / stated.central
        if not (1 / COMPUTE_FACTOR <= k <= COMPUTE_FACTOR):
            r.add("hardware", "flagged", f"the stated utilisation {fmt_utilisation(stated)} "
                  f"disagrees with the implied {fmt_utilisation(iu)} ({label})",
                  code="utilisation-mismatch", submitted=stated.central, recomputed=iu.central,
                  ratio=k, independent=independent)
