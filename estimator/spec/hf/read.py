"""Reading a config.json as transformers reads it, safely: one-line errors naming the key.

A config is untrusted input: every value the count uses is checked for its type (an int is
an int, not a bool, a float or a string) and bounded (:data:`MAX_SIZE`), so no config makes
the count hang, exhaust memory or raise anything but a :class:`~estimator.errors.SpecError`.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ...errors import SpecError
from ..expr import ExprError, evaluate
from .defaults import ALIASES, DEFAULTS, FAMILIES

#: The largest size any config key may give (2^40, about 1.1e12): a width, a vocabulary,
#: a layer count. Products of such sizes stay far inside the spec limits.
MAX_SIZE = 2 ** 40
#: The largest config.json read (real ones are a few kB).
MAX_CONFIG_BYTES = 1 << 20
#: Keys that may be null: the feature they size is absent (DeepSeek-V2-Lite: no query
#: compression) or the modeling code derives them.
NULLABLE = {"q_lora_rank", "num_ln_in_parallel_attn", "num_experts_per_tok", "mlp_only_layers"}

UNSUPPORTED_HINT = ("`paramcount model CONFIG.json` (with torch and transformers installed) "
                    "builds any transformers model on the meta device and counts it")


def supported_line() -> str:
    return "supported model_type values: " + ", ".join(FAMILIES)


def read_config_file(path: str | Path) -> dict:
    """The JSON object of a config file: a regular file of at most :data:`MAX_CONFIG_BYTES`
    (read as every spec file is, :func:`~estimator.spec.yamlload.read_text_file`); SpecError
    (one line) otherwise. The content is never quoted in an error."""
    from ..yamlload import read_text_file

    text = read_text_file(path, max_bytes=MAX_CONFIG_BYTES, what="config.json")
    try:
        obj = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise SpecError(f"not JSON: {exc.msg}", file=str(path), line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # 5001-digit ints, NaN, deep nesting
        raise SpecError(f"not a config: {str(exc).splitlines()[0][:120]}", file=str(path)) from None
    return obj


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a config may hold")


def model_type_of(raw: Any, file: str | None = None) -> str:
    """The family of a config object, checked: a supported ``model_type``."""
    if not isinstance(raw, dict):
        raise SpecError(f"a config.json is a JSON object, not a {type(raw).__name__}", file=file)
    mt = raw.get("model_type")
    if mt is None:
        raise SpecError("missing: a transformers config.json names its model_type, e.g. "
                        "\"llama\"", file=file, key="model_type")
    if not isinstance(mt, str):
        raise SpecError(f"must be a string, got {type(mt).__name__}", file=file, key="model_type")
    if mt not in DEFAULTS:
        shown = mt if len(mt) <= 40 and mt.isprintable() else mt[:40].encode("unicode_escape").decode() + "..."
        raise SpecError(f"{shown!r} is not counted without torch; {supported_line()}; "
                        f"{UNSUPPORTED_HINT}", file=file, key="model_type")
    return mt


class Config:
    """The attributes of one config as transformers resolves them: aliases mapped to their
    stored name, absent (or null) keys given the family's default, unknown keys ignored."""

    def __init__(self, raw: dict, file: str | None = None):
        self.family = model_type_of(raw, file)
        self.file = file
        defaults = DEFAULTS[self.family]
        aliases = ALIASES.get(self.family, {})
        given: dict[str, Any] = {}
        self.named: dict[str, str] = {}  # stored name -> the key the config spelled it with
        for key, value in raw.items():
            name = aliases.get(key, key)
            if name in defaults:
                given[name] = value
                self.named[name] = key
        values: dict[str, Any] = {}
        derived = {}
        for key, default in defaults.items():
            value = given.get(key)
            if isinstance(default, str) and default.startswith("="):
                if value is None:
                    derived[key] = default[1:]
                    continue
            elif key not in given:
                value = default
            values[key] = value
        self.values = values
        for key, expr in derived.items():  # over literal keys only: one level, no cycles
            env = {k: self.size(k) for k in _names(expr)}
            try:
                self.values[key] = evaluate(expr, env)
            except ExprError as err:
                raise SpecError(f"cannot derive it from {expr}: {err}", file=file, key=key) from None
            self.named.setdefault(key, key)

    # --- typed getters: a bad value is a one-line error naming the key -------------------
    def _fail(self, key: str, message: str) -> SpecError:
        return SpecError(message, file=self.file, key=self.named.get(key, key))

    def raw(self, key: str) -> Any:
        return self.values[key]

    def size(self, key: str, minimum: int = 1) -> int:
        v = self.values[key]
        if v is None:
            raise self._fail(key, "null where a size belongs (an integer)")
        if isinstance(v, bool) or not isinstance(v, int):
            raise self._fail(key, f"must be an integer, got {_kind(v)}")
        if v < minimum:
            raise self._fail(key, f"must be at least {minimum}, got {v}")
        if v > MAX_SIZE:
            raise self._fail(key, f"{v:.3e} is larger than the {MAX_SIZE:,} a config size may be")
        return v

    def opt_size(self, key: str, minimum: int = 1) -> int | None:
        return None if self.values.get(key) is None else self.size(key, minimum)

    def flag(self, key: str) -> bool:
        v = self.values[key]
        if not isinstance(v, bool):
            raise self._fail(key, f"must be true or false, got {_kind(v)}")
        return v

    def number(self, key: str) -> float:
        v = self.values[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise self._fail(key, f"must be a positive number, got {_kind(v)}")
        return float(v)

    def text(self, key: str) -> str:
        v = self.values[key]
        if not isinstance(v, str):
            raise self._fail(key, f"must be a string, got {_kind(v)}")
        return v

    def int_list(self, key: str, below: int) -> list[int]:
        v = self.values.get(key) or []
        if not isinstance(v, list) or len(v) > MAX_LIST:
            raise self._fail(key, f"must be a list of at most {MAX_LIST:,} layer indices")
        for i in v:
            if isinstance(i, bool) or not isinstance(i, int):
                raise self._fail(key, f"must hold integers, got {_kind(i)}")
        return [i for i in v if 0 <= i < below]

    def fail(self, key: str, message: str) -> SpecError:
        return self._fail(key, message)


MAX_LIST = 100_000


def _names(expr: str) -> list[str]:
    from ..expr import names_in

    return sorted(names_in(expr))


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"a boolean ({str(v).lower()})"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, float):
        return f"a float ({v!r})" if math.isfinite(v) else "a non-finite float"
    if isinstance(v, int):
        return f"{v:.3e}" if abs(v) > MAX_SIZE else str(v)
    return f"a {type(v).__name__}"
