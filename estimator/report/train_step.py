"""Formatting of a counted training step (``paramcount model --train-step``). Formatting only."""
from __future__ import annotations

from ..units import si
from .text import _table, _to_text


def _ratio(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def render(ts, depth: int | None = None) -> str:
    f, o = ts.flops, ts.other
    lines = [f"{ts.name}  (training step counted on meta)",
             "input: " + ", ".join(f"{k}: {' x '.join(map(str, v))}"
                                   for k, v in ts.input_shapes.items()),
             f"params: {ts.params:,} ({ts.trainable_params:,} trainable)", ""]
    t = _table("phase", "FLOPs (matrix)", "other FLOPs", "x forward",
               right=("FLOPs (matrix)", "other FLOPs", "x forward"))
    fw = ts.forward_flops or 1
    for key, label in (("forward", "forward"), ("loss", "loss"),
                       ("input_grad", "backward: input gradients"),
                       ("weight_grad", "backward: weight gradients"),
                       ("recompute", "recomputation"), ("optimizer", f"{ts.optimizer} update")):
        t.add_row(label, f"{f[key]:,}", f"{o[key]:,}", f"{f[key] / fw:.3f}")
    rows = _table("module", "kind", "trainable", "forward", "input grad", "weight grad",
                  "bwd/fwd", right=("trainable", "forward", "input grad", "weight grad",
                                    "bwd/fwd"))
    for r in ts.layers:
        if depth is not None and r.depth >= depth:
            continue
        rows.add_row("  " * r.depth + r.path.rpartition(".")[2], r.kind, si(r.trainable),
                     si(r.flops["forward"], "FLOP"), si(r.flops["input_grad"], "FLOP"),
                     si(r.flops["weight_grad"], "FLOP"), _ratio(r.ratio))
    tail = [f"measured backward/forward ratio: {_ratio(ts.backward_ratio)} "
            f"(conventional: 2; training = (1 + ratio) x forward x examples)"]
    tail += [f"note: {n}" for n in ts.notes]
    return "\n".join(lines) + "\n" + _to_text(t) + "\n" + _to_text(rows) + "\n" + "\n".join(tail) + "\n"


def to_json(ts) -> dict:
    return ts.to_dict()
