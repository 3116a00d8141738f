"""Safe YAML loading that remembers the line of every key and list item.

Only plain YAML data is accepted (mappings, lists, strings, numbers, booleans, null). Tags
that would construct objects (``!!python/object``...) are refused with their line, and so
are duplicate keys, which plain PyYAML silently collapses.

Parsing uses libyaml (PyYAML's C loader) where it is installed, so loading is linear and
fast; the C parser keeps every node's line. The data is built in one pass over the composed
nodes that refuses nesting deeper than :data:`~estimator.spec.limits.MAX_YAML_DEPTH` and
aliases (``*name``) that would expand the document by more than
:data:`~estimator.spec.limits.MAX_ALIAS_NODES` nodes (a "billion laughs" document).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
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


_MAP = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG
_SEQ = yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml parses and composes; the tag of each plain scalar is resolved once per distinct
    text (PyYAML's resolver runs its regular expressions on every scalar); :func:`build`
    makes the data."""

    def __init__(self, stream):
        super().__init__(stream)
        self.tags: dict = {}

    def resolve(self, kind, value, implicit):
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self.tags.get(key)
        if tag is None:
            tag = self.tags[key] = super().resolve(kind, value, implicit)
        return tag

    def get_single_data(self):
        node = self.get_single_node()
        return None if node is None else build(self, node)


def _refuse(node) -> SpecError:
    return SpecError(f"YAML tag '{node.tag}' is not allowed: specs hold plain data only",
                     line=node.start_mark.line + 1)


def build(loader, root: yaml.Node):
    """Composed nodes -> LineDict / LineList / scalars, in one pass that enforces the limits.

    An alias (``*name``) is the same node again: it is built once and reused, but counted
    as the nodes it stands for, so a document that would expand past MAX_ALIAS_NODES (a
    "billion laughs") is refused, and so is nesting deeper than MAX_YAML_DEPTH."""
    made: dict[int, tuple] = {}  # id(node) -> (object, expanded size, height)
    added = [0]                  # nodes that aliases add

    def deep(node, line=None):
        return SpecError(f"YAML nested more than {MAX_YAML_DEPTH} levels deep (the limit)",
                         line=line or node.start_mark.line + 1)

    def make(node, level: int) -> tuple:
        if level > MAX_YAML_DEPTH:
            raise deep(node)
        got = made.get(id(node))
        if got is not None:  # an alias
            if level + got[2] > MAX_YAML_DEPTH:
                raise deep(node)
            added[0] += got[1]
            if added[0] > MAX_ALIAS_NODES:
                raise SpecError(f"YAML aliases (*name) expand the document by more than "
                                f"{MAX_ALIAS_NODES:,} nodes (the limit)", line=node.start_mark.line + 1)
            return got
        size, height = 1, 0
        if isinstance(node, yaml.ScalarNode):
            fn = loader.yaml_constructors.get(node.tag)
            if fn is None or node.tag in (_MAP, _SEQ):
                raise _refuse(node)
            obj = fn(loader, node)
        elif isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise _refuse(node)
            loader.flatten_mapping(node)
            obj = LineDict()
            obj.line, obj.lines = node.start_mark.line + 1, {}
            for key_node, value_node in node.value:
                key, ks, kh = make(key_node, level + 1)
                if not isinstance(key, (str, int, float, bool)):
                    raise SpecError("mapping keys must be plain scalars", line=key_node.start_mark.line + 1)
                if key in obj:
                    raise SpecError(f"duplicate key '{key}'", line=key_node.start_mark.line + 1)
                obj[key], vs, vh = make(value_node, level + 1)
                obj.lines[key] = key_node.start_mark.line + 1
                size, height = size + ks + vs, max(height, kh + 1, vh + 1)
        else:
            if node.tag != _SEQ:
                raise _refuse(node)
            obj = LineList()
            obj.line, obj.lines = node.start_mark.line + 1, []
            for child in node.value:
                item, cs, ch = make(child, level + 1)
                obj.append(item)
                obj.lines.append(child.start_mark.line + 1)
                size, height = size + cs, max(height, ch + 1)
        got = made[id(node)] = (obj, size, height)
        return got

    return make(root, 1)[0]


@contextmanager
def paused_gc():
    """Python's cycle collector, paused while a big tree of new objects is built (nothing
    built here holds a cycle): with it running, loading a large document is several times
    slower, each collection walking all that was built so far."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_yaml_text(text: str, file: str | None = None):
    if not text.strip():
        raise SpecError("empty file: a spec needs at least name, input and layers", file=file)
    try:
        with paused_gc():
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
