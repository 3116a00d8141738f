"""The analytic engine: spec -> tree of per-layer Counts (dotted paths: blocks.3.attn.q).

Torch-free. The walk propagates shapes through the whole spec, asks each layer room for its
formula, then resolves weight tying and sharing so that every tensor is counted once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .count import Count, CountResult, LayerRow, expand_rows
from .errors import SpecError
from .layers.registry import Ctx, Formula, LayerSpec, ShapeError
from .spec.limits import MAX_LAYERS, MAX_ROWS, MAX_TOTAL
from .spec.model import Spec, key_path, parse_spec
from .spec.paths import Copy, PathError, is_plain, resolve as resolve_path
from .spec.yamlload import line_of, load_yaml_file, load_yaml_text, paused_gc


def load_spec(source, overrides: dict | None = None, variant: str | None = None) -> Spec:
    """Load and validate a spec from a path (or a mapping already loaded). ``overrides``
    replace variables (on a loaded spec, they add to the overrides it already has). A size
    family (a file with ``variants:``) needs ``variant``: the name or an alias of one of its
    variants, whose ``vars`` apply before ``overrides``; :func:`load_specs` loads them all."""
    if isinstance(source, Spec):
        if variant is not None and variant != source.variant:
            raise SpecError(f"variant {variant!r}: the spec given is already "
                            f"{'variant ' + repr(source.variant) if source.variant else 'loaded'}",
                            file=source.file)
        if overrides:
            return _parse(source.raw, source.file, {**source.overrides, **overrides})
        return source
    if isinstance(source, dict):
        return _parse(source, None, overrides, variant)
    path, named = split_variant(source)
    if named is not None and variant is not None and named != variant:
        raise SpecError(f"two variants asked for: {named!r} (in the path) and {variant!r}",
                        file=str(path))
    if path.suffix.lower() == ".json":  # a Hugging Face config.json, read without torch
        from .spec.hf import config_file_spec

        return _parse(config_file_spec(path), str(path), overrides, variant or named)
    return _parse(load_yaml_file(path), str(path), overrides, variant or named)


def split_variant(source) -> tuple[Path, str | None]:
    """``'bert.yaml#BERT large'`` -> (bert.yaml, 'BERT large'): a family's variant named in
    the path, so that every command taking a spec file takes one variant of a family. A path
    that exists as written is never split."""
    text = str(source)
    path, sep, variant = text.rpartition("#")
    if sep and variant and not Path(text).exists() and Path(path).is_file():
        return Path(path), variant
    return Path(source), None


def load_specs(source, overrides: dict | None = None) -> list[Spec]:
    """Every spec a file holds: each variant of a family, in file order (the YAML read once),
    or the one spec of a plain file."""
    if isinstance(source, dict):
        return _parse_all(source, None, overrides)
    path, variant = split_variant(source)
    if variant is not None or path.suffix.lower() == ".json":  # a config.json is one spec
        return [load_spec(path, overrides, variant)]
    return _parse_all(load_yaml_file(path), str(path), overrides)


def load_spec_text(text: str, file: str = "<text>", overrides: dict | None = None,
                   variant: str | None = None) -> Spec:
    """Load and validate a spec from YAML text (``paramcount -`` reads stdin)."""
    return _parse(load_yaml_text(text, file), file, overrides, variant)


def load_specs_text(text: str, file: str = "<text>", overrides: dict | None = None) -> list[Spec]:
    """:func:`load_specs` of YAML text."""
    return _parse_all(load_yaml_text(text, file), file, overrides)


def _parse_all(raw, file, overrides) -> list[Spec]:
    from .spec.family import variant_names

    return [_parse(raw, file, overrides, v) for v in (variant_names(raw) or [None])]


def _parse(raw, file, overrides, variant=None) -> Spec:
    if isinstance(raw, dict) and "config" in raw:  # an archspec giving a config.json instead
        # of layers (the Hugging Face readers, imported only for such a spec)
        from .spec.hf import expand_archspec

        raw = expand_archspec(raw, file)
    try:
        with paused_gc():
            return parse_spec(raw, file, overrides, variant)
    except SpecError as err:
        raise _blame(err, raw, file, overrides, variant=variant) from None


def _blame(err: SpecError, raw, file, overrides, causal: str = "full",
           variant: str | None = None) -> SpecError:
    """An error that only the overrides cause names them first (``--set layers=0: ...``):
    the override is what the user must change, not the YAML line it lands on."""
    def fails(sets) -> bool:
        try:
            _count(walk(parse_spec(raw, file, sets, variant), causal, expand=False))
        except SpecError:
            return True
        return False

    if not overrides or fails({}):
        return err
    culprits = {k: v for k, v in overrides.items() if fails({k: v})} or overrides
    sets = ", ".join(f"{k}={v}" for k, v in culprits.items())
    return SpecError(f"--set {sets}: {err.message}" + (f" (at {err.where})" if err.where else ""))


@dataclass
class Node:
    path: str
    kind: str
    layer: LayerSpec
    out: tuple
    depth: int
    inp: tuple = ()
    group: bool = False                # a repeat group: children are the numbered copies
    children: list["Node"] = field(default_factory=list)
    formula: Formula | None = None     # leaves only
    join_other: int = 0                # composites: the cost of the join (residual add...)
    share_from: str | None = None      # all weights are those of this path
    tail: int = 1                      # groups: how many identical copies the last child stands for
    leaves: tuple = (0, 0)             # the span of this node's leaves in the walk's leaf list


def _join(prefix: str, seg: str) -> str:
    if not seg:
        return prefix
    return f"{prefix}.{seg}" if prefix else seg


def _canonical(groups: dict, nodes: dict, path: str) -> str:
    """The walked path that stands for ``path`` (``blocks.7.attn`` -> ``blocks.1.attn``
    when copies 1.. of ``blocks`` are identical)."""
    if not groups or path in nodes:
        return path
    segs = path.split(".")
    for i in range(1, len(segs)):
        got = groups.get(".".join(segs[:i]))
        if got and segs[i].isdigit() and got[0] < int(segs[i]) < got[1]:
            segs[i] = str(got[0])
    return ".".join(segs)


class _Env(dict):
    """Outputs by path; a path into a collapsed repeat (``blocks.7.attn``) reads the copy
    that stands for it (``blocks.1.attn``). It holds the walker's tables, not the walker (a
    walker holding its own bound method is a reference cycle, kept alive until the cycle
    collector runs)."""

    def __init__(self, groups: dict, nodes: dict):
        super().__init__()
        self.groups, self.nodes = groups, nodes

    def canonical(self, key: str) -> str:
        return _canonical(self.groups, self.nodes, key)

    def __missing__(self, key):
        c = self.canonical(key)
        if c != key and dict.__contains__(self, c):
            return dict.__getitem__(self, c)
        raise KeyError(key)

    def __contains__(self, key):
        return dict.__contains__(self, key) or dict.__contains__(self, self.canonical(key))

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


class _Walker:
    """Walks the spec once. Unless ``expand`` (the torch build needs every copy), a repeat
    walks copies only until one is the same as the one before (same input, same sharing):
    that copy then stands for all the rest (``Node.tail``), so ``repeat: 10**9`` costs one
    copy."""

    def __init__(self, spec: Spec, causal: str, expand: bool = False):
        self.spec = spec
        self.causal = causal
        self.expand = expand
        self.top: list[Node] = []
        self.out: tuple = ()
        self.nodes: dict[str, Node] = {}
        self.leaves: dict[str, Node] = {}
        self.leaf_list: list[Node] = []
        self.groups: dict[str, tuple[int, int]] = {}  # collapsed group -> (template copy, repeat)
        self.env: dict[str, tuple] = _Env(self.groups, self.nodes)
        self.ids: dict[str, bool] = _Env(self.groups, self.nodes)
        self.copies: list[Copy] = []       # the repeat copies being walked, innermost last
        self._prev: dict[int, tuple] = {}  # id(repeat layer) -> (it, the NAMEs its copies read as ^.NAME)
        for name, inp in spec.inputs.items():
            self.env[name] = inp.shape
            self.ids[name] = inp.ids

    def fail(self, layer: LayerSpec, message: str, key=None) -> SpecError:
        loc = tuple(layer._loc) + (key if isinstance(key, tuple) else (key,) if key else ())
        return SpecError(message, file=self.spec.file, line=line_of(self.spec.raw, loc),
                         key=key_path(loc) or None)

    def canonical(self, path: str) -> str:
        """The walked path that stands for ``path`` (see :func:`_canonical`)."""
        return _canonical(self.groups, self.nodes, path)

    def seq(self, layers: list, x: tuple, ids: bool, prefix: str, depth: int, parent: list):
        for i, layer in enumerate(layers):
            seg = layer.name or str(i)
            path = _join(prefix, seg)
            if path in self.nodes:
                raise self.fail(layer, f"duplicate layer path '{path}' (names must be unique among siblings)",
                                "name")
            layer = self.absolute(layer)
            if layer.from_:
                if layer.from_ not in self.env:
                    raise self.fail(layer, f"'from: {_written(layer, 'from_')}' is not an input or "
                                    "an earlier layer" + (_close(layer.from_, self.env) or
                                    f"; known: {', '.join(sorted(self.env)[:12])}"), "from")
                x, ids = self.env[layer.from_], self.ids[layer.from_]
            x, ids = self.node(layer, x, ids, path, depth, parent)
        return x, ids

    # ------------------------------------------------------------------------ paths
    def absolute(self, layer: LayerSpec) -> LayerSpec:
        """``layer`` with every path it names made absolute (spec/paths.py): relative paths
        are read in the innermost repeat copy being walked, copies counted from the end in
        the repeats walked so far. The same object when there is nothing to resolve (most
        layers); otherwise a copy remembering what was written (for error messages)."""
        copy = self.copies[-1] if self.copies else None
        changes: dict = {}
        for fname in _OWN_PATHS + layer.path_keys:
            value = getattr(layer, fname)
            if isinstance(value, str) and not is_plain(value):
                changes[fname] = self._path(layer, value, copy, _key(fname))
            elif isinstance(value, list) and not all(map(is_plain, value)):
                changes[fname] = [self._path(layer, v, copy, (fname, j)) for j, v in enumerate(value)]
        if layer.initial is not None:
            if "repeat" not in layer.model_fields_set:
                raise self.fail(layer, "initial: names what copy 0 of a repeat reads as ^.NAME; "
                                "this layer has no repeat:", "initial")
            if any(not is_plain(v) for v in layer.initial.values()):
                changes["initial"] = {k: self._path(layer, v, copy, ("initial", k))
                                      for k, v in layer.initial.items()}
        if not changes:
            return layer
        out = layer.model_copy(update=changes)
        out._written = {f: getattr(layer, f) for f in changes}
        return out

    def _path(self, layer, path: str, copy, key) -> str:
        try:
            return resolve_path(path, copy, self._copies_at)
        except PathError as err:
            raise self.fail(layer, str(err), key) from None

    def _copies_at(self, prefix: str) -> int | None:
        """How many copies the walked layer at ``prefix`` has (None: no such layer yet)."""
        node = self.nodes.get(self.canonical(prefix))
        if node is None:
            return None
        return node.layer.repeat if node.group else 1

    def _previous(self, layer: LayerSpec) -> tuple:
        """The NAMEs the copies of the repeat ``layer`` read as ``^.NAME``: its layers' keys,
        and the keys (not the insides) of repeats nested in it, whose own keys are read in
        this repeat's copies."""
        got = self._prev.get(id(layer))   # (the layer itself, so a reused id never matches)
        if got is not None and got[0] is layer:
            return got[1]
        names: set = set()
        todo = [sub for _, lst in layer.branches() for sub in lst] if layer.composite else []
        while todo:
            sub = todo.pop()
            values = [getattr(sub, f) for f in _OWN_PATHS + sub.path_keys]
            values += list((sub.initial or {}).values())
            for v in values:
                for p in (v if isinstance(v, list) else [v]):
                    if isinstance(p, str) and p.startswith("^."):
                        names.add(p[2:])
            if sub.composite and "repeat" not in sub.model_fields_set:
                todo += [s for _, lst in sub.branches() for s in lst]
        self._prev[id(layer)] = (layer, tuple(sorted(names)))
        return self._prev[id(layer)][1]

    def _seen_before(self, layer, copy: Copy) -> tuple:
        """What ``copy`` reads through its ``^.NAME`` paths: shapes and id-ness (None where a
        path cannot be read: walking the copy says why)."""
        out = []
        for name in self._previous(layer):
            try:
                p = resolve_path("^." + name, copy, self._copies_at)
            except PathError:
                p = None
            out.append((self.env.get(p), self.ids.get(p)) if p is not None else None)
        return tuple(out)

    def node(self, layer, x, ids, path, depth, parent):
        initial = layer.initial or {}
        for name in initial:
            if name not in self._previous(layer):
                raise self.fail(layer, f"initial: no layer of the copies reads ^.{name}"
                                + _close(name, self._previous(layer)), ("initial", name))
        if layer.repeat > 1 or layer.shared:
            if layer.shared and layer.repeat < 2:
                raise self.fail(layer, "shared: true needs repeat >= 2", "shared")
            group = self.add(Node(path, layer.kind, layer, x, depth, inp=tuple(x), group=True), parent)
            before = None
            for r in range(layer.repeat):
                share = f"{path}.0" if layer.shared and r else layer.share
                copy = Copy(path, f"{path}.{r}", r, initial, layer.shared)
                now = (tuple(x), ids, share, self._seen_before(layer, copy))
                if now == before and not self.expand:  # copy r is copy r-1 again, and so on
                    group.tail = layer.repeat - r + 1
                    self.groups[path] = (r - 1, layer.repeat)
                    break
                before = now
                self.copies.append(copy)
                try:
                    x, ids = self.one(layer, x, ids, f"{path}.{r}", depth + 1, group.children, share)
                finally:
                    self.copies.pop()
            group.out = x
            group.leaves = (group.children[0].leaves[0], len(self.leaf_list))
        elif "repeat" in layer.model_fields_set:   # repeat: 1, its one copy unnumbered
            self.copies.append(Copy(path, path, 0, initial))
            try:
                x, ids = self.one(layer, x, ids, path, depth, parent, share=layer.share)
            finally:
                self.copies.pop()
        else:
            x, ids = self.one(layer, x, ids, path, depth, parent, share=layer.share)
        self.env[path] = x
        self.ids[path] = ids
        return x, ids

    def add(self, node: Node, parent: list) -> Node:
        if len(self.nodes) >= MAX_LAYERS:
            raise self.fail(node.layer, f"more than {MAX_LAYERS:,} distinct layers to walk (the limit;"
                            " identical repeated copies count once)")
        self.nodes[node.path] = node
        parent.append(node)
        return node

    def one(self, layer, x, ids, path, depth, parent, share):
        ctx = Ctx(env=self.env, causal=self.causal, path=path)
        n = self.add(Node(path, layer.kind, layer, x, depth, inp=tuple(x), share_from=share), parent)
        start = len(self.leaf_list)
        if layer.composite:
            outs, out_ids = {}, []
            for seg, sub in layer.branches():
                outs[seg], sid = self.seq(sub, x, ids, _join(path, seg), depth + 1, n.children)
                out_ids.append(sid)
            try:
                n.out, n.join_other = layer.combine(x, outs)
            except ShapeError as err:
                raise self.fail(layer, str(err)) from None
            n.leaves = (start, len(self.leaf_list))
            return n.out, all(out_ids)
        if ids and not layer.takes_ids:
            raise self.fail(layer, f"{layer.kind} gets integer token ids; put an embedding first", "kind")
        if not ids and layer.takes_ids:
            raise self.fail(layer, f"{layer.kind} needs token ids (a 'tokens' input), got features {tuple(x)}",
                            "kind")
        for fname in layer.path_keys:
            value = getattr(layer, fname)
            for j, ref in enumerate(value if isinstance(value, list) else [value]):
                if ref and ref not in self.env:
                    where = (fname, j) if isinstance(value, list) else fname
                    raise self.fail(layer, f"{fname}: '{_written(layer, fname, j)}' is not an "
                                    "input or an earlier layer" + _close(ref, self.env), where)
        try:
            n.out = tuple(layer.output_shape(x, ctx))
            n.formula = layer.formula(x, ctx)
        except ShapeError as err:
            raise self.fail(layer, str(err)) from None
        self.leaves[path] = n
        self.leaf_list.append(n)
        n.leaves = (start, start + 1)
        return n.out, False

    # ---------------------------------------------------------------- tying and sharing
    def resolve(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Map each aliased tensor (leaf path, tensor name) to the tensor it is.

        Linear in the walked layers: a sharing node visits only its own leaves (a span of
        the leaf list), and a path into a collapsed repeat resolves to the copy standing
        for it."""
        alias: dict[tuple[str, str], tuple[str, str]] = {}
        for node in self.nodes.values():
            if node.share_from is None:
                continue
            src = self.nodes.get(self.canonical(node.share_from))
            if src is None:
                shown = _written(node.layer, "share") if node.share_from == node.layer.share else node.share_from
                raise self.fail(node.layer, f"share target '{shown}' is not a layer path"
                                + _close(node.share_from, self.nodes), "share")
            if src.kind != node.kind:
                raise self.fail(node.layer, f"cannot share weights of a {src.kind} with a {node.kind}", "share")
            for leaf in self.leaf_list[node.leaves[0]:node.leaves[1]]:
                lpath = leaf.path
                spath = src.path + lpath[len(node.path):]
                sleaf = self.leaves.get(spath)
                if sleaf is None or set(sleaf.formula.params) != set(leaf.formula.params):
                    raise self.fail(node.layer, f"'{lpath}' has no matching layer at '{spath}' to share with", "share")
                for t, p in leaf.formula.params.items():
                    if sleaf.formula.params[t].shape != p.shape:
                        raise self.fail(node.layer, f"cannot share {lpath}.{t} {p.shape} with "
                                        f"{spath}.{t} {sleaf.formula.params[t].shape}", "share")
                    alias[(lpath, t)] = (spath, t)
        for lpath, leaf in self.leaves.items():
            tie = leaf.layer.tie
            if not tie:
                continue
            src = self.leaves.get(self.canonical(tie))
            if src is None:
                raise self.fail(leaf.layer, f"tie target '{_written(leaf.layer, 'tie')}' is not a layer with weights"
                                + _close(tie, self.leaves), "tie")
            if "weight" not in leaf.formula.params or "weight" not in src.formula.params:
                raise self.fail(leaf.layer, f"tie needs a 'weight' on both {lpath} and {tie}", "tie")
            a, b = leaf.formula.params["weight"].shape, src.formula.params["weight"].shape
            if a != b:
                raise self.fail(leaf.layer, f"cannot tie weight {a} of '{lpath}' to weight {b} of '{tie}'", "tie")
            alias[(lpath, "weight")] = (tie, "weight")
        # follow chains (through the copies standing for others); a cycle is an error
        for key in list(alias):
            seen = [key]
            cur = alias[key]
            while (self.canonical(cur[0]), cur[1]) in alias:
                if cur in seen:
                    leaf = self.leaves[key[0]]
                    chain = " -> ".join(p for p, _ in seen + [cur])
                    raise self.fail(leaf.layer, f"tied/shared weights form a cycle: {chain}",
                                    "tie" if leaf.layer.tie else "share")
                seen.append(cur)
                cur = alias[(self.canonical(cur[0]), cur[1])]
            alias[key] = cur
        return alias

    # ------------------------------------------------------------------------- counting
    def rows(self, alias) -> tuple[list[LayerRow], Count]:
        """Rows in tree order, parents first. A row under a collapsed repeat stands for
        ``copies`` identical instances and holds the count of one."""
        rows: list[LayerRow] = []
        targets: dict[str, list[str]] = {}
        for (lp, _), (p, t) in alias.items():
            targets.setdefault(lp, []).append(f"{p}.{t}")
        total = Count()
        for top in self.top:
            total = total + self._visit(top, 1, rows, alias, targets)
        return rows, total

    def _visit(self, node: Node, copies: int, rows: list, alias: dict, targets: dict) -> Count:
        """Append the rows of ``node`` and its children to ``rows``; the count of ``node``."""
        idx = len(rows)
        rows.append(None)  # placeholder, parents before children
        if node.formula is not None:
            owned = {t for t in node.formula.params if (node.path, t) not in alias}
            count = node.formula.count(owned)
            for part, (pf, po) in node.formula.parts.items():
                names = [t for t in node.formula.params if t.startswith(part + ".")]
                pc = node.formula.count(owned, names)
                rows.append(LayerRow(f"{node.path}.{part}", "part", Count(
                    pc.params, pc.active_params, pf, po, pc.by_type), None, node.depth + 1,
                    True, copies=copies))
            note = ""
            if node.path in targets:
                note = (f"weights shared with {node.share_from}" if node.share_from else
                        "tied to " + ", ".join(sorted(set(targets[node.path]))))
            rows[idx] = LayerRow(node.path, node.kind, count, node.out, node.depth,
                                 leaf=not node.formula.parts, note=note, copies=copies,
                                 share_from=node.share_from or "")
            return count
        total = Count(other_flops=node.join_other)
        last = len(node.children) - 1
        for i, child in enumerate(node.children):
            m = node.tail if i == last else 1
            c = self._visit(child, copies * m, rows, alias, targets)
            total = total + (c if m == 1 else c.scale(m))
        if node.group:
            kind = f"{node.kind} x{node.layer.repeat}"
            note = "weights shared across copies" if node.layer.shared else ""
        else:
            kind = node.kind
            note = f"weights shared with {node.share_from}" if node.share_from else ""
        rows[idx] = LayerRow(node.path, kind, total, node.out, node.depth, leaf=False,
                             note=note, copies=copies, share_from=node.share_from or "")
        return total


_OWN_PATHS = ("from_", "share", "tie")   # the path keys of every layer (a kind adds path_keys)


def _key(fname: str) -> str:
    return "from" if fname == "from_" else fname


def _written(layer: LayerSpec, fname: str, j: int | None = None) -> str:
    """A path key as the spec wrote it, with what it resolved to where that differs:
    ``.row.ln (evoformer.3.row.ln)``."""
    value = getattr(layer, fname)
    written = layer._written.get(fname, value)
    if j is not None and isinstance(value, list):
        value, written = value[j], written[j]
    return f"{written} ({value})" if written != value else f"{value}"


def _close(word, options) -> str:
    import difflib

    c = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{c[0]}'?)" if c else ""


def walk(spec: Spec, causal: str = "full", expand: bool = True) -> _Walker:
    """Propagate shapes through the spec and resolve tying/sharing. With ``expand`` (the
    tree torch_build uses) every repeat copy is a node; without, identical copies collapse."""
    w = _Walker(spec, causal, expand)
    first = next(iter(spec.inputs.values()))
    w.out, _ = w.seq(spec.layers, first.shape, first.ids, "", 1, w.top)
    w.alias = w.resolve()
    return w


def _count(w: _Walker) -> tuple[list[LayerRow], Count]:
    compact, total = w.rows(w.alias)
    if max(total.params, total.forward_flops, total.other_flops) >= MAX_TOTAL:
        raise SpecError(f"the counts exceed {MAX_TOTAL:.0e} (the limit): the repeats and sizes "
                        "multiply to more than any float can hold", file=w.spec.file)
    return compact, total


def analyze(spec: Spec, causal: str = "full", expand: bool = True) -> CountResult:
    """Count a spec: per-layer rows and totals over unique tensors.

    ``causal='half'`` counts causal self-attention score/value products as T·S/2 instead of
    the full T·S matrix (DESIGN: an explicit option, never silent). ``expand=False`` leaves
    ``layers`` collapsed (a row with ``copies`` stands for that many identical layers): the
    same totals, for callers that need no per-copy rows (the catalog).
    """
    if causal not in ("full", "half"):
        raise SpecError(f"causal convention must be 'full' or 'half', got {causal!r}")
    try:
        with paused_gc():
            w = walk(spec, causal, expand=False)
            compact, total = _count(w)
    except SpecError as err:
        raise _blame(err, spec.raw, spec.file, spec.overrides, causal) from None
    with paused_gc():
        rows = expand_rows(compact, MAX_ROWS) if expand else compact
    out = w.out
    kinds = sorted({n.kind for n in w.leaves.values()})
    notes = list(spec.notes)
    if causal == "half":
        notes.append("causal self-attention score/value products counted as half the T x S matrix")
    if rows is None:
        rows = compact
        notes.append(f"per-layer rows stay collapsed: expanding the repeats would give more than "
                     f"{MAX_ROWS:,} rows (the limit); a row with 'copies' stands for that many "
                     "identical layers and holds the count of one")
    result = CountResult(
        name=spec.name, total=total, layers=rows, source="analytic",
        collapsed=compact if rows is not compact and any(r.copies > 1 for r in compact) else None,
        input_shapes={k: v.shape for k, v in spec.inputs.items()}, output_shape=out,
        tokens=spec.tokens, notes=notes,
        extra={"citation": spec.citation, "domain": spec.domain, "file": spec.file,
               "published": spec.published, "kinds": kinds, "causal_convention": causal,
               "overrides": spec.overrides},
    )
    return result


_COUNTED = ("params", "active_params", "forward_flops", "macs")  # CountResult attributes


def compare_published(result: CountResult) -> list[dict[str, Any]]:
    """Each published figure of the spec beside the count (ratio counted / published).

    Training compute has no counterpart in a forward count (see ``paramcount train``). A
    spec modified by overrides (``--set``) is not the published model: its figures are shown
    but not compared (``compared`` False, no ratio)."""
    out = []
    modified = result.extra.get("overrides") or {}
    for key, pub in (result.extra.get("published") or {}).items():
        counted = getattr(result, key) if key in _COUNTED else None
        value = pub["value"]
        compared = counted is not None and not modified
        out.append({"key": key, "published": value, "counted": counted,
                    "ratio": counted / value if compared and value else None,
                    "exact": counted == value if compared else None,
                    "compared": compared,
                    "source": pub["source"], "note": pub.get("note")})
    return out
