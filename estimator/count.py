"""Count: an immutable record of parameters and FLOPs that adds and scales.

Conventions (see README "Counting conventions"):

* ``forward_flops`` is matrix-class work (linear/matmul/einsum, convolution, attention score
  and value products), 2 FLOPs per multiply-add. ``macs = forward_flops // 2``.
* ``other_flops`` is the estimated elementwise work (bias adds, norms, activations, softmax,
  pooling, residual adds), never folded into ``forward_flops``.
* ``params`` counts unique tensors; ``active_params`` what one token/example uses (MoE).
* ``by_type`` splits ``params`` into the typology in :data:`PARAM_TYPES`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

PARAM_TYPES = ("dense", "attention", "expert", "embedding", "conv", "recurrent", "norm")


def _add_maps(a: Mapping[str, int], b: Mapping[str, int], k: int = 1) -> dict[str, int]:
    out = dict(a)
    for key, v in b.items():
        out[key] = out.get(key, 0) + k * v
    return {key: v for key, v in out.items() if v}


@dataclass(frozen=True)
class Count:
    params: int = 0
    active_params: int = 0
    forward_flops: int = 0
    other_flops: int = 0
    by_type: Mapping[str, int] = field(default_factory=dict)

    @property
    def macs(self) -> int:
        return self.forward_flops // 2

    @property
    def embedding_params(self) -> int:
        return self.by_type.get("embedding", 0)

    @property
    def non_embedding_params(self) -> int:
        return self.params - self.embedding_params

    def __add__(self, other: "Count") -> "Count":
        if not isinstance(other, Count):
            return NotImplemented
        return Count(self.params + other.params, self.active_params + other.active_params,
                     self.forward_flops + other.forward_flops, self.other_flops + other.other_flops,
                     _add_maps(self.by_type, other.by_type))

    def __radd__(self, other):  # lets sum() start from 0
        return self if other == 0 else self.__add__(other)

    def scale(self, n: int) -> "Count":
        """The count of ``n`` independent copies (e.g. ``repeat: n`` without sharing)."""
        return Count(self.params * n, self.active_params * n, self.forward_flops * n,
                     self.other_flops * n, {k: v * n for k, v in self.by_type.items() if v * n})

    __mul__ = scale
    __rmul__ = scale

    def flops_only(self) -> "Count":
        """Same work, no parameters: a shared/tied reuse of weights counted elsewhere."""
        return Count(0, 0, self.forward_flops, self.other_flops, {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "active_params": self.active_params,
            "embedding_params": self.embedding_params,
            "non_embedding_params": self.non_embedding_params,
            "params_by_type": {k: self.by_type[k] for k in PARAM_TYPES if self.by_type.get(k)}
            | {k: v for k, v in self.by_type.items() if k not in PARAM_TYPES},
            "forward_flops": self.forward_flops,
            "macs": self.macs,
            "other_flops": self.other_flops,
        }


@dataclass
class LayerRow:
    """One row of a per-layer breakdown. ``path`` is dotted (``blocks.3.attn.qkv``).

    ``copies`` > 1 only in collapsed rows: the row stands for that many identical layers
    (copies of a repeat) and ``count`` is the count of one of them. ``share_from``: the path
    of the layer whose weights (and, in a built model, whose module) this row reuses
    (``shared: true`` copies 1.. name copy 0; ``share: PATH`` names PATH)."""

    path: str
    kind: str
    count: Count
    output_shape: tuple | None = None
    depth: int = 0
    leaf: bool = True
    note: str = ""
    copies: int = 1
    share_from: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = {"path": self.path, "kind": self.kind, "depth": self.depth, "leaf": self.leaf}
        d.update(self.count.to_dict())
        d["output_shape"] = list(self.output_shape) if self.output_shape is not None else None
        if self.note:
            d["note"] = self.note
        if self.copies != 1:
            d["copies"] = self.copies
        return d


def runs(rows: list[LayerRow]):
    """Each row with the number of consecutive copies it stands for within its parent
    (1 for an ordinary row; m for the first row of a collapsed run ``blocks.1`` = copies
    1..m of ``blocks``), and the parent row (or None at the top)."""
    stack: list[LayerRow] = []
    for r in rows:
        del stack[max(r.depth - 1, 0):]
        parent = stack[-1] if stack else None
        yield r, r.copies // (parent.copies if parent else 1), parent
        stack.append(r)


def expand_rows(rows: list[LayerRow], limit: int | None = None) -> list[LayerRow] | None:
    """Collapsed rows -> one row per layer, copies numbered (``blocks.1`` standing for copies
    1..95 becomes ``blocks.1`` ... ``blocks.95`` with their sub-rows). None if that would give
    more than ``limit`` rows (the work stops there)."""
    if all(r.copies == 1 for r in rows):
        return list(rows)
    tree: list[tuple[LayerRow, int, list]] = []
    stack: list[tuple[LayerRow, int, list]] = []
    for r, m, _ in runs(rows):
        del stack[max(r.depth - 1, 0):]
        node = (r, m, [])
        (stack[-1][2] if stack else tree).append(node)
        stack.append(node)

    def size(node) -> int:
        return 1 + sum(k[1] * size(k) for k in node[2])

    if limit is not None and sum(size(n) for n in tree) > limit:
        return None
    out: list[LayerRow] = []

    def emit(node, src: str, dst: str, div: int):
        r, _, kids = node
        if src:
            note = r.note.replace(src + ".", dst + ".") if src + "." in r.note else r.note
            share = (dst + r.share_from[len(src):] if r.share_from.startswith(src + ".")
                     else r.share_from)
            out.append(LayerRow(dst + r.path[len(src):], r.kind, r.count, r.output_shape,
                                r.depth, r.leaf, note, r.copies // div, share))
        else:
            out.append(r)
        for kid in kids:
            k, m = kid[0], kid[1]
            if m == 1:
                emit(kid, src, dst, div)
                continue
            base, _, first = k.path.rpartition(".")
            base = dst + base[len(src):] if src else base
            for i in range(int(first), int(first) + m):
                emit(kid, k.path, f"{base}.{i}", div * m)

    for node in tree:
        emit(node, "", "", 1)
    return out


@dataclass
class CountResult:
    """What every counter returns (analytic, torch, onnx, fvcore): totals plus per-layer rows.

    ``layers`` holds every node of the tree (composites with ``leaf=False``); the totals are
    computed over unique tensors by the counter and stored in ``total``.
    """

    name: str
    total: Count
    layers: list[LayerRow] = field(default_factory=list)
    source: str = "analytic"
    input_shapes: dict[str, tuple] = field(default_factory=dict)
    output_shape: tuple | None = None
    tokens: int | None = None  # tokens in the counted input (batch x T) for token sequences
    batch: int | None = None   # examples in the counted input (None: one, as a spec declares)
    unknown_ops: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: the same rows with repeats collapsed (``LayerRow.copies``), when there are any
    collapsed: list[LayerRow] | None = None

    # -- the public contract -------------------------------------------------------------
    @property
    def params(self) -> int:
        return self.total.params

    @property
    def active_params(self) -> int:
        return self.total.active_params

    @property
    def forward_flops(self) -> int:
        return self.total.forward_flops

    @property
    def macs(self) -> int:
        return self.total.macs

    @property
    def other_flops(self) -> int:
        return self.total.other_flops

    @property
    def embedding_params(self) -> int:
        return self.total.embedding_params

    @property
    def non_embedding_params(self) -> int:
        return self.total.non_embedding_params

    @property
    def params_by_type(self) -> dict[str, int]:
        return dict(self.total.by_type)

    @property
    def flops_per_param(self) -> float | None:
        """Forward FLOPs per active parameter (2 for a pure matmul stack at one token)."""
        return self.forward_flops / self.active_params if self.active_params else None

    def per_token(self) -> dict[str, float] | None:
        """Forward figures divided by the sequence length T, for token-sequence inputs."""
        if not self.tokens:
            return None
        return {"forward_flops": self.forward_flops / self.tokens,
                "macs": self.macs / self.tokens,
                "other_flops": self.other_flops / self.tokens}

    def per_example(self) -> dict[str, float] | None:
        """Forward figures divided by the batch, when the counted input held several examples."""
        if not self.batch or self.batch == 1:
            return None
        return {"forward_flops": self.forward_flops / self.batch,
                "macs": self.macs / self.batch,
                "other_flops": self.other_flops / self.batch}

    def layer(self, path: str) -> LayerRow:
        """The row at ``path``; in collapsed rows, a copy (``blocks.7.attn``) is read from
        the row that stands for it (``blocks.1.attn``), under its own path."""
        for row in self.layers:
            if row.path == path:
                return row
        for row, m, parent in runs(self.layers):
            if m == 1 or not path.startswith(parent.path + "."):
                continue
            first = int(row.path.rpartition(".")[2])
            k, _, rest = path[len(parent.path) + 1:].partition(".")
            if k.isdigit() and first < int(k) < first + m:
                found = self.layer(row.path + ("." + rest if rest else ""))
                return replace(found, path=path, copies=found.copies // m)
        raise KeyError(path)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "source": self.source}
        d.update(self.total.to_dict())
        d["flops_per_param"] = self.flops_per_param
        d["tokens"] = self.tokens
        d["per_token"] = self.per_token()
        d["batch"] = self.batch
        d["per_example"] = self.per_example()
        d["input_shapes"] = {k: list(v) for k, v in self.input_shapes.items()}
        d["output_shape"] = list(self.output_shape) if self.output_shape is not None else None
        d["unknown_ops"] = dict(self.unknown_ops)
        d["notes"] = list(self.notes)
        d.update(self.extra)
        d["layers"] = [r.to_dict() for r in self.layers]
        return d

    def __str__(self) -> str:
        """A short summary; the full table is ``estimator.report.render(result)`` (data never
        imports its renderer)."""
        active = "" if self.active_params == self.params else f", {self.active_params:,} active"
        return (f"{self.name}: {self.params:,} params{active}, "
                f"{self.forward_flops:,} forward FLOPs ({self.macs:,} MACs)")
