"""Safe YAML loading that remembers the line of every key and list item.

Only plain YAML data is accepted (mappings, lists, strings, numbers, booleans, null). Tags
that would construct objects (``!!python/object``...) are refused with their line, and so
are duplicate keys, which plain PyYAML silently collapses.

Parsing uses libyaml (PyYAML's C loader) where it is installed, so loading is linear and
fast; the C parser keeps every node's line. The data is built in one pass over the composed
nodes that refuses nesting deeper than :data:`~estimator.spec.limits.MAX_YAML_DEPTH` and
aliases (``*name``) that would expand the document by more than
:data:`~estimator.spec.limits.MAX_ALIAS_NODES` nodes (a "billion laughs" document).

A file is read through :func:`estimator.safety.read_bytes`: a regular file of at most
:data:`~estimator.spec.limits.MAX_SPEC_BYTES`. A document larger than
:data:`PRECHECK_BYTES` is first streamed through the parser's events, which hold no tree, to
count its nodes and layers (the items of every ``layers:`` list): one past
:data:`~estimator.spec.limits.MAX_YAML_NODES` or :data:`~estimator.spec.limits.MAX_LAYERS`
stops the load there, before a tree of millions of nodes is built.
"""
from __future__ import annotations

import gc
import re
import sys
from contextlib import contextmanager
from pathlib import Path

#: the pattern PyYAML's pure-Python reader compiles when ``yaml`` is imported
#: (``yaml.reader.Reader.NON_PRINTABLE``, PyYAML 5.1 to 6.0)
NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"


class CompiledOnUse:
    """A regular expression compiled the first time one of its methods is used."""

    def __init__(self, pattern: str, flags: int = 0):
        self.pattern, self.flags, self._compiled = pattern, flags, None

    def __getattr__(self, name):
        if self._compiled is None:
            self._compiled = _re_compile(self.pattern, self.flags)
        return getattr(self._compiled, name)


_re_compile = re.compile


def _import_yaml():
    """PyYAML, imported without compiling :data:`NON_PRINTABLE` on the way.

    Importing ``yaml`` compiles that character class, which spans all of Unicode: re's
    compiler walks its code points one by one in Python, about 57 million instructions
    (15 ms, a tenth of ``paramcount SPEC.yaml``), for a pattern only the pure-Python reader
    uses, which libyaml's loader (the one used here where installed) never runs. While
    ``yaml`` is imported, ``re.compile`` of exactly that text gives a :class:`CompiledOnUse`
    instead; every other pattern compiles as usual, and ``re.compile`` is itself again
    before this returns."""
    if "yaml" in sys.modules:
        return sys.modules["yaml"]

    def compile_(pattern, flags=0):
        if pattern == NON_PRINTABLE and flags == 0:
            return CompiledOnUse(pattern)
        return _re_compile(pattern, flags)

    re.compile = compile_
    try:
        import yaml
    finally:
        re.compile = _re_compile
    return yaml


yaml = _import_yaml()

from ..errors import InputError, SpecError
from .limits import MAX_ALIAS_NODES, MAX_LAYERS, MAX_SPEC_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

#: documents above this size are pre-counted from the parser's events (see the module doc)
PRECHECK_BYTES = 256 * 1024


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
_STR = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
_SCALAR = yaml.ScalarNode
_INT = "tag:yaml.org,2002:int"
#: where an anchor could start: '&' then a character an anchor name may hold (an '&' before a
#: space, a comma or a bracket, as in 'Krizhevsky, Sutskever & Hinton', can be none)
_ANCHOR = re.compile(r"&[^\s,\[\]{}]")


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml parses and composes; the tag of each plain scalar is resolved once per distinct
    text (PyYAML's resolver runs its regular expressions on every scalar), and at once where
    no implicit tag can apply (a quoted scalar; a plain one whose first character starts no
    implicit tag's pattern: 'linear', 'd_model'); :func:`build` makes the data."""

    #: the first characters of the texts an implicit tag (int, float, bool, null...) can match
    FIRST = frozenset(getattr(yaml, "CSafeLoader", yaml.SafeLoader).yaml_implicit_resolvers)

    def __init__(self, stream):
        super().__init__(stream)
        self.tags: dict = {}
        # an alias needs an anchor (&name): a text without one has no node twice
        self.aliases = not isinstance(stream, str) or _ANCHOR.search(stream) is not None

    def resolve(self, kind, value, implicit):
        if kind is not yaml.ScalarNode or self.yaml_path_resolvers or None in self.FIRST:
            return super().resolve(kind, value, implicit)
        if not implicit[0] or value and value[0] not in self.FIRST:
            return _STR  # what the resolver returns when no implicit pattern is tried
        tag = self.tags.get(value)
        if tag is None:
            tag = self.tags[value] = super().resolve(kind, value, implicit)
        return tag

    def get_single_data(self):
        node = self.get_single_node()
        return None if node is None else build(self, node, self.aliases)


def _refuse(node) -> SpecError:
    return SpecError(f"YAML tag '{node.tag}' is not allowed: specs hold plain data only",
                     line=node.start_mark.line + 1)


def build(loader, root: yaml.Node, aliases: bool = True):
    """Composed nodes -> LineDict / LineList / scalars, in one pass that enforces the limits.

    An alias (``*name``) is the same node again: it is built once and reused, but counted
    as the nodes it stands for, so a document that would expand past MAX_ALIAS_NODES (a
    "billion laughs") is refused, and so is nesting deeper than MAX_YAML_DEPTH. A document
    without anchors (``aliases=False``: no ``&name`` in its text) has no node twice, so only the
    depth is tracked."""
    builder = _Builder(loader)
    if not aliases:
        return builder.plain(root, 1)
    return builder.make(root, 1)[0]


def _deep(node, line=None) -> SpecError:
    return SpecError(f"YAML nested more than {MAX_YAML_DEPTH} levels deep (the limit)",
                     line=line or node.start_mark.line + 1)


class _Builder:
    """One document's build (a class, not a recursive closure: a closure that calls itself is
    a reference cycle, which would keep every node and object built alive until the cycle
    collector runs)."""

    def __init__(self, loader):
        self.loader = loader
        self.made: dict[int, tuple] = {}  # id(node) -> (object, expanded size, height)
        self.added = 0                    # nodes that aliases add

    def scalar(self, node):
        tag, value = node.tag, node.value
        if tag == _STR:   # what construct_yaml_str returns
            return value
        if tag == _INT and len(value) <= 18 and value.isascii() and value.isdigit() and (
                value[0] != "0" or value == "0"):
            return int(value)  # plain decimal digits, no octal 0...: what construct_yaml_int
            # returns (longer ones go through it, for its digit-limit error)
        fn = self.loader.yaml_constructors.get(tag)
        if fn is None or tag in (_MAP, _SEQ):
            raise _refuse(node)
        try:
            return fn(self.loader, node)
        except (ValueError, OverflowError) as err:  # a 5001-digit int, a bad timestamp
            why = ("an integer of more than 4,300 digits (Python's limit for reading "
                   "numbers)" if "digits" in str(err) else f"unreadable {tag.rsplit(':', 1)[-1]}")
            raise SpecError(f"cannot read this value: {why}",
                            line=node.start_mark.line + 1) from None

    def key(self, key, key_node, obj):
        if not isinstance(key, (str, int, float, bool)):
            raise SpecError("mapping keys must be plain scalars", line=key_node.start_mark.line + 1)
        if key in obj:
            raise SpecError(f"duplicate key '{key}'", line=key_node.start_mark.line + 1)

    def plain(self, node, level: int):
        """The object of ``node`` in a document without aliases: each node is built once."""
        if level > MAX_YAML_DEPTH:
            raise _deep(node)
        cls = type(node)
        if cls is yaml.ScalarNode:
            return self.scalar(node)
        if cls is yaml.MappingNode:
            if node.tag != _MAP:
                raise _refuse(node)
            self.loader.flatten_mapping(node)
            obj = LineDict()
            obj.line, obj.lines = node.start_mark.line + 1, {}
            lines, inner = obj.lines, level < MAX_YAML_DEPTH
            for key_node, value_node in node.value:
                # a plain string (most keys and values) is its text: taken here, not built
                if inner and key_node.tag == _STR and type(key_node) is _SCALAR:
                    key = key_node.value
                else:
                    key = self.plain(key_node, level + 1)
                self.key(key, key_node, obj)
                if inner and value_node.tag == _STR and type(value_node) is _SCALAR:
                    obj[key] = value_node.value
                else:
                    obj[key] = self.plain(value_node, level + 1)
                lines[key] = key_node.start_mark.line + 1
            return obj
        if node.tag != _SEQ:
            raise _refuse(node)
        obj = LineList()
        obj.line, obj.lines = node.start_mark.line + 1, []
        lines, inner = obj.lines, level < MAX_YAML_DEPTH
        for child in node.value:
            if inner and child.tag == _STR and type(child) is _SCALAR:
                obj.append(child.value)
            else:
                obj.append(self.plain(child, level + 1))
            lines.append(child.start_mark.line + 1)
        return obj

    def make(self, node, level: int) -> tuple:
        """(object, expanded size, height) of ``node``, counting what aliases add."""
        if level > MAX_YAML_DEPTH:
            raise _deep(node)
        got = self.made.get(id(node))
        if got is not None:  # an alias
            if level + got[2] > MAX_YAML_DEPTH:
                raise _deep(node)
            self.added += got[1]
            if self.added > MAX_ALIAS_NODES:
                raise SpecError(f"YAML aliases (*name) expand the document by more than "
                                f"{MAX_ALIAS_NODES:,} nodes (the limit)", line=node.start_mark.line + 1)
            return got
        size, height = 1, 0
        if isinstance(node, yaml.ScalarNode):
            obj = self.scalar(node)
        elif isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise _refuse(node)
            self.loader.flatten_mapping(node)
            obj = LineDict()
            obj.line, obj.lines = node.start_mark.line + 1, {}
            for key_node, value_node in node.value:
                key, ks, kh = self.make(key_node, level + 1)
                self.key(key, key_node, obj)
                obj[key], vs, vh = self.make(value_node, level + 1)
                obj.lines[key] = key_node.start_mark.line + 1
                size, height = size + ks + vs, max(height, kh + 1, vh + 1)
        else:
            if node.tag != _SEQ:
                raise _refuse(node)
            obj = LineList()
            obj.line, obj.lines = node.start_mark.line + 1, []
            for child in node.value:
                item, cs, ch = self.make(child, level + 1)
                obj.append(item)
                obj.lines.append(child.start_mark.line + 1)
                size, height = size + cs, max(height, ch + 1)
        got = self.made[id(node)] = (obj, size, height)
        return got


@contextmanager
def paused_gc(keep: bool = False):
    """Python's cycle collector, paused while a big tree of new objects is built (nothing
    built here holds a cycle): with it running, loading a large document is several times
    slower, each collection walking all that was built so far.

    ``keep``: what is built stays for the life of the process (the catalog, cached): it goes
    to the collector's permanent generation (:func:`gc.freeze`) instead of being walked again
    by the next collections and the one at exit. A frozen object is freed by reference
    counting alone, so this is only for a build that makes no reference cycles
    (tests/test_catalog.py checks that a catalog load leaves none); and the caller's cycles
    are collected first (one collection of what exists before the build), so that none
    waiting to be collected is frozen with it."""
    was = gc.isenabled()
    if keep:
        gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()
        if was:
            gc.enable()


def precount(text: str) -> None:
    """Stream the parser's events (no tree is built) counting nodes and layers, the items of
    every list under a ``layers:`` key; SpecError at the first one past its limit."""
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    stack: list[list] = []  # ["m", next is a key, last key] or ["s", items are layers]
    nodes = layers = 0
    for ev in yaml.parse(text, Loader=_Loader):
        t = type(ev)
        if t in ends:
            stack.pop()
            continue
        if t not in (scalar, alias, map_start, seq_start):
            continue
        nodes += 1
        if nodes > MAX_YAML_NODES:
            raise SpecError(f"more than {MAX_YAML_NODES:,} YAML nodes (the limit)",
                            line=ev.start_mark.line + 1)
        under_layers = False
        if stack:
            top = stack[-1]
            if top[0] == "m":
                if top[1]:  # a key
                    top[1], top[2] = False, ev.value if t is scalar else None
                    if t is scalar or t is alias:
                        continue
                else:       # a value
                    top[1] = True
                    under_layers = top[2] == "layers"
            elif top[1]:
                layers += 1
                if layers > MAX_LAYERS:
                    raise SpecError(f"more than {MAX_LAYERS:,} layers (the limit)",
                                    line=ev.start_mark.line + 1)
        if t is map_start:
            stack.append(["m", True, None])
        elif t is seq_start:
            stack.append(["s", under_layers])


def load_yaml_text(text: str, file: str | None = None):
    if not text.strip():
        raise SpecError("empty file: a spec needs at least name, input and layers", file=file)
    try:
        if len(text) > PRECHECK_BYTES:
            precount(text)
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


def read_text_file(path: str | Path, *, max_bytes: int, what: str) -> str:
    """The UTF-8 text of an input file (a spec, a config.json): a regular file of at most
    ``max_bytes`` (no device, FIFO or folder), read whole by
    :func:`estimator.safety.read_bytes`; SpecError (one line, never the content) otherwise."""
    from ..safety import read_bytes

    if not Path(path).exists():   # worded as every loader words it (ONNX too)
        raise SpecError("no such file", file=str(path))
    try:   # a folder, device or FIFO: read_bytes's one wording ("this is a folder, not a ...")
        raw = read_bytes(path, max_bytes=max_bytes, what=what)
    except InputError as err:
        raise SpecError(err.message, file=err.file) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("not a text file (invalid UTF-8)", file=str(path)) from None


def load_yaml_file(path: str | Path, *, max_bytes: int = MAX_SPEC_BYTES):
    """The data of a YAML file: :func:`read_text_file`, then :func:`load_yaml_text`."""
    return load_yaml_text(read_text_file(path, max_bytes=max_bytes, what="spec file"),
                          file=str(path))


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
