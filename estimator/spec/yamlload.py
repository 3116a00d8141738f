"""Safe YAML loading that remembers the line of every key and list item.

Only plain YAML data is accepted (mappings, lists, strings, numbers, booleans, null). Tags
that would construct objects (``!!python/object``...) are refused with their line, and so
are duplicate keys, which plain PyYAML silently collapses.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import SpecError


class LineDict(dict):
    """A dict from YAML that knows the 1-based line of itself and of each key."""

    line: int = 0
    lines: dict


class LineList(list):
    """A list from YAML that knows the 1-based line of itself and of each item."""

    line: int = 0
    lines: list


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when built with it: ~10x faster
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)):
            raise SpecError("mapping keys must be plain scalars", line=key_node.start_mark.line + 1)
        if key in out:
            raise SpecError(f"duplicate key '{key}'", line=key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _refuse(loader: _Loader, suffix, node=None):
    if node is None:  # add_multi_constructor passes (loader, suffix, node)
        node, suffix = suffix, node.tag
    raise SpecError(f"YAML tag '{node.tag}' is not allowed: specs hold plain data only",
                    line=node.start_mark.line + 1)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_multi_constructor("!", _refuse)
_Loader.add_multi_constructor("tag:", _refuse)
_Loader.add_constructor(None, _refuse)


def load_yaml_text(text: str, file: str | None = None):
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except SpecError as err:
        err.file = file
        raise SpecError(err.message, file=file, line=err.line) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        what = err.problem or err.context or "malformed YAML"
        raise SpecError(f"malformed YAML: {what}", file=file, line=line) from None
    except yaml.YAMLError as err:
        raise SpecError(f"malformed YAML: {err}", file=file) from None


def load_yaml_file(path: str | Path):
    p = Path(path)
    if not p.exists():
        raise SpecError("no such file", file=str(path))
    if p.is_dir():
        raise SpecError("is a directory, not a spec file", file=str(path))
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise SpecError(f"cannot read: {err.strerror}", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("not a text file (invalid UTF-8)", file=str(path)) from None
    if not text.strip():
        raise SpecError("empty file: a spec needs at least name, input and layers", file=str(path))
    return load_yaml_text(text, file=str(path))


def line_of(raw, loc: tuple) -> int | None:
    """The line of the deepest node on ``loc`` that exists in ``raw``."""
    line = getattr(raw, "line", None)
    node = raw
    for key in loc:
        if isinstance(node, LineDict) and key in node:
            line = node.lines.get(key, line)
            node = node[key]
        elif isinstance(node, LineList) and isinstance(key, int) and 0 <= key < len(node):
            line = node.lines[key]
            node = node[key]
        else:
            break
        line = getattr(node, "line", None) if isinstance(node, (LineDict, LineList)) and line is None else line
    return line
