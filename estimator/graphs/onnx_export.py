"""Export a spec to ONNX through its PyTorch build, and prove the graph runs.

``export_spec(spec, "model.onnx")`` builds the spec's ``nn.Module`` on CPU, gives every
parameter distinct random values, exports it with ``torch.onnx.export`` and runs the graph
with onnxruntime on random input of the declared shape: the output shape must equal the
spec's declared output shape, or the export is refused (a graph that does not run is not a
witness). Nothing is written at ``out`` unless every step succeeded.

Choices, and why:

* **Exporter**: the TorchScript exporter (``dynamo=False``) at its newest opset
  (``ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET``, 20 with torch 2.13). It exports these models in
  well under a second, names every node by its module scope (``/blocks.0/attn/q/MatMul``)
  so per-layer rows line up with spec paths, and handles 3-D ``scaled_dot_product_attention``
  that the dynamo exporter rejects here. The dynamo exporter (``dynamo=True``) is the
  fallback when the TorchScript one fails.
* **No constant folding**: folding would replace a tied weight's transpose by a second,
  renamed copy of the tensor, so tied weights would count twice.
* **Distinct random parameters**: the TorchScript exporter merges initializers with equal
  values (every freshly initialised LayerNorm weight is all ones), which would undercount
  parameters; random values keep them apart, while genuinely shared tensors stay shared.
* **Buffers**: ONNX has no notion of a buffer, so the names of the module's buffers that
  became initializers are written into the model metadata ``paramcount.buffers``;
  :func:`estimator.graphs.onnx_count.count_onnx` leaves them out of the parameters.
* **Size**: the spec is exported as written (``size="full"``, the default), however large
  (up to ``max_bytes`` of weights). A smaller model of the same structure is exported only
  when asked: ``size="reduced"`` (the spec's ``reduced:`` block, ``load_spec(path,
  overrides=spec.reduced)``) or ``size="auto"`` (reduced above ``max_full_params``). The
  report, the file's ``paramcount.size`` metadata and the CLI (a stderr line) say so.
* **Large graphs**: weights over ``EXTERNAL_DATA_BYTES`` go to one external-data file next
  to the model (``model.onnx.data``); graphs over ``max_bytes`` are refused.
* **Layers whose output nothing reads** (a seq2seq encoder when the decoder takes
  ``from: tgt``) would be pruned, weights and all, by a tracing exporter; their outputs are
  kept as extra graph outputs ``unused_0``... (the spec's output stays first).
* **aten::rms_norm** has no TorchScript symbolic below opset 23; one is registered here
  (``x / sqrt(mean(x^2) + eps) * weight``), so RMSNorm models keep module-scoped node names.
* **onnxruntime** runs the graph as exported (``ORT_DISABLE_ALL``: no fusion or constant
  folding first), on one thread: the run proves the graph runs, and optimising it would
  only cost time.
* **Speed**: the metadata is appended to the exporter's file as a second serialised
  ``ModelProto`` (protobuf merges concatenated messages) instead of reloading and re-saving
  the weights; files are staged in a hidden folder beside the destination and moved into
  place only when onnxruntime has run them.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, ModelError, require

MAX_FULL_PARAMS = 100_000_000          # size="auto": larger specs export at reduced size
EXTERNAL_DATA_BYTES = 1_500_000_000    # protobuf's hard limit is 2 GiB per message
MAX_BYTES = 8_000_000_000              # refuse larger graphs outright


@dataclass
class ExportReport:
    """What an export did: size, overrides, files, and the onnxruntime run."""

    name: str
    path: Path | None
    size: str                           # "full" or "reduced"
    overrides: dict = field(default_factory=dict)
    reason: str = ""                    # why reduced
    params: int = 0                     # analytic parameters at the exported size
    full_params: int = 0                # analytic parameters of the spec as written
    exporter: str = ""
    opset: int = 0
    external_data: Path | None = None
    bytes: int = 0
    input_shapes: dict = field(default_factory=dict)
    ort_output_shape: tuple | None = None
    expected_output_shape: tuple | None = None   # batchless, from the spec
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": str(self.path) if self.path else None,
            "size": self.size, "overrides": dict(self.overrides), "reason": self.reason,
            "params": self.params, "full_params": self.full_params,
            "exporter": self.exporter, "opset": self.opset,
            "external_data": str(self.external_data) if self.external_data else None,
            "bytes": self.bytes,
            "input_shapes": {k: list(v) for k, v in self.input_shapes.items()},
            "ort_output_shape": list(self.ort_output_shape) if self.ort_output_shape else None,
            "expected_output_shape": (list(self.expected_output_shape)
                                      if self.expected_output_shape is not None else None),
            "notes": list(self.notes),
        }


def _spec_source(spec):
    for attr in ("path", "source", "file"):
        v = getattr(spec, attr, None)
        if v:
            return v
    return None


def load_at_size(spec_or_path, size: str = "full", max_full_params: int = MAX_FULL_PARAMS):
    """Return ``(spec, analytic_result, size, overrides, reason, full_params)``.

    ``size`` is "full" (the default: the spec as written), "reduced" or "auto" (full unless
    the analytic parameter count exceeds ``max_full_params``).
    """
    from ..analytic import analyze, load_spec

    spec = load_spec(spec_or_path) if isinstance(spec_or_path, (str, Path)) else spec_or_path
    full = analyze(spec)
    reduced = dict(getattr(spec, "reduced", None) or {})
    if size not in ("auto", "full", "reduced"):
        raise InputError(f"size must be auto, full or reduced, not {size!r}")
    want_reduced = size == "reduced" or (size == "auto" and full.params > max_full_params)
    if not want_reduced:
        return spec, full, "full", {}, "", full.params
    name = getattr(spec, "name", None) or full.name
    if not reduced:
        if size == "reduced":
            return spec, full, "full", {}, "the spec has no reduced: block", full.params
        raise ModelError(f"{name} has {full.params:,} parameters, more than the "
                         f"{max_full_params:,} that are exported whole, and its spec has no "
                         "reduced: block to export a smaller model of the same structure")
    src = _spec_source(spec) if not isinstance(spec_or_path, (str, Path)) else spec_or_path
    if src is None:
        raise ModelError(f"{name}: cannot reload the spec at reduced size (no source path)")
    small = load_spec(src, overrides=reduced)
    res = analyze(small)
    reason = (f"{full.params:,} parameters is more than the {max_full_params:,} exported whole"
              if size == "auto" else "reduced size requested")
    return small, res, "reduced", reduced, reason, full.params


def _randomize(model) -> None:
    import torch

    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            # only constant-initialised tensors (norm scales of ones, zero biases) need it:
            # default-initialised weights are random already, and filling 100M+ values costs
            if p.is_floating_point() and p.numel() and bool(p.min() == p.max()):
                p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.02)


def _random_inputs(example):
    import torch

    gen = torch.Generator().manual_seed(1)
    out = []
    for t in example:
        if t.is_floating_point():
            out.append(torch.randn(t.shape, generator=gen, dtype=t.dtype))
        else:
            hi = int(t.max()) + 1 if t.numel() else 1
            out.append(torch.randint(0, max(hi, 1), t.shape, generator=gen, dtype=t.dtype))
    return tuple(out)


@contextlib.contextmanager
def _quiet_fds():
    """Silence the exporters at the file-descriptor level too: the TorchScript exporter's C++
    side prints whole graphs to stderr when it fails, past ``sys.stderr``."""
    import sys

    saved = []
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # pragma: no cover
        pass
    with tempfile.TemporaryFile() as sink:
        try:
            for fd in (1, 2):
                saved.append((fd, os.dup(fd)))
                os.dup2(sink.fileno(), fd)
        except OSError:  # pragma: no cover - no real descriptors (embedded interpreters)
            pass
        try:
            yield
        finally:
            for fd, dup in saved:
                os.dup2(dup, fd)
                os.close(dup)


def _rms_norm_symbolic(g, x, normalized_shape, weight, eps):
    """aten::rms_norm for the TorchScript exporter (it has none below opset 23):
    y = x / sqrt(mean(x^2 over the normalised dims) + eps) * weight."""
    import torch
    from torch.onnx import symbolic_helper as sh

    dims = sh._get_const(normalized_shape, "is", "normalized_shape")
    axes = g.op("Constant", value_t=torch.tensor(list(range(-len(dims), 0)), dtype=torch.long))
    e = sh._maybe_get_const(eps, "f")
    if sh._is_value(e) or e is None:
        e = float(torch.finfo(torch.float32).eps)
    ms = g.op("ReduceMean", g.op("Mul", x, x), axes, keepdims_i=1)
    denom = g.op("Sqrt", g.op("Add", ms, g.op("Constant", value_t=torch.tensor(e))))
    y = g.op("Div", x, denom)
    if not sh._is_none(weight):
        y = g.op("Mul", y, weight)
    return y


_REGISTERED: set = set()


def _register_symbolics(opset: int) -> None:
    import torch

    if opset in _REGISTERED:
        return
    try:
        torch.onnx.register_custom_op_symbolic("aten::rms_norm", _rms_norm_symbolic, opset)
    except Exception:  # pragma: no cover - API moved: the dynamo fallback remains
        return
    _REGISTERED.add(opset)


@contextlib.contextmanager
def _no_cse(torch):
    """The TorchScript exporter's common-subexpression elimination off: it merges identical
    computations, such as the uses of one shared module on the same input (AlphaFold's
    structure module applies its pair-bias projection to the same pair representation in
    each of 8 shared layers), and the graph would then count one use where the model runs
    eight. Every operator the model runs stays in the graph."""
    cse = getattr(torch._C, "_jit_pass_cse", None)
    if cse is None:  # pragma: no cover - API moved
        yield
        return
    torch._C._jit_pass_cse = lambda graph: False
    try:
        yield
    finally:
        torch._C._jit_pass_cse = cse


def _torch_export(model, inputs, path: Path, names: list[str],
                  outputs: list[str] | None = None) -> tuple[str, int]:
    import torch

    try:
        from torch.onnx._constants import ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET as opset
    except ImportError:  # pragma: no cover - older torch
        opset = 17
    _register_symbolics(opset)
    sink = io.StringIO()
    first_error = None
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink), _quiet_fds():
        warnings.simplefilter("ignore")
        try:
            with _no_cse(torch):
                torch.onnx.export(model, inputs, str(path), dynamo=False, opset_version=opset,
                                  do_constant_folding=False, input_names=names,
                                  output_names=outputs or ["output"],
                                  training=torch.onnx.TrainingMode.EVAL)
            return "torchscript (dynamo=False)", opset
        except Exception as exc:  # fall back to the dynamo exporter
            first_error = exc
        try:
            prog = torch.onnx.export(model, inputs, dynamo=True, verbose=False,
                                     input_names=names, output_names=outputs or ["output"],
                                     optimize=False)
            prog.save(str(path))
            import onnx

            m = onnx.load(str(path), load_external_data=False)
            ver = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 0)
            return "dynamo", ver
        except Exception as exc2:
            msg = " ".join(str(first_error).split())[:200]
            msg2 = " ".join(str(exc2).split())[:200]
            raise ModelError(f"torch.onnx.export failed: torchscript exporter: "
                             f"{type(first_error).__name__}: {msg}; dynamo exporter: "
                             f"{type(exc2).__name__}: {msg2}") from None


def run_onnxruntime(path: Path, feeds: dict) -> list:
    """Run the graph on CPU; returns the outputs. Raises ModelError when it cannot run."""
    ort = require("onnxruntime", "onnx")
    try:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        # one thread, no spinning: the graphs run here only to prove they run, and idle
        # worker threads spinning for work cost CPU time on a shared machine
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # no graph optimisation: the session runs the graph as exported, node by node (what
        # proves it runs); fusing and constant-folding it first only costs time (measured:
        # Stable Diffusion v1 reduced, 0.78 s of CPU to build the session, 0.34 s without)
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        wanted = {i.name for i in sess.get_inputs()}   # an input the graph never reads is pruned
        return sess.run(None, {k: v for k, v in feeds.items() if k in wanted})
    except Exception as exc:
        raise ModelError(f"onnxruntime cannot run the exported graph: "
                         f"{' '.join(str(exc).split())[:300]}", file=str(path)) from None


def export_spec(spec_or_path, out, *, size: str = "full",
                max_full_params: int | None = None, max_bytes: int = MAX_BYTES,
                external_data: bool | None = None, run: bool = True,
                model=None) -> ExportReport:
    """Export a spec (path or loaded spec) to ONNX at ``out``; see the module docstring.

    ``external_data`` forces (True) or forbids (False) an external-data file; by default it
    is used only when the weights exceed ``EXTERNAL_DATA_BYTES``. ``model``: the spec's CPU
    build at the exported size when the caller has one already (the cross-check shares it
    with fvcore); its constant-initialised parameters get random values, its forward is
    left as it was.
    """
    torch = require("torch", "onnx")
    onnx = require("onnx", "onnx")
    from .torch_build import build_module, example_inputs, expose_dead_ends

    out = Path(out)
    if out.suffix.lower() != ".onnx":
        raise InputError(f"{out}: the output file must end in .onnx")
    if out.exists() and out.is_dir():
        raise InputError(f"{out}: is a folder")
    if not out.parent.exists():
        raise InputError(f"{out.parent}: no such folder")

    spec, res, size_used, overrides, reason, full_params = load_at_size(
        spec_or_path, size, MAX_FULL_PARAMS if max_full_params is None else max_full_params)
    name = getattr(spec, "name", None) or res.name
    est_bytes = 4 * res.params
    if est_bytes > max_bytes:
        raise ModelError(f"{name}: {res.params:,} parameters make a {est_bytes / 1e9:.1f} GB "
                         f"graph, over the {max_bytes / 1e9:.1f} GB limit; export it at reduced "
                         "size (--size reduced)")

    if model is None:
        model = build_module(spec, device="cpu")
    model.eval()
    _randomize(model)
    example = example_inputs(spec, device="cpu", batch=1)
    if not isinstance(example, tuple):
        example = tuple(example) if isinstance(example, list) else (example,)
    inputs = _random_inputs(example)
    names = ["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))]
    buffer_names = [n for n, _ in model.named_buffers()]

    # staged beside the destination (the final move is a rename), removed whatever happens
    with tempfile.TemporaryDirectory(prefix=".paramcount-export-", dir=out.parent) as tmp:
        tmp_path = Path(tmp) / "raw.onnx"
        n_dead = expose_dead_ends(model, inputs)
        outputs = ["output"] + [f"unused_{i}" for i in range(n_dead)]
        try:
            exporter, opset = _torch_export(model, inputs, tmp_path, names, outputs)
        finally:
            model.__dict__.pop("forward", None)   # undo expose_dead_ends
        meta = (("paramcount.buffers", ""),   # filled below
                ("paramcount.spec", str(name)),
                ("paramcount.size", size_used),
                ("paramcount.overrides", ",".join(f"{k}={v}" for k, v in overrides.items())))
        est_bytes = 4 * res.params
        use_ext = (est_bytes > EXTERNAL_DATA_BYTES) if external_data is None else external_data
        stage = Path(tmp) / "stage"
        stage.mkdir()
        staged = stage / out.name
        data_name = out.name + ".data"
        if not use_ext and exporter.startswith("torchscript") and est_bytes < EXTERNAL_DATA_BYTES:
            # fast path: append the metadata as a second serialised ModelProto (protobuf
            # merges concatenated messages; repeated fields append), no reload of the weights
            extra = onnx.ModelProto()
            for key, value in meta:
                p = extra.metadata_props.add()
                p.key = key
                p.value = ",".join(buffer_names) if key == "paramcount.buffers" else value
            with open(tmp_path, "ab") as fh:
                fh.write(extra.SerializeToString())
            shutil.move(str(tmp_path), str(staged))
        else:
            # re-save: metadata, and one external-data file (or none) next to the model
            m = onnx.load(str(tmp_path), load_external_data=True)
            inits = {i.name for i in m.graph.initializer}
            del m.metadata_props[:]
            for key, value in meta:
                p = m.metadata_props.add()
                p.key = key
                p.value = ",".join(b for b in buffer_names if b in inits) \
                    if key == "paramcount.buffers" else value
            if use_ext:
                onnx.save_model(m, str(staged), save_as_external_data=True,
                                all_tensors_to_one_file=True, location=data_name,
                                size_threshold=0)
            else:
                onnx.save_model(m, str(staged))
            del m

        ort_shape = None
        expected = tuple(res.output_shape) if res.output_shape is not None else None
        if run:
            feeds = {n: t.numpy() for n, t in zip(names, inputs)}
            outs = run_onnxruntime(staged, feeds)
            ort_shape = tuple(int(d) for d in outs[0].shape)
            if expected is not None and ort_shape[1:] != expected:
                raise ModelError(f"{name}: onnxruntime output shape "
                                 f"{'x'.join(map(str, ort_shape))} does not match the spec's "
                                 f"declared output (batch 1) 1x{'x'.join(map(str, expected))}")
        total_bytes = sum(f.stat().st_size for f in stage.iterdir())
        # move into place only now that everything succeeded
        ext_path = None
        if use_ext:
            ext_path = out.parent / data_name
            shutil.move(str(stage / data_name), str(ext_path))
        shutil.move(str(staged), str(out))

    notes = []
    if size_used == "reduced":
        notes.append("exported at reduced size ("
                     + ", ".join(f"{k}={v}" for k, v in overrides.items())
                     + f"): {reason}")
    return ExportReport(
        name=str(name), path=out, size=size_used, overrides=overrides, reason=reason,
        params=res.params, full_params=full_params, exporter=exporter, opset=opset,
        external_data=ext_path, bytes=total_bytes,
        input_shapes={n: tuple(t.shape) for n, t in zip(names, inputs)},
        ort_output_shape=ort_shape, expected_output_shape=expected, notes=notes)
