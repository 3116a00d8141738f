"""The layer registry and the contract every layer room keeps.

A room (a file of this package) defines, per kind, a pydantic config model deriving from
:class:`LayerSpec` and registers it once with :func:`register`. A kind is one room where its
family has several kinds (``conv2d.py``, ``relu.py``): what they share is in the family's file
(``conv.py``: ``_Conv``), so a spec builds the classes of the kinds it uses only (pydantic builds
a model class in about 2M instructions, and AlexNet's seven kinds come from families of 39
classes); other rooms still hold a whole family. The class holds side by side:

* its config schema (the pydantic fields; sizes accept spec expressions like ``4 * d_model``);
* ``output_shape(x, ctx)``: the shape rule (batchless shapes, pure, torch-free);
* ``formula(x, ctx)``: the analytic count (parameters as named tensors, forward FLOPs and
  other FLOPs), pure and torch-free, its equation and source in the docstring;
* ``build(x, ctx)``: the PyTorch module (torch imported lazily, inside the method);
* ``EXAMPLE``: a small config and input used by the registry-driven tests and the docs.

The rooms (and this module) do without ``from __future__ import annotations``: with it, pydantic
compiles and evaluates every annotation's string each time a model class is built, about a
third of the cost of importing a room, which a count pays for every room its spec uses.
"""
import functools
import importlib
import math
import os
import re
from pathlib import Path
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Optional, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationInfo,
                      WithJsonSchema)

from ..count import Count
from ..spec.expr import ExprError, as_int, bounded, evaluate

Shape = tuple  # batchless shape, e.g. (3, 224, 224) or (T, d_model)

# ---------------------------------------------------------------------------- field types


def _vars(info: ValidationInfo) -> dict:
    return (info.context or {}).get("vars", {}) if info is not None else {}


def _expr_int(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, (str, float, int)) and not isinstance(value, bool):
        try:
            return as_int(evaluate(value, _vars(info)) if isinstance(value, str) else value)
        except ExprError as err:
            raise ValueError(str(err)) from None
    return value


def _expr_num(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, (str, float, int)) and not isinstance(value, bool):
        try:
            return float(bounded(evaluate(value, _vars(info)) if isinstance(value, str) else value))
        except ExprError as err:
            raise ValueError(str(err)) from None
    return value


def _expr_ints(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, (list, tuple)):
        return [_expr_int(v, info) for v in value]
    return _expr_int(value, info)


_EXPR = {"type": "string", "description": "arithmetic over spec variables, e.g. '4 * d_model'"}

Size = Annotated[int, BeforeValidator(_expr_int), Field(strict=True, gt=0),
                 WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, _EXPR]})]
Count0 = Annotated[int, BeforeValidator(_expr_int), Field(strict=True, ge=0),
                   WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, _EXPR]})]
Number = Annotated[float, BeforeValidator(_expr_num),
                   WithJsonSchema({"anyOf": [{"type": "number"}, _EXPR]})]
Prob = Annotated[float, BeforeValidator(_expr_num), Field(ge=0, lt=1),
                 WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                                           _EXPR]})]


def _sizes_schema(minimum: int) -> dict:
    """An int of at least ``minimum``, an expression, or a list of them (one per dim)."""
    one = [{"type": "integer", "minimum": minimum}, _EXPR]
    return {"anyOf": [*one, {"type": "array", "items": {"anyOf": one}}]}


Sizes = Annotated[Union[Annotated[int, Field(strict=True, gt=0)],
                        list[Annotated[int, Field(strict=True, gt=0)]]],
                  BeforeValidator(_expr_ints), WithJsonSchema(_sizes_schema(1))]
Sizes0 = Annotated[Union[Annotated[int, Field(strict=True, ge=0)],
                         list[Annotated[int, Field(strict=True, ge=0)]]],
                   BeforeValidator(_expr_ints), WithJsonSchema(_sizes_schema(0))]


def per_dim(value: int | list[int], n: int, what: str) -> tuple[int, ...]:
    """Expand an int or list to ``n`` spatial dims (``kernel: 3`` -> (3, 3) for conv2d)."""
    if isinstance(value, int):
        return (value,) * n
    if len(value) != n:
        raise ShapeError(f"{what} has {len(value)} values, expected {n}")
    return tuple(value)


# ------------------------------------------------------------------------ formula records

class ShapeError(ValueError):
    """The layer cannot take its input shape; the walker adds file, line and path."""


@dataclass(frozen=True)
class Param:
    """A parameter tensor: shape in PyTorch's layout, its type and how much one token uses.

    ``active`` is the number of elements one token/example uses (MoE experts: top_k of
    n_experts); ``None`` means all of them.
    """

    shape: tuple
    ptype: str
    active: int | None = None

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def active_numel(self) -> int:
        return self.numel if self.active is None else self.active


@dataclass
class Formula:
    """The analytic count of one layer instance.

    ``params`` maps tensor names (as PyTorch names them inside the built module, e.g.
    ``q.weight``) to :class:`Param`. ``parts`` optionally splits the FLOPs into named
    sub-operations (``q``, ``k``, ``v``, ``o``, ``sdpa``); a part's parameters are the
    tensors whose names start with ``part + '.'``.
    """

    params: dict[str, Param] = field(default_factory=dict)
    flops: int = 0
    other: int = 0
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (flops, other)

    def count(self, owned: set[str] | None = None, names: list[str] | None = None) -> Count:
        """The Count of the tensors in ``names`` (default all) that are ``owned`` (not tied)."""
        keys = list(self.params) if names is None else names
        by_type: dict[str, int] = {}
        params = active = 0
        for k in keys:
            if owned is not None and k not in owned:
                continue
            p = self.params[k]
            params += p.numel
            active += p.active_numel
            by_type[p.ptype] = by_type.get(p.ptype, 0) + p.numel
        return Count(params, active, self.flops, self.other, by_type)


@dataclass
class Ctx:
    """What a layer may know besides its input: named outputs (for cross-attention memory)
    and analysis options (``causal``: 'full' or 'half')."""

    env: dict[str, Shape] = field(default_factory=dict)
    causal: str = "full"
    path: str = ""


# ------------------------------------------------------------------------- the base class

class LayerSpec(BaseModel):
    """Keys every layer accepts."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    kind: str
    name: Optional[str] = Field(None, description="path segment; default: index in its list",
                                pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    repeat: Size = Field(1, description="stack N copies in sequence (paths name.0 ... name.N-1)")
    shared: bool = Field(False, description="with repeat: all copies share one set of weights")
    share: Optional[str] = Field(None, description="reuse every weight of the layer at this path")
    tie: Optional[str] = Field(None, description="use the 'weight' tensor of the layer at this path")
    from_: Optional[str] = Field(None, alias="from",
                                 description="take input from this named input or layer path "
                                             "(any path may be relative to the repeat copy: "
                                             ".NAME this copy's, ^.NAME the previous copy's; "
                                             "G.-1: the last copy of G)")
    initial: Optional[dict[str, str]] = Field(
        None, description="with repeat: what copy 0 reads for each ^.NAME path (the layer "
                          "NAME of the previous copy): NAME -> a path before the repeat")

    _loc: tuple = PrivateAttr(default=())  # where it stands in the YAML, for error messages
    _written: dict = PrivateAttr(default_factory=dict)  # path keys as written, where resolved

    family: ClassVar[str] = ""
    composite: ClassVar[bool] = False
    takes_ids: ClassVar[bool] = False  # consumes integer token ids (embeddings)
    # the kind's keys that hold layer paths (a path, or a list of paths) it reads besides its
    # input: cross-attention ``memory``, a ``bias`` ... (``from``, ``share``, ``tie`` are every
    # layer's); the walker resolves relative paths in them (spec/paths.py)
    path_keys: ClassVar[tuple[str, ...]] = ()
    EXAMPLE: ClassVar[dict] = {}  # {"input": {...}, "layer": {...}} for tests and docs

    # --- the contract -------------------------------------------------------------------
    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:  # pragma: no cover - abstract
        raise NotImplementedError

    def formula(self, x: Shape, ctx: Ctx) -> Formula:  # pragma: no cover - abstract
        raise NotImplementedError

    def build(self, x: Shape, ctx: Ctx):  # pragma: no cover - abstract
        raise NotImplementedError


REGISTRY: dict[str, type[LayerSpec]] = {}
# kinds that take no options may be written as a bare string in a layer list: "- relu"


def register(cls: type[LayerSpec]) -> type[LayerSpec]:
    """Class decorator: register a kind once, under the Literal value of its ``kind`` field."""
    kind = cls.model_fields["kind"].default
    if not kind or kind in REGISTRY:
        raise RuntimeError(f"layer kind {kind!r} registered twice or without a default")
    REGISTRY[kind] = cls
    return cls


_NOT_ROOMS = {"registry", "elementwise"}
_KIND_DECL = re.compile(r'kind:\s*Literal\[\s*"([^"]+)"\s*\]')


@functools.cache
def rooms() -> dict[str, str]:
    """kind -> the room (module of this package) that declares it, read from each room's
    source (its ``kind: Literal["..."]`` line) without importing it: a spec imports only the
    rooms of the kinds it uses, and adding a kind means adding one file."""
    out: dict[str, str] = {}
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        if path.stem.startswith("_") or path.stem in _NOT_ROOMS:
            continue
        for kind in _KIND_DECL.findall(path.read_text(encoding="utf-8")):
            out[kind] = path.stem
    return out


@functools.cache
def _room_names() -> frozenset:
    """The rooms' module names (one directory listing, no file read)."""
    names = (n[:-3] for n in os.listdir(os.path.dirname(os.path.abspath(__file__)))
             if n.endswith(".py"))
    return frozenset(n for n in names if n.isidentifier() and not n.startswith("_")
                     and n not in _NOT_ROOMS)


def kind_class(kind: str) -> Optional[type[LayerSpec]]:
    """The class of a layer kind, importing its room on first use; None if unknown. A kind
    with a room of its own name (``conv2d.py``) is imported without reading every room's
    source (:func:`rooms`, about 9M instructions); any other through :func:`rooms`."""
    if kind not in REGISTRY and kind in _room_names():
        importlib.import_module(f"{__package__}.{kind}")
    if kind not in REGISTRY and kind in rooms():
        importlib.import_module(f"{__package__}.{rooms()[kind]}")
    return REGISTRY.get(kind)


def load_all() -> dict[str, type[LayerSpec]]:
    """Import every room so the registry is complete (kinds, schema, suggestions)."""
    for room in sorted(set(rooms().values())):
        importlib.import_module(f"{__package__}.{room}")
    return REGISTRY


_BASE_KEYS = set(LayerSpec.model_fields)


def describe_all() -> list[dict]:
    """Every kind with its family, description, keys (type, default, description)."""
    out = []
    for kind, cls in sorted(load_all().items()):
        keys = []
        for fname, f in cls.model_fields.items():
            if fname in _BASE_KEYS:
                continue
            default = None if f.is_required() else f.get_default(call_default_factory=True)
            keys.append({"key": f.alias or fname, "required": f.is_required(),
                         "default": default, "description": f.description or ""})
        paras = [" ".join(p.split()) for p in (cls.__doc__ or "").strip().split("\n\n")]
        doc = paras[0]
        formula_doc = cls.formula.__doc__ if cls.formula is not LayerSpec.formula else None
        details = paras[1:] + ([" ".join(formula_doc.split())] if formula_doc else [])
        out.append({"kind": kind, "family": cls.family, "composite": cls.composite,
                    "description": doc, "details": details, "keys": keys,
                    "example": cls.EXAMPLE})
    return out


def numel(shape: Shape) -> int:
    return math.prod(shape)


def normal_weights(*shape: int, std: float):
    """An initial weight tensor drawn from N(0, std^2) on the default device, by
    ``torch.nn.init.normal_`` on an empty tensor (not ``torch.randn(...) * std``): a build
    that is only counted skips the draw and leaves the memory unwritten
    (:func:`~estimator.graphs.torch_build.build_module` ``init=False``; the meta device)."""
    import torch

    return torch.nn.init.normal_(torch.empty(*shape), std=std)
