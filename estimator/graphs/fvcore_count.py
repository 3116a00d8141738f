"""fvcore as a witness: ``FlopCountAnalysis`` and ``parameter_count``, in this project's units.

fvcore (Meta's counter behind detectron2) traces the model with ``torch.jit`` and applies
its own per-operator handles. Two differences from this project's conventions are converted
or kept apart here, never hidden:

* fvcore counts **one multiply-add as one FLOP**; every fvcore number is multiplied by 2.
* fvcore puts norms, pooling and upsampling (``batch_norm``, ``layer_norm``, ``group_norm``,
  ``instance_norm``, ``adaptive_avg_pool2d``, ``upsample_*``, ``grid_sampler``) into the same
  total as matrix products. Here only its matrix-class handles (``linear``, ``matmul``,
  ``mm``, ``addmm``, ``bmm``, ``einsum``, ``conv``) make ``forward_flops``; the rest become
  ``other_flops`` (still x2), so the matrix-class figures can be compared exactly.
* Operators fvcore has no handle for (``aten::scaled_dot_product_attention``,
  ``aten::lstm``, ``aten::gru``, ``aten::baddbmm``, ``aten::_convolution_mode`` (a conv
  with ``padding='same'``), ...) are skipped by fvcore; they are listed per module in
  ``result.extra["skipped_by_module"]`` (and ``extra["fvcore"]["by_module"]``) and in
  ``unknown_ops``, so a cross-check can tell what this witness could not see.
* fvcore's generic ``einsum`` handle takes numpy's ``einsum_path`` FLOP estimate from its
  printed report, 4 significant digits; each module's einsum FLOPs are kept in
  ``extra["einsum_by_module"]`` so a cross-check can tell that rounding (at most 1 in 1,000
  of them for every einsum of at least 4,000 FLOPs) from a real difference.

Parameters come from ``fvcore.nn.parameter_count``: unique tensors (a tied weight counts
once, under the first module that names it), buffers excluded.
"""
from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections import Counter

from ..count import Count, CountResult, LayerRow
from ..errors import ModelError, require
from ..spec.yamlload import paused_gc
from .torch_build import expose_layer_outputs

MATRIX_OPS = frozenset({"linear", "matmul", "mm", "addmm", "bmm", "einsum", "conv",
                        "_convolution", "baddbmm"})
# fvcore's "unsupported" list includes cheap elementwise ops it deliberately ignores; only
# these matter for matrix-class FLOPs.
MATRIX_SKIPPED = frozenset({
    "aten::scaled_dot_product_attention", "aten::_scaled_dot_product_attention",
    "aten::_scaled_dot_product_flash_attention", "aten::_scaled_dot_product_efficient_attention",
    "aten::_native_multi_head_attention", "aten::lstm", "aten::gru", "aten::rnn_tanh",
    "aten::rnn_relu", "aten::baddbmm", "aten::conv_transpose1d", "aten::conv_transpose2d",
    "aten::conv_transpose3d", "aten::_transformer_encoder_layer_fwd", "aten::tensordot",
    "aten::addbmm", "aten::addmv", "aten::mv", "aten::dot", "aten::bilinear",
    "aten::_convolution_mode",   # a conv with padding='same' or 'valid' given as a string
})


def _remembered_on_meta(inputs, torch):
    """On meta inputs, each distinct meta call of the trace runs once
    (:func:`~estimator.graphs.torch_count.remembered_meta_calls`): the copies of a repeated
    block cost one pass through torch's Python meta kernels."""
    if any(isinstance(t, torch.Tensor) and t.device.type == "meta" for t in inputs):
        from .torch_count import remembered_meta_calls

        return remembered_meta_calls()
    return contextlib.nullcontext()


def count_fvcore(model, inputs, *, name: str | None = None) -> CountResult:
    """Count ``model`` on ``inputs`` (a tensor or tuple, passed positionally) with fvcore.

    Runs on CPU or meta tensors (the trace needs shapes only). Raises :class:`ModelError`
    with fvcore's reason when it cannot trace the model. The model is left as it was
    (``training`` flags restored).
    """
    torch = require("torch", "fvcore")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # fvcore's import calls the deprecated torch.jit.script
        require("fvcore", "fvcore")
        from fvcore.nn import FlopCountAnalysis, parameter_count

    if not isinstance(inputs, tuple):
        inputs = tuple(inputs) if isinstance(inputs, list) else (inputs,)
    modes = {m: m.training for m in model.modules()}
    sink = io.StringIO()
    logger = logging.getLogger("fvcore")
    old_level = logger.level
    try:
        logger.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink), torch.no_grad():
            warnings.simplefilter("ignore")
            model.eval()
            # torch.jit.trace prunes layers whose output the spec discards: every layer's
            # output is a graph output
            expose_layer_outputs(model)
            try:
                fa = FlopCountAnalysis(model, inputs)
                fa.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
                fa.tracer_warnings("none")
                with paused_gc(), _remembered_on_meta(inputs, torch):   # the trace runs here
                    by_mod_op = {k: Counter(v) for k, v in fa.by_module_and_operator().items()}
                skipped_all = {k: Counter(fa.unsupported_ops(k)) for k in by_mod_op}
            finally:
                model.__dict__.pop("forward", None)
            pcount = dict(parameter_count(model))
    except Exception as exc:
        msg = " ".join(str(exc).split())[:240] or type(exc).__name__
        raise ModelError(f"fvcore cannot trace this model: {type(exc).__name__}: {msg}") from None
    finally:
        logger.setLevel(old_level)
        for m, t in modes.items():
            m.train(t)

    param_names = {n for n, _ in model.named_parameters()}
    module_paths = set(by_mod_op) | {p for p in pcount if p not in param_names}
    # every proper prefix of a module path has a descendant: O(modules x depth), not M^2
    parents = set()
    for q in module_paths:
        parts = q.split(".")
        parents.update(".".join(parts[:j]) for j in range(1, len(parts)))
    rows = []
    skipped_report = {}
    for path in sorted(module_paths):
        ops = by_mod_op.get(path, Counter())
        matrix = sum(v for k, v in ops.items() if k in MATRIX_OPS)
        other = sum(v for k, v in ops.items() if k not in MATRIX_OPS)
        skipped = {k: v for k, v in skipped_all.get(path, {}).items() if k in MATRIX_SKIPPED}
        p = int(pcount.get(path, 0))
        note_parts = []
        if skipped:
            note_parts.append("fvcore skips " + ", ".join(f"{k} x{v}" for k, v in
                                                          sorted(skipped.items())))
        non_matrix = {k: v for k, v in ops.items() if k not in MATRIX_OPS and v}
        if non_matrix:
            note_parts.append("fvcore counts " + ", ".join(sorted(non_matrix)))
        if path:
            depth = path.count(".") + 1
            leaf = path not in parents
            rows.append(LayerRow(path=path, kind="fvcore-module",
                                 count=Count(p, p, 2 * int(matrix), 2 * int(other)),
                                 depth=depth, leaf=leaf, note="; ".join(note_parts)))
        skipped_report[path] = {"skipped": skipped, "non_matrix": dict(non_matrix)}
    root_ops = by_mod_op.get("", Counter())
    total_matrix = sum(v for k, v in root_ops.items() if k in MATRIX_OPS)
    total_other = sum(v for k, v in root_ops.items() if k not in MATRIX_OPS)
    params = int(pcount.get("", 0))
    root_skipped = skipped_report.get("", {}).get("skipped", {})
    notes = ["fvcore counts 1 FLOP per multiply-add; converted x2 to this project's FLOPs"]
    if root_skipped:
        notes.append("fvcore skips (no handle): "
                     + ", ".join(f"{k} x{v}" for k, v in sorted(root_skipped.items())))
    non_matrix_root = sorted(k for k, v in root_ops.items() if k not in MATRIX_OPS and v)
    if non_matrix_root:
        notes.append("fvcore's " + ", ".join(non_matrix_root)
                     + " counts are kept in other_flops, not forward_flops")
    return CountResult(
        name=name or type(model).__name__, total=Count(params, params, 2 * int(total_matrix),
                                                       2 * int(total_other)),
        layers=rows, source="fvcore",
        input_shapes={f"input_{i}": tuple(t.shape) for i, t in enumerate(inputs)
                      if hasattr(t, "shape")},
        unknown_ops=dict(sorted(root_skipped.items())), notes=notes,
        extra={"skipped_by_module": {k: dict(v["skipped"]) for k, v in skipped_report.items()
                                      if k and v["skipped"]},
               # fvcore's generic einsum handle reads numpy's einsum_path FLOP estimate,
               # printed to 4 significant digits ("%.3e"): FLOPs per module, to bound that
               "einsum_by_module": {k: 2 * int(v["einsum"]) for k, v in by_mod_op.items()
                                    if v.get("einsum")},
               "fvcore": {"by_module": skipped_report,
                          "raw_by_operator": {k: int(v) for k, v in root_ops.items()}}})
