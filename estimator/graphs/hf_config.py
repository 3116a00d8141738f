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
import re
from pathlib import Path
from typing import Any

from ..errors import InputError, ModelError, PCError, require
from ..safety import printable, read_bytes

MAX_DEFAULT_TOKENS = 4096
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "max_seq_len",
                 "seq_length")
_AUTO_CLASSES = ("AutoModelForCausalLM", "AutoModelForSeq2SeqLM", "AutoModelForSpeechSeq2Seq",
                 "AutoModelForImageClassification", "AutoModel")


def is_config_path(x: Any) -> bool:
    return isinstance(x, (str, Path)) and Path(x).suffix.lower() == ".json"


#: bytes of a config.json (one with 21,843 labels, ViT's ImageNet-21k, is about 1 MB)
MAX_CONFIG_BYTES = 16 * 1024 * 1024
#: the most layers one key may ask for (``n_layer``, ``num_hidden_layers``, ``decoder_layers``):
#: published models have at most a few hundred; building 512 on meta takes about ten seconds
MAX_CONFIG_LAYERS = 512
#: the largest size any other key may give (hidden sizes, vocabularies, positions: 2**24,
#: above every published model; Llama 4 Scout's 10M-token context is the largest known)
MAX_CONFIG_SIZE = 2 ** 24

# keys that hold sizes: whole numbers (or null, where transformers supplies a default)
_SIZE_KEY = re.compile(r"^(n|num|d)_|_(size|dim|layers?|heads|positions|rank|experts|channels)$"
                       r"|^(n_embd|n_ctx|d_ff|d_kv|d_model|vocab_size|hidden_size)$")
# keys of sizes that must be at least 1 (a model with 0 heads or 0 layers cannot be built)
_POSITIVE_KEY = re.compile(r"(layers?|heads?|hidden_size|d_model|n_embd|vocab_size)$")
_LAYERS_KEY = re.compile(r"(^|_)(layers?|n_layer)$")
# the sizes every model of its kind needs: null is no size (transformers fails on it later)
_REQUIRED_KEYS = {"n_layer", "num_hidden_layers", "n_head", "num_attention_heads",
                  "hidden_size", "n_embd", "d_model"}


def _check_sizes(data: dict, file: str, where: str = "") -> None:
    """Every size key (``hidden_size``, ``n_layer``, ``num_attention_heads``...) holds a whole
    number within its limit (or null, or a list of them: ``image_size: [224, 224]``); nested
    configs (``text_config``, ``vision_config``...) are checked the same way."""
    for key, value in data.items():
        name = f"{where}{key}"
        if isinstance(value, dict) and (key.endswith("_config") or key in ("encoder", "decoder")):
            _check_sizes(value, file, name + ".")
            continue
        if value is None and key in _REQUIRED_KEYS:
            raise InputError("expected a whole number, got null", file=file, key=name)
        if not isinstance(key, str) or not _SIZE_KEY.search(key) or value is None:
            continue
        limit = MAX_CONFIG_LAYERS if _LAYERS_KEY.search(key) else MAX_CONFIG_SIZE
        low = 1 if _POSITIVE_KEY.search(key) else 0
        values = value if isinstance(value, list) and value else [value]
        if isinstance(value, list) and limit == MAX_CONFIG_LAYERS:
            # a list under a layers key names layers, not a count of them: Qwen-MoE's
            # ``mlp_only_layers: [0, 3]`` holds layer indices (0 is the first), often none
            low, values = 0, value
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                raise InputError(f"expected a whole number, got {printable(json.dumps(v))[:60]}",
                                 file=file, key=name)
            if not low <= v <= limit:
                raise InputError(f"{v:,} is outside {low} to {limit:,} (the limit for this key; "
                                 "docs/limits.md)", file=file, key=name)


def read_config_dict(path: str | Path) -> dict:
    """The JSON object of a config file, its sizes checked; InputError (one line) if it is
    not one. Needs neither torch nor transformers (checked before either is imported)."""
    p = Path(path)
    file = printable(p)
    raw = read_bytes(p, max_bytes=MAX_CONFIG_BYTES, what="config file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("not a text file (invalid UTF-8)", file=file) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", file=file, line=exc.lineno) from None
    except ValueError:  # a number of more than 4,300 digits
        raise InputError("a number of more than 4,300 digits (Python's limit for reading "
                         "numbers)", file=file) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", file=file) from None
    if not isinstance(data, dict):
        raise InputError(f"a config.json is a JSON object, not a {type(data).__name__}", file=file)
    if not data.get("model_type"):
        raise InputError("model_type: missing (a transformers config.json names its "
                         "model_type, e.g. \"llama\")", file=file)
    if not isinstance(data["model_type"], str):
        raise InputError(f"expected the name of a model type, got "
                         f"{printable(json.dumps(data['model_type']))[:60]}", file=file,
                         key="model_type")
    arch = data.get("architectures")
    if arch is not None and not (isinstance(arch, list) and all(isinstance(a, str) for a in arch)):
        raise InputError("expected a list of class names, e.g. [\"LlamaForCausalLM\"]",
                         file=file, key="architectures")
    _check_sizes(data, file)
    return data


def load_config(path: str | Path, data: dict | None = None):
    """The ``transformers`` config object of a config.json."""
    import difflib

    transformers = require("transformers", "hf")
    data = read_config_dict(path) if data is None else data
    file = printable(path)
    model_type = data["model_type"]
    mapping = transformers.CONFIG_MAPPING
    if model_type not in mapping:
        close = difflib.get_close_matches(model_type, list(mapping.keys()), n=3)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise InputError(f"unknown model type {printable(model_type)!r} for "
                         f"transformers {transformers.__version__}{hint}", file=file,
                         key="model_type")
    fields = {k: v for k, v in data.items() if k != "model_type"}
    try:
        return mapping[model_type](**fields)
    except Exception as exc:  # noqa: BLE001 - whatever the config class raises is bad input
        raise InputError(f"the {model_type} config does not load: {type(exc).__name__}: "
                         f"{_first_line(exc)}", file=file) from None


def _first_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line, at most 200 characters, control characters shown."""
    text = " ".join(str(exc).split())
    return printable(text[:200] + ("..." if len(text) > 200 else ""))


def model_classes(config) -> list:
    """The classes ``architectures`` names that are transformers *model* classes
    (subclasses of ``PreTrainedModel``): a name such as ``Trainer``, ``pipeline`` or
    ``AutoModel`` is never called with the config."""
    transformers = require("transformers", "hf")
    base = transformers.PreTrainedModel
    out = []
    for arch in getattr(config, "architectures", None) or []:
        if not isinstance(arch, str) or not arch.isidentifier():
            continue
        try:
            cls = getattr(transformers, arch, None)
        except Exception:  # noqa: BLE001 - a lazy import that fails: not a usable class
            cls = None
        if isinstance(cls, type) and issubclass(cls, base):
            out.append((arch, cls))
    return out


def build_model(config, device: str = "meta"):
    """The model a config describes, built on ``device`` ('meta': no memory)."""
    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    candidates = [(arch, lambda c, cls=cls: cls(c)) for arch, cls in model_classes(config)]
    for auto in _AUTO_CLASSES:
        candidates.append((auto, lambda c, auto=auto: getattr(transformers, auto).from_config(c)))
    errors = []
    for name, make in candidates:
        try:
            with torch.device(device):
                model = make(config)
        except Exception as exc:  # noqa: BLE001 - a class that cannot build it: try the next
            if "Unrecognized configuration class" not in str(exc):  # not this kind of model
                errors.append(f"{name}: {_first_line(exc) or type(exc).__name__}")
            continue
        model.eval()
        return model, name
    raise ModelError(f"no transformers class builds this {config.model_type} config: "
                     + ("; ".join(errors[:2]) or "no auto class takes it"))


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
    try:
        result = count_module(model, shapes, name=kw.pop("name", f"{Path(path).name} "
                                                                 f"({config.model_type})"), **kw)
    except PCError:
        raise
    except Exception as exc:  # noqa: BLE001 - a config that builds but cannot run forward
        raise ModelError(f"the {built_with} built from this config fails on its input: "
                         f"{type(exc).__name__}: {_first_line(exc)}", file=printable(path)) from None
    result.extra["built_with"] = built_with
    result.extra["config"] = str(path)
    result.extra["model_type"] = config.model_type
    if inputs is None:
        result.notes.append("default input: " + ", ".join(
            f"{k} {' x '.join(map(str, v))}" for k, v in defaults.items()))
    return result
