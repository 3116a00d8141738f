"""Safe YAML loading that remembers the line of every key and list item.

Only plain YAML data is accepted (mappings, lists, strings, numbers, booleans, null). Tags
that would construct objects (``!!python/object``...) are refused with their line, and so
are duplicate keys, which plain PyYAML silently collapses.

Parsing uses libyaml (PyYAML's C loader) where it is installed, so loading is linear and
fast; the C parser keeps every node's line. Before anything is constructed, the composed
document is measured: nesting deeper than :data:`~estimator.spec.limits.MAX_YAML_DEPTH` or
aliases (``*name``) that would expand it by more than
:data:`~estimator.spec.limits.MAX_ALIAS_NODES` nodes (a "billion laughs" document) are refused.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import SpecError
from .limits import MAX_ALIAS_NODES, MAX_YAML_DEPTH


class LineDict(dict):
    """A dict from YAML that knows the 1-based line of itself and of each key."""

    line: int = 0
    lines: dict


class LineList(list):
    """A list from YAML that knows the 1-based line of itself and of each item."""

    line: int = 0
    lines: list


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        measure(node)
        return self.construct_document(node)


def measure(root: yaml.Node) -> None:
    """Refuse a composed document nested too deeply or blown up by aliases.

    One pass over the distinct nodes (an alias is the same node object again): the depth
    and the expanded size (aliases counted as often as they are used) of each node."""
    depth: dict[int, int] = {}
    size: dict[int, int] = {}
    distinct = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, level, done = stack.pop()
        kids = _children(node)
        if done:
            size[id(node)] = 1 + sum(size[id(k)] for k in kids)
            continue
        if level > MAX_YAML_DEPTH:
            raise SpecError(f"YAML nested more than {MAX_YAML_DEPTH} levels deep (the limit)",
                            line=node.start_mark.line + 1)
        if id(node) in depth:
            if depth[id(node)] >= level:
                continue  # seen at this depth or deeper: size known or on its way
        else:
            distinct += 1
        depth[id(node)] = level
        stack.append((node, level, True))
        stack.extend((k, level + 1, False) for k in kids)
    if size[id(root)] - distinct > MAX_ALIAS_NODES:
        raise SpecError(f"YAML aliases (*name) would expand the document by more than "
                        f"{MAX_ALIAS_NODES:,} nodes (the limit)", line=root.start_mark.line + 1)


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


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
    if not text.strip():
        raise SpecError("empty file: a spec needs at least name, input and layers", file=file)
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
    except RecursionError:  # the pure-Python parser, without libyaml
        raise SpecError(f"YAML nested more than {MAX_YAML_DEPTH} levels deep (the limit)",
                        file=file) from None


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
