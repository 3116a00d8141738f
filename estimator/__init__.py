"""paramcount: parameters, FLOPs and training compute of neural networks, counted several ways.

The public API:

* :func:`count` - count a spec path/object, an ``nn.Module`` (with example inputs) or an
  ``.onnx`` file; returns a :class:`CountResult`.
* :func:`load_spec`, :func:`analyze` - the torch-free analytic engine.
* :class:`Count`, :class:`CountResult` - the records every counter returns.
* :func:`training_compute` - training compute by operation counting and the hardware method.
* :func:`verify` - check submitted parameter and compute figures (a CSV / JSON lines path or
  rows), one record per row.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ._version import __version__
from .count import Count, CountResult, LayerRow
from .errors import PCError, SpecError, InputError, ModelError

__all__ = ["count", "load_spec", "analyze", "Count", "CountResult", "LayerRow", "PCError",
           "SpecError", "InputError", "ModelError", "training_compute", "verify", "__version__"]


def load_spec(source, overrides: dict | None = None, variant: str | None = None):
    from .analytic import load_spec as _load

    return _load(source, overrides=overrides, variant=variant)


def analyze(spec, **kw) -> CountResult:
    from .analytic import analyze as _analyze

    return _analyze(spec, **kw)


def count(x: Any, inputs: Any = None, **kw) -> CountResult:
    """Count a model, whatever form it comes in.

    * a spec: path to ``.yaml``/``.yml`` or a loaded spec object -> analytic count (a size
      family needs ``variant="NAME"``);
    * an ``.onnx`` path -> ONNX graph count (``inputs`` may give shapes for symbolic dims);
    * a Hugging Face ``config.json`` path -> the model it describes, built on the meta device
      and counted on the default input for its kind (``inputs`` overrides);
    * a ``torch.nn.Module`` -> dispatch-level count on ``inputs`` (tensor, tuple, dict or shapes);
      ``step="train"`` counts a whole training step instead (forward, loss, backward split
      into input and weight gradients, optimizer update): a ``TrainStep``.
    """
    import sys

    if isinstance(x, (str, Path)):
        p = Path(x)
        if p.suffix.lower() == ".onnx":
            from .graphs.onnx_count import count_onnx

            return count_onnx(p, inputs, **kw)
        if p.suffix.lower() == ".json":
            from .graphs.hf_config import count_config

            return count_config(p, inputs, **kw)
        return analyze(load_spec(p, overrides=kw.pop("overrides", None),
                                 variant=kw.pop("variant", None)), **kw)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.nn.Module):
        if kw.pop("step", "forward") == "train":
            from .graphs.train_step import count_train_step

            return count_train_step(x, inputs, **kw)
        from .graphs.torch_count import count_module

        return count_module(x, inputs, **kw)
    from .spec.model import Spec

    if isinstance(x, Spec):
        return analyze(x, **kw)
    raise ModelError(f"count() cannot count a {type(x).__name__}: pass a spec path, a Spec, "
                     "an nn.Module or an .onnx path")


def training_compute(*args, **kw):
    from .costs.compute import training_compute as _tc

    return _tc(*args, **kw)


def verify(rows_or_path, **kw):
    from .curation.verify import verify as _verify

    return _verify(rows_or_path, **kw)
