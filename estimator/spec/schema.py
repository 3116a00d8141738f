"""The JSON Schema of the spec language, generated from the same pydantic models that
validate specs (the header model and every registered layer kind).

A layer is one of the registered kinds (discriminated by ``kind``: a mapping is checked
against its own kind's schema only) or a bare kind name
(``- relu``). Composite kinds' child lists (``layers``, ``shortcut``, ``branches``) refer
back to the layer definition, so nested blocks validate too.
"""
from __future__ import annotations

from typing import Any

_LAYER = {"$ref": "#/$defs/Layer"}
_LAYER_LIST = {"type": "array", "items": _LAYER, "minItems": 1}


def _dispatch(kinds: list[str]) -> dict[str, Any]:
    """A mapping checked against its own kind's schema only, found by halving the sorted kind
    names with if/then/else (7 tests for 96 kinds): an ``anyOf`` over every kind re-validated
    each nested block once per kind (0.5 s per archspec), a flat if/then per kind cost 96
    tests per layer."""
    if len(kinds) == 1:
        return {"$ref": f"#/$defs/Layer_{kinds[0]}"}
    half = len(kinds) // 2
    return {"if": {"properties": {"kind": {"enum": kinds[:half]}}},
            "then": _dispatch(kinds[:half]), "else": _dispatch(kinds[half:])}


def json_schema() -> dict[str, Any]:
    from ..layers.registry import load_all
    from .model import SpecHeader

    schema = SpecHeader.model_json_schema()
    defs = schema.setdefault("$defs", {})
    kinds = load_all()
    for kind, cls in sorted(kinds.items()):
        sub = cls.model_json_schema(by_alias=True)
        defs.update(sub.pop("$defs", {}))
        sub["properties"]["kind"] = {"const": kind, "description": f"layer kind '{kind}'"}
        sub["required"] = sorted(set(sub.get("required", [])) | {"kind"})
        for fname in getattr(cls, "child_fields", ()):
            if fname == "branches":
                sub["properties"][fname] = {
                    "description": "list of layer lists, or a mapping name -> layer list",
                    "anyOf": [{"type": "array", "items": _LAYER_LIST},
                              {"type": "object", "additionalProperties": _LAYER_LIST}]}
            else:
                sub["properties"][fname] = dict(_LAYER_LIST, description=
                                                cls.model_fields[fname].description or "")
        defs[f"Layer_{kind}"] = sub
    defs["Layer"] = {"description": "a layer: a mapping with 'kind', or a bare kind name",
                     "anyOf": [{"type": "string", "enum": sorted(kinds)},
                               {"type": "object", "required": ["kind"],
                                "properties": {"kind": {"enum": sorted(kinds)}},
                                **_dispatch(sorted(kinds))}]}
    schema["properties"]["layers"] = dict(_LAYER_LIST, description="the layer list")
    # a spec gives its layers, or a Hugging Face config.json they are read from (spec/hf)
    schema["properties"]["config"] = {
        "type": "object", "required": ["model_type"],
        "description": "the values of a released Hugging Face config.json; the layers, input "
                       "and vars come from it (supported model_type values: see docs/hf-configs.md)"}
    schema["properties"]["config_source"] = {
        "type": "string", "description": "where the config values come from: "
                                         "'huggingface.co/ORG/REPO, config.json'"}
    schema["required"] = [k for k in schema.get("required", []) if k != "layers"]
    schema.setdefault("allOf", []).append(
        {"oneOf": [{"required": ["layers"], "not": {"required": ["config"]}},
                   {"required": ["config", "config_source"], "not": {"required": ["layers"]}}]})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "paramcount spec"
    return schema
