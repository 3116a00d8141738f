"""The analytic engine: spec -> tree of per-layer Counts (dotted paths: blocks.3.attn.q).

Torch-free. The walk propagates shapes through the whole spec, asks each layer room for its
formula, then resolves weight tying and sharing so that every tensor is counted once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .count import Count, CountResult, LayerRow
from .errors import SpecError
from .layers.registry import Ctx, Formula, LayerSpec, ShapeError
from .spec.model import Spec, key_path, parse_spec
from .spec.yamlload import line_of, load_yaml_file


def load_spec(source, overrides: dict | None = None) -> Spec:
    """Load and validate a spec from a path (or a mapping already loaded)."""
    if isinstance(source, Spec):
        if overrides:
            return parse_spec(source.raw, source.file, overrides)
        return source
    if isinstance(source, dict):
        return parse_spec(source, None, overrides)
    path = Path(source)
    return parse_spec(load_yaml_file(path), str(source), overrides)


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


def _join(prefix: str, seg: str) -> str:
    if not seg:
        return prefix
    return f"{prefix}.{seg}" if prefix else seg


class _Walker:
    def __init__(self, spec: Spec, causal: str):
        self.spec = spec
        self.causal = causal
        self.top: list[Node] = []
        self.out: tuple = ()
        self.env: dict[str, tuple] = {}
        self.ids: dict[str, bool] = {}
        self.nodes: dict[str, Node] = {}
        self.leaves: dict[str, Node] = {}
        for name, inp in spec.inputs.items():
            self.env[name] = inp.shape
            self.ids[name] = inp.ids

    def fail(self, layer: LayerSpec, message: str, key: str | None = None) -> SpecError:
        loc = tuple(layer._loc) + ((key,) if key else ())
        return SpecError(message, file=self.spec.file, line=line_of(self.spec.raw, loc),
                         key=key_path(loc) or None)

    def seq(self, layers: list, x: tuple, ids: bool, prefix: str, depth: int, parent: list):
        for i, layer in enumerate(layers):
            seg = layer.name or str(i)
            path = _join(prefix, seg)
            if path in self.nodes:
                raise self.fail(layer, f"duplicate layer path '{path}' (names must be unique among siblings)",
                                "name")
            if layer.from_:
                if layer.from_ not in self.env:
                    raise self.fail(layer, f"'from: {layer.from_}' is not an input or an earlier layer"
                                    f"; known: {', '.join(sorted(self.env)[:12])}", "from")
                x, ids = self.env[layer.from_], self.ids[layer.from_]
            x, ids = self.node(layer, x, ids, path, depth, parent)
        return x, ids

    def node(self, layer, x, ids, path, depth, parent):
        if layer.repeat > 1 or layer.shared:
            if layer.shared and layer.repeat < 2:
                raise self.fail(layer, "shared: true needs repeat >= 2", "shared")
            group = Node(path, layer.kind, layer, x, depth, inp=tuple(x), group=True)
            self.nodes[path] = group
            parent.append(group)
            for r in range(layer.repeat):
                x, ids = self.one(layer, x, ids, f"{path}.{r}", depth + 1, group.children,
                                  share=f"{path}.0" if layer.shared and r else layer.share)
            group.out = x
        else:
            x, ids = self.one(layer, x, ids, path, depth, parent, share=layer.share)
        self.env[path] = x
        self.ids[path] = ids
        return x, ids

    def one(self, layer, x, ids, path, depth, parent, share):
        ctx = Ctx(env=self.env, causal=self.causal, path=path)
        n = Node(path, layer.kind, layer, x, depth, inp=tuple(x), share_from=share)
        self.nodes[path] = n
        parent.append(n)
        if layer.composite:
            outs, out_ids = {}, []
            for seg, sub in layer.branches():
                outs[seg], sid = self.seq(sub, x, ids, _join(path, seg), depth + 1, n.children)
                out_ids.append(sid)
            try:
                n.out, n.join_other = layer.combine(x, outs)
            except ShapeError as err:
                raise self.fail(layer, str(err)) from None
            return n.out, all(out_ids)
        if ids and not layer.takes_ids:
            raise self.fail(layer, f"{layer.kind} gets integer token ids; put an embedding first", "kind")
        if not ids and layer.takes_ids:
            raise self.fail(layer, f"{layer.kind} needs token ids (a 'tokens' input), got features {tuple(x)}",
                            "kind")
        for ref in layer.needs():
            if ref not in self.env:
                raise self.fail(layer, f"'{ref}' is not an input or an earlier layer", "memory")
        try:
            n.out = tuple(layer.output_shape(x, ctx))
            n.formula = layer.formula(x, ctx)
        except ShapeError as err:
            raise self.fail(layer, str(err)) from None
        self.leaves[path] = n
        return n.out, False

    # ---------------------------------------------------------------- tying and sharing
    def resolve(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Map each aliased tensor (leaf path, tensor name) to the tensor it is."""
        alias: dict[tuple[str, str], tuple[str, str]] = {}
        for node in list(self.nodes.values()):
            if node.share_from is None:
                continue
            src = self.nodes.get(node.share_from)
            if src is None:
                raise self.fail(node.layer, f"share target '{node.share_from}' is not a layer path"
                                + _close(node.share_from, self.nodes), "share")
            if src.kind != node.kind:
                raise self.fail(node.layer, f"cannot share weights of a {src.kind} with a {node.kind}", "share")
            for lpath, leaf in self.leaves.items():
                if lpath != node.path and not lpath.startswith(node.path + "."):
                    continue
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
            src = self.leaves.get(tie)
            if src is None:
                raise self.fail(leaf.layer, f"tie target '{tie}' is not a layer with weights"
                                + _close(tie, self.leaves), "tie")
            if "weight" not in leaf.formula.params or "weight" not in src.formula.params:
                raise self.fail(leaf.layer, f"tie needs a 'weight' on both {lpath} and {tie}", "tie")
            a, b = leaf.formula.params["weight"].shape, src.formula.params["weight"].shape
            if a != b:
                raise self.fail(leaf.layer, f"cannot tie weight {a} of '{lpath}' to weight {b} of '{tie}'", "tie")
            alias[(lpath, "weight")] = (tie, "weight")
        # follow chains; a cycle is an error
        for key in list(alias):
            seen = [key]
            cur = alias[key]
            while cur in alias:
                if cur in seen:
                    leaf = self.leaves[key[0]]
                    chain = " -> ".join(p for p, _ in seen + [cur])
                    raise self.fail(leaf.layer, f"tied/shared weights form a cycle: {chain}",
                                    "tie" if leaf.layer.tie else "share")
                seen.append(cur)
                cur = alias[cur]
            alias[key] = cur
        return alias

    # ------------------------------------------------------------------------- counting
    def rows(self, alias) -> tuple[list[LayerRow], Count]:
        rows: list[LayerRow] = []

        def visit(node: Node) -> Count:
            idx = len(rows)
            rows.append(None)  # placeholder, parents before children
            if node.formula is not None:
                owned = {t for t in node.formula.params if (node.path, t) not in alias}
                count = node.formula.count(owned)
                note = _alias_note(node, alias)
                for part, (pf, po) in node.formula.parts.items():
                    names = [t for t in node.formula.params if t.startswith(part + ".")]
                    pc = node.formula.count(owned, names)
                    rows.append(LayerRow(f"{node.path}.{part}", "part", Count(
                        pc.params, pc.active_params, pf, po, pc.by_type), None, node.depth + 1, True))
                rows[idx] = LayerRow(node.path, node.kind, count, node.out, node.depth,
                                     leaf=not node.formula.parts, note=note)
                return count
            total = Count(other_flops=node.join_other)
            for child in node.children:
                total = total + visit(child)
            kind = node.kind if node.layer.repeat < 2 or node.path.endswith(tuple(
                f".{i}" for i in range(node.layer.repeat))) else f"{node.kind} x{node.layer.repeat}"
            note = "weights shared across copies" if node.layer.shared and kind.endswith(
                f"x{node.layer.repeat}") else (f"weights shared with {node.share_from}" if node.share_from else "")
            rows[idx] = LayerRow(node.path, kind, total, node.out, node.depth, leaf=False, note=note)
            return total

        total = Count()
        for top in self.top:
            total = total + visit(top)
        return rows, total


def _close(word, options) -> str:
    import difflib

    c = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{c[0]}'?)" if c else ""


def _alias_note(node: Node, alias) -> str:
    targets = sorted({f"{p}.{t}" for (lp, t0), (p, t) in alias.items() if lp == node.path})
    if not targets:
        return ""
    if node.share_from:
        return f"weights shared with {node.share_from}"
    return "tied to " + ", ".join(targets)


def walk(spec: Spec, causal: str = "full") -> _Walker:
    """Propagate shapes through the spec and resolve tying/sharing (the tree torch_build uses)."""
    w = _Walker(spec, causal)
    first = next(iter(spec.inputs.values()))
    w.out, _ = w.seq(spec.layers, first.shape, first.ids, "", 1, w.top)
    w.alias = w.resolve()
    return w


def analyze(spec: Spec, causal: str = "full") -> CountResult:
    """Count a spec: per-layer rows and totals over unique tensors.

    ``causal='half'`` counts causal self-attention score/value products as T·S/2 instead of
    the full T·S matrix (DESIGN: an explicit option, never silent).
    """
    if causal not in ("full", "half"):
        raise SpecError(f"causal convention must be 'full' or 'half', got {causal!r}")
    w = walk(spec, causal)
    rows, total = w.rows(w.alias)
    out = w.out
    kinds = sorted({n.kind for n in w.leaves.values()})
    notes = list(spec.notes)
    if causal == "half":
        notes.append("causal self-attention score/value products counted as half the T x S matrix")
    result = CountResult(
        name=spec.name, total=total, layers=rows, source="analytic",
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

    Training compute has no counterpart in a forward count (see ``paramcount train``)."""
    out = []
    for key, pub in (result.extra.get("published") or {}).items():
        counted = getattr(result, key) if key in _COUNTED else None
        value = pub["value"]
        out.append({"key": key, "published": value, "counted": counted,
                    "ratio": counted / value if counted is not None and value else None,
                    "exact": counted == value if counted is not None else None,
                    "source": pub["source"], "note": pub.get("note")})
    return out
