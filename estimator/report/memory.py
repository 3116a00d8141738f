"""Formatting of training memory (``paramcount memory``): formulas beside the measurement."""
from __future__ import annotations

from ..units import si
from .text import _table, _to_text


def gb(v) -> str:
    return "-" if v is None else si(v, "B")


def render(est, measured=None) -> str:
    w, g, k = est.per_param
    head = [f"{est.name}: training memory per device, {est.precision}, {est.optimizer}, "
            f"batch {est.batch} x sequence {est.seq_len}"
            + (f", ZeRO-{est.zero}" if est.zero else "")
            + (f", DP {est.dp}" if est.dp > 1 else "") + (f", TP {est.tp}" if est.tp > 1 else "")
            + (f", PP {est.pp}" if est.pp > 1 else ""),
            f"params: {est.params:,}; {w}+{g}+{k} = {w + g + k} bytes per parameter", ""]
    cols = ["component", "formula"] + (["measured (fake tensors)", "measured / formula"]
                                       if measured else [])
    t = _table(*cols, right=cols[1:])
    comp = [("weights", est.weights, getattr(measured, "weights", None)),
            ("gradients", est.gradients, getattr(measured, "gradients", None)),
            ("optimizer states", est.optimizer_states,
             getattr(measured, "optimizer_states", None)),
            ("activations", est.activations, getattr(measured, "activations", None)),
            ("total / peak", est.total, getattr(measured, "peak", None))]
    for name, f, m in comp:
        row = [name, gb(f)]
        if measured:
            row += [gb(m), f"{m / f:.3f}" if m and f else "-"]
        t.add_row(*row)
    lines = head + [_to_text(t).rstrip()]
    if est.device_bytes is not None:
        verdict = "FITS" if est.fits else "DOES NOT FIT"
        lines.append(f"{est.hardware}: {gb(est.device_bytes)} per device -> {verdict} "
                     f"(margin {gb(est.margin)})")
    lines += [f"note: {n}" for n in est.notes]
    if measured:
        lines += [f"measured: {n}" for n in measured.notes]
    return "\n".join(lines) + "\n"


def to_json(est, measured=None) -> dict:
    out = {"formula": est.to_dict()}
    if measured:
        out["measured"] = measured.to_dict()
    return out
