"""One cached decode step of a Hugging Face causal LM, counted on the meta device.

The witness of :func:`estimator.costs.inference.decode_flops`: the model (built on meta) first
runs a prefill of ``context - 1`` tokens with ``use_cache=True`` (its ``past_key_values``:
meta tensors, nothing allocated), then the step that decodes one more token attending to all
``context`` keys is counted by :func:`estimator.graphs.torch_count.count_module`.
"""
from __future__ import annotations

from ..errors import InputError, require


def count_decode_step(model, context: int, batch: int = 1):
    """CountResult of one decode step at ``context`` keys (the new token included)."""
    torch = require("torch", "torch")
    from .torch_count import count_module

    if not isinstance(context, int) or context < 2:
        raise InputError(f"context must be an integer >= 2, got {context!r}")
    ids = torch.zeros(batch, context - 1, dtype=torch.long, device="meta")
    with torch.no_grad():
        cache = model(input_ids=ids, use_cache=True).past_key_values
    import inspect

    key = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    return count_module(model, {"input_ids": (batch, 1), key: cache},
                        name=f"{type(model).__name__} decode step at context {context}")
