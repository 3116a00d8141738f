"""The cross-check: one spec counted four independent ways, compared layer by layer.

Witnesses, each sharing no counting code with the analytic engine:

* **analytic**: the spec's formulas (:mod:`estimator.analytic`), the reference;
* **torch**: the spec built as an ``nn.Module`` and counted at dispatch level
  (:func:`estimator.graphs.torch_count.count_module`): on CPU with real tensors up to
  ``CPU_MAX_PARAMS`` and ``CPU_MAX_FLOPS``, on the meta device above (:func:`device_for`);
* **onnx**: the same module exported with ``torch.onnx.export``, run by onnxruntime on
  random input of the declared shape (a graph that does not run is not a witness), then
  counted from its initializers and shape-inferred graph (:mod:`estimator.graphs.onnx_count`);
* **fvcore**: ``FlopCountAnalysis`` and ``parameter_count`` on the same module on the same
  device (on meta, where fvcore's trace fails on meta tensors, as it does for convolutions,
  a CPU build with real weights up to ``FVCORE_CPU_MAX_PARAMS``), converted to 2 FLOPs per
  multiply-add (:mod:`estimator.graphs.fvcore_count`).

Tolerances (the verdict of each cell):

* parameters: exact, always;
* forward (matrix-class) FLOPs: exact where the witness counts the same operators
  (``ok``). Where a witness reports that it skipped an operator (fvcore has no handle for
  ``aten::scaled_dot_product_attention`` or ``aten::lstm``), the difference must equal,
  exactly, the analytic FLOPs of the layers that operator computes; the row then says so
  (``explained``). Any other difference is ``differs`` and the check fails (exit 1).
* a layer path the witness's module tree lacks (the analytic ``attn.sdpa`` part is work
  the ``attn`` module does itself) takes the parent's own remainder when it is the only
  such child; otherwise the cell is ``-`` (not compared; the parent row still is).

Size (``size="auto"``, the default): a spec with a ``reduced:`` block is compared layer by
layer at that size (same structure, fewer units: every witness at that size, onnxruntime on
a small CPU build), and the torch and fvcore witnesses are also compared with the analytic
totals at full size (on CPU up to the CPU limits, fvcore there up to
``FVCORE_FULL_CPU_FLOPS``; on the meta device above, no weights in memory). A spec without a
``reduced:`` block is compared whole when it has at most ``max_full_params`` parameters.
``size="full"`` runs every witness at full size (real weights on CPU for the ONNX export
and, where fvcore's trace fails on meta tensors, for fvcore). Each witness records the size
it ran at.

Each module is built once per size and device and shared by the witnesses that need it
(:class:`Builds`): the CPU build by the ONNX export, torch and fvcore (or fvcore's CPU
fallback), the meta-device build by torch and fvcore above the CPU limits.

Several specs checked in one process (the catalog in the test suite; a caller of
:func:`check` looping over spec files) often reduce to the same model: Llama-2-7B and Llama-2-13B at their ``reduced:``
size are one graph. With a :class:`SharedRuns` passed to :func:`check`, the witness runs at
the reduced size are made once per distinct structure (:func:`structure_key`: the resolved
layer tree and inputs) and reused, each reused run saying whose run it is
(``WitnessRun.shared_with``); the full size is counted for every spec.
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..count import Count, CountResult
from ..errors import PCError
from ..units import si

WITNESSES = ("torch", "onnx", "fvcore")
MAX_FULL_PARAMS = 100_000_000   # the ONNX witness exports at most this many parameters whole
# --size auto: specs up to this size are checked whole by every witness; larger ones with a
# reduced: block get the table (every witness) at that size, torch and fvcore also whole
# (device_for). The full-size ONNX export and onnxruntime run with real weights are what
# made a check cost seconds to minutes; --size full asks for them.
AUTO_FULL_PARAMS = 1_000_000
# Where the torch and fvcore witnesses run the module: on CPU with real tensors up to
# CPU_MAX_PARAMS parameters and CPU_MAX_FLOPS forward FLOPs (analytic), on the meta device
# above. Both count by shapes, so the figures are the same; the meta device needs no memory
# for weights and does no arithmetic, but torch's meta kernels are Python reference code
# (even `x + x`) whose first call imports torch._dynamo and sympy: measured, about 1x the
# CPU of `import torch`, once per process, about what a forward of 50 GFLOPs costs on one
# CPU thread (ResNet-152 whole, 23 GFLOPs: 0.3 s of arithmetic, 0.6 s counted). 100M
# parameters are 400 MB of float32 weights.
CPU_MAX_PARAMS = 100_000_000
CPU_MAX_FLOPS = 50_000_000_000
# When the table is at the reduced size and the full size is counted on CPU, fvcore also
# traces the full-size CPU build up to this many forward FLOPs; above, that run (a second
# forward for the dead-end search and a TorchScript trace of the whole model: 0.8 s CPU for
# ResNet-50) is opt-in (--size full) and torch alone checks the full size.
FVCORE_FULL_CPU_FLOPS = 1_000_000_000
# A full-size build that only torch and fvcore count is made without initial values
# (build_module(init=False)): its weights are allocated and never written, address space
# rather than memory, so above CPU_MAX_PARAMS it still runs on CPU, both witnesses whole, up
# to UNWRITTEN_CPU_MAX_PARAMS (4 GB of float32 address space) and UNWRITTEN_CPU_MAX_FLOPS:
# a 10-GFLOP forward costs about 0.3 s on one CPU thread, less than the import of
# torch._dynamo that the meta device's first kernel costs (the LSTM seq2seq, 384M
# parameters, 240M of them embedding rows of which a forward reads 60: 318 MB peak).
UNWRITTEN_CPU_MAX_PARAMS = 1_000_000_000
UNWRITTEN_CPU_MAX_FLOPS = 10_000_000_000

# Operators a witness may report as skipped -> analytic row kinds whose FLOPs they compute.
BLIND_KINDS = {
    "aten::scaled_dot_product_attention": {"sdpa"},
    "aten::_scaled_dot_product_attention": {"sdpa"},
    "aten::_scaled_dot_product_flash_attention": {"sdpa"},
    "aten::_scaled_dot_product_efficient_attention": {"sdpa"},
    "aten::_scaled_dot_product_flash_attention_for_cpu": {"sdpa"},
    "aten::_native_multi_head_attention": {"sdpa"},
    "aten::lstm": {"lstm"}, "aten::gru": {"gru"},
    "aten::rnn_tanh": {"rnn"}, "aten::rnn_relu": {"rnn"},
    "aten::conv_transpose1d": {"conv_transpose1d"},
    "aten::conv_transpose2d": {"conv_transpose2d"},
    "aten::conv_transpose3d": {"conv_transpose3d"},
    "LSTM": {"lstm"}, "GRU": {"gru"}, "RNN": {"rnn"},
}

OK, EXPLAINED, DIFFERS, ABSENT = "ok", "explained", "differs", "-"
_RANK = {ABSENT: 0, OK: 1, EXPLAINED: 2, DIFFERS: 3}


@dataclass
class WitnessRun:
    """One witness on one spec: whether it ran, at which size, and its count."""

    name: str
    status: str                      # "ran", "cannot" (reason given) or "differs"
    size: str = ""                   # "full" or "reduced"
    reason: str = ""
    result: CountResult | None = None
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)
    # a run made for another spec of the identical structure (SharedRuns), reused here:
    # {"name": that spec's name, "file": its file}; None for a run made for this spec
    shared_with: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"status": self.status, "size": self.size, "reason": self.reason,
             "seconds": round(self.seconds, 3), "shared_with": self.shared_with}
        if self.result is not None:
            d.update({"params": self.result.params,
                      "forward_flops": self.result.forward_flops,
                      "other_flops": self.result.other_flops,
                      "unknown_ops": dict(self.result.unknown_ops),
                      "notes": list(self.result.notes)})
        d.update(self.detail)
        return d


@dataclass
class Cell:
    params: int | None
    forward_flops: int | None
    verdict: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = {"params": self.params, "forward_flops": self.forward_flops, "verdict": self.verdict}
        if self.note:
            d["note"] = self.note
        return d


@dataclass
class CheckRow:
    path: str
    kind: str
    depth: int
    analytic: Count
    cells: dict[str, Cell]

    @property
    def verdict(self) -> str:
        """The worst cell; ``-`` when no witness compared this row."""
        return max((c.verdict for c in self.cells.values()), key=_RANK.get, default=ABSENT)

    @property
    def note(self) -> str:
        return "; ".join(f"{w}: {c.note}" for w, c in self.cells.items() if c.note)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "depth": self.depth,
                "analytic": {"params": self.analytic.params,
                             "forward_flops": self.analytic.forward_flops},
                **{w: c.to_dict() for w, c in self.cells.items()},
                "verdict": self.verdict}


@dataclass
class CheckResult:
    """Everything ``paramcount check`` shows: per-layer rows, totals, witnesses, sizes."""

    name: str
    file: str | None
    size: str                                   # size of the per-layer table
    overrides: dict
    reason: str                                 # why reduced
    analytic: CountResult                       # at the table's size
    analytic_full: CountResult
    witnesses: dict[str, WitnessRun]
    rows: list[CheckRow]
    total: CheckRow
    full_size: dict[str, Cell] = field(default_factory=dict)   # witness -> totals at full size
    full_witnesses: dict[str, WitnessRun] = field(default_factory=dict)

    @property
    def ran(self) -> list[str]:
        """The witnesses that produced a count, the analytic one first."""
        return ["analytic"] + [w for w, r in self.witnesses.items() if r.status == "ran"]

    @property
    def checked(self) -> bool:
        """At least two counts (the analytic one and a witness) were compared: fewer is no
        check at all, whatever the rows say."""
        return len(self.ran) >= 2

    @property
    def verdict(self) -> str:
        """``agree`` (exit 0), ``disagree`` (exit 1) or ``not checked`` (exit 2)."""
        if self.failures:
            return "disagree"
        return "agree" if self.checked else "not checked"

    @property
    def failures(self) -> list[str]:
        out = [f"{r.path}: {w}" for r in self.rows for w, c in r.cells.items()
               if c.verdict == DIFFERS]
        out += [f"total: {w}" for w, c in self.total.cells.items() if c.verdict == DIFFERS]
        out += [f"total at full size: {w}" for w, c in self.full_size.items()
                if c.verdict == DIFFERS]
        out += [f"{w.name}: {w.reason}" for w in self.witnesses.values() if w.status == DIFFERS]
        return out

    @property
    def ok(self) -> bool:
        return self.verdict == "agree"

    @property
    def shared_with(self) -> dict | None:
        """The spec whose witness runs at this table's size this check reused (an identical
        structure checked earlier in the process, :class:`SharedRuns`), or None."""
        return next((r.shared_with for r in self.witnesses.values() if r.shared_with), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "file": self.file, "ok": self.ok, "verdict": self.verdict,
            "witnesses_ran": self.ran, "size": self.size,
            "overrides": dict(self.overrides), "reason": self.reason,
            "shared_with": self.shared_with,
            "tolerance": {"params": "exact",
                          "forward_flops": "exact where the witness counts the same operators;"
                                           " otherwise the difference is explained exactly"},
            "witnesses": {"analytic": {"status": "ran", "size": self.size},
                          **{k: v.to_dict() for k, v in self.witnesses.items()}},
            "total": self.total.to_dict(),
            "full_size": ({"analytic": {"params": self.analytic_full.params,
                                        "forward_flops": self.analytic_full.forward_flops},
                           **{k: v.to_dict() for k, v in self.full_size.items()},
                           "witnesses": {k: v.to_dict() for k, v in self.full_witnesses.items()}}
                          if self.size == "reduced" else None),
            "failures": self.failures,
            "layers": [r.to_dict() for r in self.rows],
        }


# ---------------------------------------------------------------------------------------
# running the witnesses
# ---------------------------------------------------------------------------------------

def _reason(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, PCError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:300]


EXTRA_OF = {"torch": "torch", "onnx": "onnx", "onnxruntime": "onnx", "fvcore": "fvcore"}


def _missing(module: str) -> str | None:
    import importlib.util

    install = f"pip install 'paramcount[{EXTRA_OF.get(module, 'all')}]'"
    try:
        return None if importlib.util.find_spec(module) is not None else \
            f"{module} is not installed ({install})"
    except (ImportError, ValueError):
        return f"{module} cannot be imported ({install})"


class Builds:
    """Each spec's ``nn.Module``, built once per device and shared by the witnesses (none
    of them changes it: the counters restore what they touch). ``counted_only``: specs
    whose CPU build only torch and fvcore count (the full size when the table is reduced),
    built without initial values (:func:`~estimator.graphs.torch_build.build_module`
    ``init=False``: the weights are allocated, never written): their counts read shapes,
    never values."""

    def __init__(self, counted_only=()):
        self._built: dict = {}
        self._counted_only = {id(s) for s in counted_only}

    def module(self, spec, device: str):
        key = (id(spec), device)
        if key not in self._built:
            from .torch_build import build_module

            init = device == "meta" or id(spec) not in self._counted_only
            self._built[key] = (spec, build_module(spec, device=device, init=init))
        return self._built[key][1]


def device_for(res: CountResult, unwritten: bool = False) -> str:
    """``"cpu"`` for a model of at most :data:`CPU_MAX_PARAMS` parameters and
    :data:`CPU_MAX_FLOPS` forward FLOPs (analytic), ``"meta"`` above: where the torch and
    fvcore witnesses run it. ``unwritten``: a build whose weights are never written (only
    counted) runs on CPU also up to :data:`UNWRITTEN_CPU_MAX_PARAMS` and
    :data:`UNWRITTEN_CPU_MAX_FLOPS`."""
    if res.params <= CPU_MAX_PARAMS and res.forward_flops <= CPU_MAX_FLOPS:
        return "cpu"
    if unwritten and res.params <= UNWRITTEN_CPU_MAX_PARAMS \
            and res.forward_flops <= UNWRITTEN_CPU_MAX_FLOPS:
        return "cpu"
    return "meta"


def run_torch(spec, size: str, builds: Builds | None = None,
              device: str = "meta") -> WitnessRun:
    """torch's dispatch counter on the spec's build: on the meta device, or on CPU with real
    tensors (``device="cpu"``: no meta kernels to run; same figures)."""
    t0 = time.perf_counter()
    builds = builds or Builds()
    why = _missing("torch")
    if why:
        return WitnessRun("torch", "cannot", size, why)
    try:
        from .torch_count import count_module
    except ImportError as exc:
        return WitnessRun("torch", "cannot", size, f"the torch counter is unavailable: {exc}")
    try:
        from .torch_build import example_inputs

        model = builds.module(spec, device)
        res = count_module(model, example_inputs(spec, device=device), name=spec.name,
                           device="meta" if device == "meta" else "real")
    except Exception as exc:  # a witness that cannot run says why, in its column
        return WitnessRun("torch", "cannot", size, _reason(exc),
                          seconds=time.perf_counter() - t0)
    return WitnessRun("torch", "ran", size,
                      "meta device" if device == "meta" else "CPU, real tensors", res,
                      seconds=time.perf_counter() - t0)


FVCORE_CPU_MAX_PARAMS = 300_000_000   # fvcore falls back to real CPU weights up to this size


def run_fvcore(spec, size: str, params: int | None = None, builds: Builds | None = None,
               cpu: bool = True, device: str = "meta") -> WitnessRun:
    """fvcore on the spec's build on ``device``. On CPU (``device="cpu"``, real tensors) only
    when ``cpu``: otherwise it says the CPU run is opt-in. On the meta device, where its
    trace fails on meta tensors (torch's meta kernel of convolution raises inside
    ``torch.jit.trace``), on a CPU build with real weights when ``cpu`` and the model has at
    most ``FVCORE_CPU_MAX_PARAMS`` parameters."""
    t0 = time.perf_counter()
    builds = builds or Builds()
    why = _missing("fvcore") or _missing("torch")
    if why:
        return WitnessRun("fvcore", "cannot", size, why)
    from .fvcore_count import count_fvcore
    from .torch_build import example_inputs

    how = "CPU, real tensors"
    if device == "cpu" and not cpu:
        return WitnessRun("fvcore", "cannot", size,
                          "its trace of the whole model on CPU (more than "
                          f"{si(FVCORE_FULL_CPU_FLOPS, 'FLOP')} forward) is opt-in "
                          "(--size full); torch checks the full size")
    if device == "meta":
        try:
            model = builds.module(spec, "meta")
            res = count_fvcore(model, example_inputs(spec, device="meta"), name=spec.name)
            return WitnessRun("fvcore", "ran", size, "meta device; 1 multiply-add = 2 FLOPs",
                              res, seconds=time.perf_counter() - t0)
        except Exception as exc:
            meta_error = _reason(exc)
        if params is not None and params > FVCORE_CPU_MAX_PARAMS:
            return WitnessRun("fvcore", "cannot", size,
                              f"on the meta device: {meta_error}; {params:,} parameters are "
                              "too many to materialise on CPU", seconds=time.perf_counter() - t0)
        if not cpu:
            return WitnessRun("fvcore", "cannot", size,
                              f"on the meta device: {meta_error}; the full-size run on CPU "
                              "with real weights is opt-in (--size full)",
                              seconds=time.perf_counter() - t0)
        how = "CPU with real weights (its trace fails on the meta device)"
    try:
        model = builds.module(spec, "cpu")
        res = count_fvcore(model, example_inputs(spec, device="cpu"), name=spec.name)
    except Exception as exc:
        return WitnessRun("fvcore", "cannot", size, _reason(exc),
                          seconds=time.perf_counter() - t0)
    return WitnessRun("fvcore", "ran", size, f"{how}; 1 multiply-add = 2 FLOPs", res,
                      seconds=time.perf_counter() - t0)


def run_onnx(spec, size: str, folder: Path | None = None,
             builds: Builds | None = None) -> WitnessRun:
    t0 = time.perf_counter()
    builds = builds or Builds()
    why = _missing("onnx") or _missing("onnxruntime") or _missing("torch")
    if why:
        return WitnessRun("onnx", "cannot", size, why)
    from .onnx_count import count_onnx
    from .onnx_export import export_spec

    shm = Path("/dev/shm")
    base = str(shm) if folder is None and shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="paramcount-check-", dir=base) as tmp:
        out = Path(folder or tmp) / "model.onnx"
        try:
            model = builds.module(spec, "cpu")
            rep = export_spec(spec, out, size="full", max_full_params=10 ** 18, model=model)
        except Exception as exc:
            reason = _reason(exc)
            status = DIFFERS if "does not match the spec's declared output" in reason \
                else "cannot"
            return WitnessRun("onnx", status, size, reason, seconds=time.perf_counter() - t0)
        try:
            res = count_onnx(out, name=spec.name)
        except Exception as exc:
            return WitnessRun("onnx", "cannot", size, _reason(exc),
                              seconds=time.perf_counter() - t0)
    detail = {"exporter": rep.exporter, "opset": rep.opset,
              "onnxruntime_output_shape": list(rep.ort_output_shape or ()),
              "declared_output_shape": list(rep.expected_output_shape or ())}
    return WitnessRun("onnx", "ran", size,
                      f"{rep.exporter}, opset {rep.opset}; onnxruntime output "
                      f"{'x'.join(map(str, rep.ort_output_shape or ()))} = declared",
                      res, seconds=time.perf_counter() - t0, detail=detail)


# ---------------------------------------------------------------------------------------
# comparing
# ---------------------------------------------------------------------------------------

def _short(op: str) -> str:
    op = op.split(" ")[0].replace("aten::", "")
    if op == "_convolution_mode":
        return "conv with padding 'same' (_convolution_mode)"
    return "SDPA" if "scaled_dot_product" in op or "multi_head_attention" in op else op


def _parent(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def _witness_map(res: CountResult, paths: set[str]) -> dict[str, Count]:
    """Witness path -> count. A module object called more than once (a ``shared: true``
    copy) is named ``q``, then ``q_1``, ``q_2``... for each later call in an exported graph's
    scopes (the TorchScript tracer's naming): a segment ``X_N`` that no analytic row has,
    where ``X`` is one, is that module's later use, so its work is added to ``X``'s."""
    m: dict[str, Count] = {}
    for r in res.layers:
        parts = r.path.split(".")
        for j, seg in enumerate(parts):
            base, _, n = seg.rpartition("_")
            here = ".".join(parts[:j] + [seg])
            if base and n.isdigit() and here not in paths and \
                    ".".join(parts[:j] + [base]) in paths:
                parts[j] = base
        path = ".".join(parts)
        c = r.count
        if path in m:
            c = Count(m[path].params + c.params, 0, m[path].forward_flops + c.forward_flops, 0)
        m[path] = c
    m[""] = res.total
    return m


def _blind_paths(res: CountResult) -> dict[str, str]:
    """Module paths where the witness says it skipped a matrix-class operator (fvcore's
    ``aten::_convolution_mode`` for a conv with ``padding: same``) -> that operator."""
    return {path: sorted(ops)[0] for path, ops in
            (res.extra.get("skipped_by_module") or {}).items() if ops}


def _blind_kinds(res: CountResult) -> dict[str, str]:
    """Analytic kinds this witness cannot see -> the operator it skipped."""
    out: dict[str, str] = {}
    for op in res.unknown_ops:
        for kind in BLIND_KINDS.get(op.split(" ")[0], ()):
            out[kind] = op
    return out


def _unexplained_ops(res: CountResult) -> list[str]:
    seen = {op for ops in (res.extra.get("skipped_by_module") or {}).values() for op in ops}
    return [op for op in res.unknown_ops
            if op.split(" ")[0] not in BLIND_KINDS and op not in seen]


def compare(analytic: CountResult, witness: CountResult) -> tuple[dict[str, Cell], Cell]:
    """Cells for every analytic row path, and the total cell."""
    rows = analytic.layers
    wmap = _witness_map(witness, {r.path for r in rows})
    blind = _blind_kinds(witness)
    blind_at = _blind_paths(witness)
    loose = _unexplained_ops(witness)
    by_path = {r.path: r for r in rows}
    children: dict[str, list[str]] = {}
    for r in rows:
        children.setdefault(_parent(r.path), []).append(r.path)
    wchildren: dict[str, list[str]] = {}
    for p in wmap:
        if p:
            wchildren.setdefault(_parent(p), []).append(p)
    # blind FLOPs per path: leaf rows of a blind kind, summed up the tree
    blind_flops: dict[str, int] = {}
    blind_ops: dict[str, set] = {}
    for r in rows:
        # a part row (kind "part") is named by its last segment: q, k, v, sdpa, o, up...
        kind = r.path.rsplit(".", 1)[-1] if r.kind == "part" else r.kind
        op = blind.get(kind) or blind_at.get(r.path)
        if r.leaf and op:
            parts = r.path.split(".")
            for j in range(0, len(parts) + 1):
                p = ".".join(parts[:j])
                blind_flops[p] = blind_flops.get(p, 0) + r.count.forward_flops
                blind_ops.setdefault(p, set()).add(op)

    def value(path: str) -> tuple[Count | None, str]:
        if path in wmap:
            return wmap[path], ""
        parent = _parent(path)
        if parent not in wmap:
            return None, ""
        missing = [c for c in children.get(parent, []) if c not in wmap]
        if missing != [path]:
            return None, ""
        own = wmap[parent]
        for c in wchildren.get(parent, []):
            own = Count(own.params - wmap[c].params, 0,
                        own.forward_flops - wmap[c].forward_flops, 0)
        return own, f"own work of {parent.rsplit('.', 1)[-1] or 'the model'}"

    einsum = witness.extra.get("einsum_by_module") or {}
    einsum = {p: v for p, v in einsum.items() if p in wmap or p == ""}

    def cell(path: str, a: Count) -> Cell:
        w, note = value(path)
        if w is None:
            return Cell(None, None, ABSENT, "")
        return judge(w, note, a, blind_flops.get(path, 0), blind_ops.get(path, ()),
                     einsum.get(path, 0) if path in wmap else 0)

    def judge(w: Count, note: str, a: Count, b: int, ops, e: int = 0) -> Cell:
        """``e``: the witness's einsum FLOPs here, read to 4 significant digits (fvcore), so
        within ``e // 1000`` of exact; 0 where the witness counts einsums exactly."""
        notes = []
        verdict = OK
        if w.params != a.params:
            verdict = DIFFERS
            notes.append(f"params {w.params:,} vs analytic {a.params:,}")
        diff = a.forward_flops - w.forward_flops
        if diff:
            tol = e // 1000
            if (b or tol) and abs(diff - b) <= tol:
                if verdict == OK:
                    verdict = EXPLAINED
                if b:
                    ops = ", ".join(sorted({_short(o) for o in ops}))
                    notes.append(f"skips {ops}: -{si(b, 'FLOP')}")
                if diff != b:
                    notes.append(f"einsum FLOPs {b - diff:+,}: numpy's estimate read to 4 "
                                 f"significant digits (within {tol:,} of {si(e, 'FLOP')})")
                elif b:
                    notes[-1] += " exactly"
            else:
                verdict = DIFFERS
                extra = f" (uncounted ops: {', '.join(loose)})" if loose else ""
                notes.append(f"FLOPs {w.forward_flops:,} vs analytic {a.forward_flops:,}"
                             f"{extra}")
        if notes and note:
            notes.insert(0, note)
        return Cell(w.params, w.forward_flops, verdict, "; ".join(notes))

    cells = {r.path: cell(r.path, r.count) for r in rows}
    # One module used at several paths (``shared: true`` copies, ``share: PATH``) is one
    # module object in the built model: torch's hooks and fvcore file every use under the
    # first path, an ONNX export may spread them over the uses. So every witness's rows of
    # one module's uses are summed, as are the analytic ones, and the sums compared on the
    # first use's row; the other uses' rows point there. A later use's row counts where the
    # witness has it, or as the own work of a parent inside the module (an attention's sdpa);
    # the own work of a parent outside it would count the module's work a second time.
    groups = _uses(rows)
    inside = {u for uses in groups.values() for u in uses}
    for first, uses in groups.items():
        got = [value(u)[0] if i == 0 or u in wmap or _parent(u) in inside else None
               for i, u in enumerate(uses)]
        if all(c is None for c in got):
            continue
        a = w = Count()
        for r in uses:
            a = a + by_path[r].count
        for c in got:
            if c is not None:
                w = Count(w.params + c.params, 0, w.forward_flops + c.forward_flops, 0)
        ops = set().union(*(blind_ops.get(u, set()) for u in uses))
        b = sum(blind_flops.get(u, 0) for u in uses)
        e = sum(einsum.get(u, 0) for u, c in zip(uses, got) if c is not None and u in wmap)
        note = (f"{len(uses)} uses of one module summed (analytic {a.params:,} params, "
                f"{a.forward_flops:,} FLOPs)")
        cells[first] = judge(w, note, a, b, ops, e)
        cells[first].note = cells[first].note or note
        for u in uses[1:]:
            cells[u] = Cell(None, None, ABSENT, f"one module with {first}: compared there")
    total = cell("", analytic.total)
    return cells, total


def _uses(rows) -> dict[str, list[str]]:
    """First path -> every path that uses that module (itself first), for each row inside a
    shared module: ``encoder.0.attn`` -> ``encoder.0.attn``, ``encoder.1.attn``... Rows of a
    use that the first has no counterpart for are left to the row-by-row comparison."""
    paths = {r.path for r in rows}
    roots = {r.path: r.share_from for r in rows if r.share_from}

    def first(path: str) -> str:
        for _ in range(len(roots) + 1):  # a chain of shares ends within that many steps
            parts = path.split(".")
            for j in range(len(parts), 0, -1):
                src = roots.get(".".join(parts[:j]))
                if src is not None:
                    path = ".".join([src] + parts[j:])
                    break
            else:
                return path
        return path

    out: dict[str, list[str]] = {}
    for r in rows:
        f = first(r.path)
        if f != r.path and f in paths:
            out.setdefault(f, [f]).append(r.path)
    return out


def _sizes(spec, size: str, max_full_params: int, auto_full_params: int):
    from ..analytic import analyze, load_spec

    full = analyze(spec)
    if size not in ("auto", "full", "reduced"):
        raise ValueError(f"size must be auto, full or reduced, not {size!r}")
    reduced = dict(getattr(spec, "reduced", None) or {})
    limit = min(max_full_params, auto_full_params)
    if size == "full" or (size == "auto" and full.params <= limit) or not reduced:
        why = ""
        if size != "full" and not reduced and (size == "reduced"
                                               or full.params > max_full_params):
            why = "the spec has no reduced: block"
        return spec, full, full, "full", {}, why
    small = load_spec(spec, overrides=reduced)
    if size == "reduced":
        reason = "reduced size requested"
    elif full.params > max_full_params:
        reason = (f"{full.params:,} parameters is more than the {max_full_params:,} "
                  "that are exported whole")
    else:
        reason = (f"{full.params:,} parameters is more than the {limit:,} checked whole by "
                  "default (--size full checks every witness whole)")
    return small, analyze(small), full, "reduced", reduced, reason


def structure_key(spec) -> str:
    """A canonical text of everything that determines a spec's built module and its example
    input: every input's name, shape and kind, and every layer's resolved configuration
    (kind, name, sizes, flags, repeat, sharing, tying, ``from:``; nested layers included),
    as JSON. Two specs with equal keys build the same graph; the name, citation, published
    figures and variables (already resolved into the layers) are not part of it."""
    inputs = [[i.name, list(i.shape), bool(i.ids)] for i in spec.inputs.values()]
    layers = [layer.model_dump(mode="json", by_alias=True) for layer in spec.layers]
    return json.dumps([inputs, layers], sort_keys=True, separators=(",", ":"))


class SharedRuns:
    """Witness runs at the reduced size, kept by structure for the specs checked after:
    ``shared = SharedRuns(); check(a, shared=shared); check(b, shared=shared)``. A run that
    ran is reused for a later spec of the identical structure (:func:`structure_key`) run on
    the same device, as a copy naming the spec it was made for (``shared_with``); a
    run that could not run is not kept (the next spec tries again)."""

    def __init__(self):
        self._runs: dict[tuple, dict[str, WitnessRun]] = {}

    def get(self, key: tuple, witness: str, spec) -> WitnessRun | None:
        run = self._runs.get(key, {}).get(witness)
        if run is None:
            return None
        result = copy.deepcopy(run.result)
        if result is not None:
            result.name = spec.name
        return replace(run, result=result, detail=copy.deepcopy(run.detail),
                       shared_with=dict(run.shared_with))

    def put(self, key: tuple, run: WitnessRun, spec) -> None:
        # kept as it is (the check that made it does not change it); get() hands out copies
        if run.status == "ran" and run.shared_with is None:
            kept = copy.copy(run)
            kept.shared_with = {"name": spec.name, "file": getattr(spec, "file", None)}
            self._runs.setdefault(key, {}).setdefault(run.name, kept)


@contextlib.contextmanager
def _one_thread():
    """torch on one intra-op thread while the witnesses run: their CPU work is small
    (reduced-size builds, tracing), and on a shared machine the second thread's spin-waits
    cost several times the arithmetic (measured: 200 small convolutions, 0.25 s CPU on two
    threads against 0.04 s on one)."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check(spec_or_path, *, size: str = "auto", witnesses=WITNESSES,
          max_full_params: int | None = None, onnx_folder: Path | None = None,
          auto_full_params: int | None = None, full_size_witnesses=None,
          shared: SharedRuns | None = None) -> CheckResult:
    """Cross-check a spec (path or loaded spec) against every witness that can run it.

    ``size``: "auto" (whole up to ``auto_full_params``, default :data:`AUTO_FULL_PARAMS`;
    above it the spec's ``reduced:`` size for the table, torch and fvcore also at full size,
    on CPU or the meta device as :func:`device_for` says), "full" or "reduced".
    ``max_full_params`` (default :data:`MAX_FULL_PARAMS`): the most parameters the ONNX
    witness exports whole.
    ``full_size_witnesses``: which of torch and fvcore also run whole when the table is at
    the reduced size (default: those in ``witnesses``).
    ``shared``: a :class:`SharedRuns` kept across the specs checked in one process; when
    the table is at the reduced size, the witness runs of an identical structure checked
    before are reused (each says so), and this check's runs are kept for the specs after.
    Not with ``onnx_folder`` (each spec's graph is written there)."""
    if max_full_params is None:
        max_full_params = MAX_FULL_PARAMS
    if auto_full_params is None:
        auto_full_params = AUTO_FULL_PARAMS
    if full_size_witnesses is None:
        full_size_witnesses = witnesses
    args = (spec_or_path, size, witnesses, max_full_params, auto_full_params, onnx_folder,
            full_size_witnesses, shared if onnx_folder is None else None)
    if _missing("torch") is None:
        with _one_thread():
            return _check(*args)
    return _check(*args)


def _check(spec_or_path, size, witnesses, max_full_params, auto_full_params,
           onnx_folder, full_size_witnesses, shared) -> CheckResult:
    from ..analytic import load_spec

    spec = load_spec(spec_or_path) if isinstance(spec_or_path, (str, Path)) else spec_or_path
    table_spec, analytic, full, size_used, overrides, reason = _sizes(
        spec, size, max_full_params, auto_full_params)
    # the full-size spec's CPU build, when the table is at the reduced size, is only counted
    builds = Builds(counted_only=[spec] if table_spec is not spec else [])
    dev = device_for(analytic)
    runners = {"torch": lambda s, z: run_torch(s, z, builds, dev),
               "fvcore": lambda s, z: run_fvcore(s, z, analytic.params, builds, device=dev),
               "onnx": lambda s, z: run_onnx(s, z, onnx_folder, builds)}
    runs: dict[str, WitnessRun] = {}
    # the runs at the reduced size are shared between identical structures; a full-size
    # table is always this spec's own
    key = (structure_key(table_spec), dev) if shared is not None and size_used == "reduced" \
        else None
    for w in WITNESSES:
        if w not in witnesses:
            runs[w] = WitnessRun(w, "cannot", size_used, "not requested")
            continue
        if w == "onnx" and size_used == "full" and full.params > max_full_params:
            runs[w] = WitnessRun(w, "cannot", "full",
                                 f"{full.params:,} parameters is more than the "
                                 f"{max_full_params:,} exported whole"
                                 + (" (full size was requested)" if size == "full" else
                                    ", and the spec has no reduced: block"))
            continue
        reused = shared.get(key, w, spec) if key else None
        runs[w] = reused or runners[w](table_spec, size_used)
        if key:
            shared.put(key, runs[w], spec)

    per_witness = {w: compare(analytic, r.result) for w, r in runs.items()
                   if r.status == "ran" and r.result is not None}
    rows = []
    for r in analytic.layers:
        cells = {w: (per_witness[w][0][r.path] if w in per_witness else Cell(None, None, ABSENT))
                 for w in WITNESSES}
        rows.append(CheckRow(r.path, r.kind, r.depth, r.count, cells))
    total = CheckRow("total", "", 0, analytic.total,
                     {w: (per_witness[w][1] if w in per_witness else Cell(None, None, ABSENT))
                      for w in WITNESSES})

    full_cells: dict[str, Cell] = {}
    full_runs: dict[str, WitnessRun] = {}
    if size_used == "reduced":
        # full size by torch and fvcore, on one build: on CPU up to CPU_MAX_PARAMS and
        # CPU_MAX_FLOPS (fvcore there up to FVCORE_FULL_CPU_FLOPS), on meta above; the ONNX
        # export at full size is what --size full asks for
        dev = device_for(full, unwritten=True)
        # above CPU_MAX_PARAMS fvcore runs whole where the meta device would have run it
        fv_cpu = dev == "cpu" and (full.forward_flops <= FVCORE_FULL_CPU_FLOPS
                                   or full.params > CPU_MAX_PARAMS)
        for w, runner in (("torch", lambda s, z: run_torch(s, z, builds, dev)),
                          ("fvcore", lambda s, z: run_fvcore(s, z, full.params, builds,
                                                             cpu=fv_cpu, device=dev))):
            if w not in witnesses or w not in full_size_witnesses:
                continue
            run = runner(spec, "full")
            full_runs[w] = run
            if run.status == "ran" and run.result is not None:
                full_cells[w] = compare(full, run.result)[1]
        full_runs["onnx"] = WitnessRun("onnx", "cannot", "full",
                                       f"{reason}; exported at reduced size instead")
    return CheckResult(name=spec.name, file=getattr(spec, "file", None), size=size_used,
                       overrides=overrides, reason=reason, analytic=analytic,
                       analytic_full=full, witnesses=runs, rows=rows, total=total,
                       full_size=full_cells, full_witnesses=full_runs)
