"""Hugging Face ``config.json`` -> a spec, without torch or transformers.

A config is read as transformers reads it (:mod:`.defaults`: the same defaults for keys it
leaves out, the same aliases, unknown keys ignored; :mod:`.read`: every value type-checked
and bounded) and translated, per family, into the spec language's layers: the module of a
family group (:mod:`.decoders`, :mod:`.classic`, :mod:`.encoders`) builds the layer list the
way that family's ``modeling_<family>.py`` builds the model. The result is an ordinary spec
(``paramcount CONFIG.json --show-spec`` prints it) counted by the analytic engine.

An archspec may carry a config instead of layers: ``config: {...the config.json values...}``
with ``config_source: "huggingface.co/ORG/REPO, config.json"``; :func:`expand_archspec`
turns it into a spec whose header is the archspec's own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ...errors import SpecError
from . import classic, decoders, encoders
from .common import Built
from .defaults import FAMILIES
from ..yamlload import line_of
from .read import Config, read_config_file, supported_line

__all__ = ["FAMILIES", "config_spec", "config_file_spec", "expand_archspec", "is_config_path",
           "supported_line"]

_DECODERS = ("llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma",
             "gemma2", "phi3", "olmo", "olmoe", "deepseek_v2", "deepseek_v3")

#: model_type -> the translation of its family
BUILDERS: dict[str, Callable[..., list]] = {
    **{f: decoders.build for f in _DECODERS},
    "gpt2": classic.gpt2, "gpt_neox": classic.gpt_neox, "gptj": classic.gptj,
    "falcon": classic.falcon, "bloom": classic.bloom, "opt": classic.opt,
}
_ENCODERS = {"bert": encoders.bert, "roberta": encoders.bert, "t5": encoders.t5}
assert set(BUILDERS) | set(_ENCODERS) == set(FAMILIES)


def is_config_path(x: Any) -> bool:
    return isinstance(x, (str, Path)) and Path(x).suffix.lower() == ".json"


def config_spec(raw: Any, file: str | None = None, name: str | None = None) -> dict:
    """The spec (a raw mapping, as YAML would give it) of a config.json object."""
    cfg = Config(raw, file)
    b = Built(cfg)
    arch = encoders._arch(raw.get("architectures"))
    if cfg.family in _ENCODERS:
        layers = _ENCODERS[cfg.family](cfg, b, arch)
    else:
        layers = BUILDERS[cfg.family](cfg, b)
    if cfg.family == "t5":
        inputs = {"inputs": {"src": {"tokens": "S"}, "tgt": {"tokens": "T"}}}
    else:
        inputs = {"input": {"tokens": "T"}}
    label = name or (f"{Path(file).name} ({cfg.family})" if file else cfg.family)
    notes = [f"Read from a Hugging Face config.json (model_type {cfg.family}) as transformers "
             "reads it, counted analytically (no torch)."] + b.notes
    first = {k: b.vars[k] for k in ("S", "T") if k in b.vars}  # the input lengths first
    return {"name": label, **inputs, "vars": {**first, **b.vars}, "layers": layers,
            "notes": notes}


def config_file_spec(path: str | Path) -> dict:
    return config_spec(read_config_file(path), str(path))


_ARCHSPEC_CONFIG_KEYS = ("config", "config_source")


def expand_archspec(raw: Any, file: str | None = None) -> Any:
    """An archspec with ``config:`` -> the spec it stands for (others unchanged)."""
    if not isinstance(raw, dict) or "config" not in raw:
        return raw
    for key in ("layers", "input", "inputs", "vars"):
        if key in raw:
            raise SpecError(f"a spec with 'config:' gets its {key} from the config; drop '{key}'",
                            file=file, key=key)
    source = raw.get("config_source")
    if not isinstance(source, str) or not source.strip():
        raise SpecError("a spec with 'config:' names where the values come from: "
                        "config_source: \"huggingface.co/ORG/REPO, config.json\"", file=file,
                        key="config_source")
    try:
        built = config_spec(raw["config"], file, name=raw.get("name"))
    except SpecError as err:  # name the key where it stands in the archspec: config.KEY
        key = f"config.{err.key}" if err.key else "config"
        line = line_of(raw, ("config", err.key)) if err.key else line_of(raw, ("config",))
        raise SpecError(err.message, file=file, line=line, key=key) from None
    head = {k: v for k, v in raw.items() if k not in _ARCHSPEC_CONFIG_KEYS}
    notes = list(head.get("notes") or []) + [f"Config: {source}."] + built["notes"]
    return {**head, **{k: v for k, v in built.items() if k not in ("name", "notes")},
            "notes": notes}
