"""Count a Hugging Face model from its ``config.json`` alone: no weights, no hub.

The config is read as JSON, turned into the ``transformers`` config class its ``model_type``
names, and the model is built on the meta device from that config (nothing is allocated),
with the class the config's ``architectures`` names, or else the first auto class that takes
the config: causal LM, sequence-to-sequence LM, speech sequence-to-sequence, image
classification, then the bare model. It is then counted by :func:`count_module` on the
default input for its kind (``--input`` overrides):

* text: ``input_ids`` of T = the context the config declares (``max_position_embeddings``,
  ``n_positions``...), at most :data:`MAX_DEFAULT_TOKENS`; encoder-decoders also get
  ``decoder_input_ids`` of the same length;
* images: ``pixel_values`` of ``num_channels x image_size x image_size``;
* speech (Whisper): ``input_features`` of ``num_mel_bins x 3000`` (30 s of audio), with
  ``decoder_input_ids`` of ``max_target_positions`` tokens.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError, ModelError, require

MAX_DEFAULT_TOKENS = 4096
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "max_seq_len",
                 "seq_length")
_AUTO_CLASSES = ("AutoModelForCausalLM", "AutoModelForSeq2SeqLM", "AutoModelForSpeechSeq2Seq",
                 "AutoModelForImageClassification", "AutoModel")


def is_config_path(x: Any) -> bool:
    return isinstance(x, (str, Path)) and Path(x).suffix.lower() == ".json"


def read_config_dict(path: str | Path) -> dict:
    """The JSON object of a config file; InputError (one line) if it is not one."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except (IsADirectoryError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{p}: cannot read a config: {type(exc).__name__}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: a config.json is a JSON object, not a {type(data).__name__}")
    if not data.get("model_type"):
        raise InputError(f"{p}: model_type: missing (a transformers config.json names its "
                         "model_type, e.g. \"llama\")")
    return data


def load_config(path: str | Path):
    """The ``transformers`` config object of a config.json."""
    import difflib

    transformers = require("transformers", "hf")
    data = read_config_dict(path)
    model_type = data["model_type"]
    mapping = transformers.CONFIG_MAPPING
    if model_type not in mapping:
        close = difflib.get_close_matches(model_type, list(mapping.keys()), n=3)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise InputError(f"{path}: model_type: unknown model type {model_type!r} for "
                         f"transformers {transformers.__version__}{hint}")
    fields = {k: v for k, v in data.items() if k != "model_type"}
    try:
        return mapping[model_type](**fields)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: the {model_type} config does not load: {exc}") from None


def build_model(config, device: str = "meta"):
    """The model a config describes, built on ``device`` ('meta': no memory)."""
    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    candidates = []
    for arch in getattr(config, "architectures", None) or []:
        cls = getattr(transformers, arch, None)
        if cls is not None:
            candidates.append((arch, lambda c, cls=cls: cls(c)))
    for auto in _AUTO_CLASSES:
        candidates.append((auto, lambda c, auto=auto: getattr(transformers, auto).from_config(c)))
    errors = []
    for name, make in candidates:
        try:
            with torch.device(device):
                model = make(config)
        except (ValueError, KeyError, TypeError, AttributeError, ImportError) as exc:
            errors.append(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            continue
        model.eval()
        return model, name
    raise ModelError(f"no transformers class builds this {config.model_type} config: "
                     + "; ".join(errors[:3]))


def context_length(config) -> int | None:
    for key in _CONTEXT_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    text = getattr(config, "text_config", None)
    return context_length(text) if text is not None else None


def default_inputs(model, config) -> dict[str, tuple]:
    """Input shapes (batch 1) for a forward pass of the model's kind, named as its forward
    takes them."""
    import inspect

    params = inspect.signature(model.forward).parameters
    if "input_features" in params:  # speech encoder-decoder (Whisper)
        mel = getattr(config, "num_mel_bins", 80)
        frames = 2 * getattr(config, "max_source_positions", 1500)
        out = {"input_features": (1, mel, frames)}
        if "decoder_input_ids" in params:
            out["decoder_input_ids"] = (1, getattr(config, "max_target_positions", 448))
        return out
    if "pixel_values" in params and "input_ids" not in params:
        vision = getattr(config, "vision_config", config)
        size = getattr(vision, "image_size", 224)
        size = size if isinstance(size, int) else size[0]
        return {"pixel_values": (1, getattr(vision, "num_channels", 3), size, size)}
    t = min(context_length(config) or 512, MAX_DEFAULT_TOKENS)
    out = {"input_ids": (1, t)}
    if "decoder_input_ids" in params and getattr(config, "is_encoder_decoder", False):
        out["decoder_input_ids"] = (1, t)
    return out


def _token_ids(shapes: dict) -> dict:
    """Shapes of ``*input_ids`` inputs as int64 (``1x128`` -> ``1x128:int64``); the rest as
    given (float)."""
    out = {}
    for name, shape in shapes.items():
        if name.endswith("input_ids"):
            text = shape if isinstance(shape, str) else "x".join(map(str, shape))
            out[name] = text if ":" in text else text + ":int64"
        else:
            out[name] = shape
    return out


def count_config(path: str | Path, inputs: Any = None, **kw):
    """Count the model of a ``config.json`` on the meta device (see the module docstring)."""
    from .torch_count import count_module

    config = load_config(path)
    model, built_with = build_model(config)
    defaults = default_inputs(model, config)
    shapes = defaults if inputs is None else inputs
    if isinstance(shapes, (str, tuple)) and not isinstance(shapes, dict):
        shapes = {next(iter(defaults)): shapes}  # one positional shape: the model's first input
    if isinstance(shapes, dict):
        shapes = _token_ids(shapes)
    result = count_module(model, shapes, name=kw.pop("name", f"{Path(path).name} "
                                                             f"({config.model_type})"), **kw)
    result.extra["built_with"] = built_with
    result.extra["config"] = str(path)
    result.extra["model_type"] = config.model_type
    if inputs is None:
        result.notes.append("default input: " + ", ".join(
            f"{k} {' x '.join(map(str, v))}" for k, v in defaults.items()))
    return result
