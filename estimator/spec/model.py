"""Spec objects and the parser: raw YAML -> validated, expression-free :class:`Spec`.

Every error is a :class:`~estimator.errors.SpecError` naming file, line and key path.
"""

import datetime
import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ..errors import SpecError
from ..layers.registry import kind_class, load_all
from .expr import ExprError, as_int, evaluate, names_in
from .yamlload import line_of

# ------------------------------------------------------------------------ top-level schema


class InputDecl(BaseModel):
    """One model input (batchless). Exactly one of the keys."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    tokens: Optional[Any] = Field(None, description="a sequence of T token ids: (T,)")
    image: Optional[list[Any]] = Field(None, description="an image (C, H, W)")
    vector: Optional[Any] = Field(None, description="a feature vector (D,)")
    shape: Optional[list[Any]] = Field(None, description="any float tensor shape, e.g. [T, D]")


class Published(BaseModel):
    """A figure the source reports, with where it comes from."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    value: Union[float, int, str] = Field(..., description="the figure: 60965224, 65e6 or '65M'")
    source: str = Field(..., description="citation: paper, table or section")
    note: Optional[str] = Field(None, description="how it relates to the count (e.g. rounding)")


PUBLISHED_KEYS = ("params", "active_params", "forward_flops", "macs", "training_compute")

Quantity = Union[int, float, str]


class Training(BaseModel):
    """How the system was trained, as its source reports it (the catalog recomputes training
    compute from this by both methods). Quantities are numbers or strings ('300B', '1.2e6')."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    tokens: Optional[Quantity] = Field(None, description="training tokens seen (sequence models)")
    examples: Optional[Quantity] = Field(None, description="training examples per epoch")
    epochs: Optional[Quantity] = Field(None, description="epochs over the examples (default 1)")
    generation_passes: Optional[Quantity] = Field(
        None, description="forward-only passes spent generating data (self-play, rollouts)")
    hardware: Optional[str] = Field(None, description="accelerator name (paramcount hardware)")
    chips: Optional[Quantity] = Field(None, description="chips (or boards) used at once")
    days: Optional[Quantity] = Field(None, description="wall-clock days")
    hours: Optional[Quantity] = Field(None, description="wall-clock hours")
    seconds: Optional[Quantity] = Field(None, description="wall-clock seconds")
    chip_hours: Optional[Quantity] = Field(None, description="chip-hours, summed over chips")
    precision: Optional[str] = Field(None, description="fp32, bf16, ... (default: the chip's best 16-bit)")
    utilisation: Optional[Quantity] = Field(None, description="fraction of peak, if reported")
    runs: Optional[Quantity] = Field(None, description="independent runs counted in the figure")
    excludes: Optional[str] = Field(
        None, description="work the counted inputs leave out (self-play, data generation): "
                          "the operation count is then a lower bound, and the catalog shows "
                          "the hardware method where there is one")
    source: str = Field(..., description="citation: table or section giving these figures")
    note: Optional[str] = Field(None, description="what the figures include, how they were read")


PROVENANCE_KEYS = ("aliases", "authors", "title", "venue", "arxiv", "doi", "discrepancy",
                   "training", "unpublished")


def _iso_date(value):
    """A publication date: a YAML date (2020-05-28) or the text 'YYYY-MM-DD'."""
    import datetime

    if isinstance(value, datetime.datetime):
        raise ValueError("date is a day (YYYY-MM-DD), not a time")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as err:
            raise ValueError(f"date {value!r}: {err}") from None
    raise ValueError(f"date is YYYY-MM-DD (got {value!r})")


IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date)]


class _Header(BaseModel):
    """The header keys a plain spec and a family's variant share."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    citation: Optional[str] = Field(None, description="the paper or model card the spec follows")
    url: Optional[str] = Field(None, description="link to the source")
    year: Optional[int] = Field(None, description="publication year")
    date: Optional[IsoDate] = Field(
        None, description="publication date, YYYY-MM-DD (first public version: arXiv v1, "
                          "the announcement); its year is `year`")
    domain: Optional[str] = Field(None, description="vision, language, speech, games, ...")
    description: Optional[str] = Field(None, description="free text")
    aliases: Optional[list[str]] = Field(
        None, description="other names the system goes by in datasets (catalog lookup)")
    authors: Optional[str] = Field(None, description="authors: 'Brown, Mann, Ryder et al.'")
    title: Optional[str] = Field(None, description="title of the paper or report")
    venue: Optional[str] = Field(None, description="where it appeared: 'NeurIPS 2020', 'arXiv'")
    arxiv: Optional[str] = Field(None, description="arXiv id, e.g. '2005.14165'")
    doi: Optional[str] = Field(None, description="DOI, e.g. '10.1038/nature14236'")
    discrepancy: Optional[dict[str, str]] = Field(
        None, description="per published figure: why the count differs from it by more than 1 %")
    training: Optional[Training] = Field(None, description="training inputs as published")
    unit: Optional[Literal["token", "example"]] = Field(
        None, description="what per-unit figures divide by: token (default with a token input) "
                          "or example (id inputs that are not a sequence: sparse features)")
    unpublished: Optional[str] = Field(
        None, description="where the source publishes no parameter count: what it says instead")
    notes: Optional[list[str]] = Field(None, description="free text: conventions, differences")
    vars: Optional[dict[str, Union[int, float, str]]] = Field(
        None, description="named variables; values may be expressions over earlier ones")
    published: Optional[dict[str, Published]] = Field(None, description=f"published figures: {', '.join(PUBLISHED_KEYS)}")
    reduced: Optional[dict[str, Union[int, float, str]]] = Field(
        None, description="variable overrides giving a small model of the same structure (export, tests)")


class PlainHeader(_Header):
    """The top level of a plain spec file: :class:`SpecHeader`'s keys but ``variants`` (a file
    with ``variants:`` is a family, validated by :class:`SpecHeader`). A plain spec is most
    specs: it needs neither the family's models nor their validators (spec/variants.py)."""

    name: str = Field(..., description="system name (a family's: the family name)")
    family: Optional[bool] = Field(
        None, description="marks a family (optional: a `variants:` list is what makes one)")
    input: Optional[InputDecl] = Field(None, description="the single input")
    inputs: Optional[dict[str, InputDecl]] = Field(None, description="several named inputs")
    layers: list[Any] = Field(..., description="the layer list")

    variants: ClassVar[None] = None


def __getattr__(name: str):
    """The family's header models (:class:`SpecHeader`, :class:`Variant`,
    :class:`VariantTraining`), defined in spec/variants.py and imported on first use."""
    if name in ("SpecHeader", "Variant", "VariantTraining"):
        from . import variants

        return getattr(variants, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Input:
    name: str
    shape: tuple
    ids: bool  # integer token ids (tokens) rather than float features


@dataclass
class Spec:
    name: str
    layers: list
    inputs: dict[str, Input]
    vars: dict[str, Any] = field(default_factory=dict)
    citation: str | None = None
    url: str | None = None
    year: int | None = None
    domain: str | None = None
    description: str | None = None
    notes: list[str] = field(default_factory=list)
    published: dict[str, dict] = field(default_factory=dict)
    reduced: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)  # aliases, authors, training, ...
    unit: str | None = None  # 'token' or 'example': what per-unit figures divide by
    file: str | None = None
    raw: Any = None
    overrides: dict[str, Any] = field(default_factory=dict)
    date: datetime.date | None = None  # publication date, where the spec gives one
    family: str | None = None    # a family's variant: the family's name ...
    variant: str | None = None   # ... and the variant's (the spec's name); None for a plain spec

    @property
    def tokens(self) -> int | None:
        """T of the first token input: per-token figures divide by it. None for a spec whose
        ``unit: example`` says its id inputs are not a sequence (DLRM's sparse features, an
        agent's goal slots)."""
        if self.unit == "example":
            return None
        for inp in self.inputs.values():
            if inp.ids:
                return inp.shape[0]
        return None

    def error(self, message: str, loc: tuple = ()) -> SpecError:
        return SpecError(message, file=self.file, line=line_of(self.raw, loc) if loc else None,
                         key=key_path(loc) or None)


# ------------------------------------------------------------------------------ helpers

def key_path(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _pydantic_error(err: ValidationError, model: type[BaseModel], file, raw, base: tuple) -> SpecError:
    errors = err.errors()
    # an unknown key explains a "missing" one (a typo): report it first
    e = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # drop pydantic's union-branch labels (int, list[...], literal[...]) from the path
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("int", "str", "float", "bool"))))
    full = base + loc
    typ, msg = e["type"], e["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if typ == "extra_forbidden":
        fields = set()
        for name, f in model.model_fields.items():
            fields.add(f.alias or name)
        key = loc[-1] if loc else "?"
        msg = f"unknown key '{key}'{_suggest(key, sorted(fields))}; valid keys: {', '.join(sorted(fields))}"
    elif typ == "missing":
        msg = f"missing required key '{loc[-1]}'" if loc else "missing required key"
    else:
        val = e.get("input")
        if not isinstance(val, (dict, list)) and "got" not in msg and str(val) not in msg:
            msg = f"{msg} (got {val!r})"
    return SpecError(msg, file=file, line=line_of(raw, full), key=key_path(full))


# ------------------------------------------------------------------------------- parsing

def resolve_vars(raw_vars: dict, overrides: dict, file, raw) -> dict:
    """Evaluate variables in dependency order; overrides replace values before evaluation."""
    exprs = dict(raw_vars or {})
    for k, v in (overrides or {}).items():
        if k not in exprs:
            raise SpecError(f"cannot override unknown variable '{k}'{_suggest(k, exprs)}", file=file,
                            key=f"vars.{k}")
        exprs[k] = v
    values: dict[str, Any] = {}
    visiting: list[str] = []

    def get(name):
        if name in values:
            return values[name]
        if name in visiting:
            cycle = " -> ".join(visiting[visiting.index(name):] + [name])
            raise SpecError(f"variables refer to each other in a cycle: {cycle}", file=file,
                            line=line_of(raw, ("vars", name)), key=f"vars.{name}")
        visiting.append(name)
        v = exprs[name]
        if isinstance(v, bool):
            raise SpecError("a variable must be a number or an expression", file=file,
                            line=line_of(raw, ("vars", name)), key=f"vars.{name}")
        if isinstance(v, str):
            for dep in names_in(v):
                if dep in exprs:
                    get(dep)
            try:
                v = evaluate(v, values)
            except ExprError as err:
                raise SpecError(str(err), file=file, line=line_of(raw, ("vars", name)),
                                key=f"vars.{name}") from None
        if isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 62:
            v = int(v)
        visiting.pop()
        values[name] = v
        return v

    try:
        for name in exprs:
            if not str(name).isidentifier():
                raise SpecError(f"variable name '{name}' is not an identifier", file=file,
                                line=line_of(raw, ("vars", name)), key=f"vars.{name}")
            get(name)
    finally:
        del get  # it calls itself (a reference cycle holding the spec's YAML): break it
    return values


def _size(value, vars_, file, raw, loc) -> int:
    try:
        v = as_int(evaluate(value, vars_) if isinstance(value, str) else value)
    except ExprError as err:
        raise SpecError(str(err), file=file, line=line_of(raw, loc), key=key_path(loc)) from None
    if v <= 0:
        raise SpecError(f"size must be positive, got {v}", file=file, line=line_of(raw, loc),
                        key=key_path(loc))
    return v


def _input(name: str, decl: InputDecl, vars_, file, raw, loc) -> Input:
    given = [k for k in ("tokens", "image", "vector", "shape") if getattr(decl, k) is not None]
    if len(given) != 1:
        raise SpecError("an input needs exactly one of tokens, image, vector, shape"
                        + (f" (got {', '.join(given)})" if given else ""),
                        file=file, line=line_of(raw, loc), key=key_path(loc))
    k = given[0]
    v = getattr(decl, k)
    if k in ("tokens", "vector"):
        shape = (_size(v, vars_, file, raw, loc + (k,)),)
    else:
        if k == "image" and len(v) != 3:
            raise SpecError(f"image is [C, H, W], got {len(v)} values", file=file,
                            line=line_of(raw, loc + (k,)), key=key_path(loc + (k,)))
        if not v:
            raise SpecError("shape needs at least one dim", file=file, line=line_of(raw, loc + (k,)),
                            key=key_path(loc + (k,)))
        shape = tuple(_size(s, vars_, file, raw, loc + (k, i)) for i, s in enumerate(v))
    return Input(name, shape, ids=(k == "tokens"))


def parse_layer(item, loc: tuple, vars_: dict, file, raw):
    if isinstance(item, str):
        item = {"kind": item}
    if not isinstance(item, dict):
        raise SpecError("a layer is a mapping with a 'kind' key (or a bare kind name like 'relu')",
                        file=file, line=line_of(raw, loc), key=key_path(loc))
    kind = item.get("kind")
    if kind is None:
        raise SpecError("layer has no 'kind'", file=file, line=line_of(raw, loc), key=key_path(loc))
    cls = kind_class(kind) if isinstance(kind, str) else None
    if cls is None:
        raise SpecError(f"unknown layer kind '{kind}'{_suggest(kind, load_all())}; "
                        "`paramcount kinds` lists them", file=file,
                        line=line_of(raw, loc + ("kind",)), key=key_path(loc + ("kind",)))
    data = dict(item)
    for fname in getattr(cls, "child_fields", ()):
        if fname not in data or data[fname] is None:
            continue
        sub = data[fname]
        if fname == "branches":
            if isinstance(sub, dict):
                data[fname] = {str(bn): _parse_list(bl, loc + (fname, bn), vars_, file, raw)
                               for bn, bl in sub.items()}
            elif isinstance(sub, list):
                data[fname] = [_parse_list(bl, loc + (fname, i), vars_, file, raw)
                               for i, bl in enumerate(sub)]
            else:
                raise SpecError("branches is a list of layer lists or a mapping name -> layers",
                                file=file, line=line_of(raw, loc + (fname,)), key=key_path(loc + (fname,)))
        else:
            data[fname] = _parse_list(sub, loc + (fname,), vars_, file, raw)
    try:
        obj = cls.model_validate(data, context={"vars": vars_})
    except ValidationError as err:
        raise _pydantic_error(err, cls, file, raw, loc) from None
    obj._loc = loc
    return obj


def _parse_list(items, loc, vars_, file, raw) -> list:
    if not isinstance(items, list) or not items:
        raise SpecError("expected a non-empty list of layers", file=file, line=line_of(raw, loc),
                        key=key_path(loc))
    return [parse_layer(it, loc + (i,), vars_, file, raw) for i, it in enumerate(items)]


def _header(raw, file):
    """The validated top level: a :class:`SpecHeader` for a family, a :class:`PlainHeader`
    (the same keys but ``variants``, the same errors) for a plain spec."""
    if not isinstance(raw, dict):
        raise SpecError("a spec is a mapping with name, input and layers", file=file,
                        line=getattr(raw, "line", None) or 1)
    if "variants" in raw:
        from .variants import SpecHeader as top
    else:
        top = PlainHeader
    try:
        return top.model_validate(raw)
    except ValidationError as err:
        raise _pydantic_error(err, _model_at(err, top), file, raw, ()) from None


def _model_at(err: ValidationError, top: type[BaseModel]) -> type[BaseModel]:
    """The header model an error's key is in (``variants.1.foo``: a variant's keys;
    ``training.foo``: the training block's), so an unknown key lists the keys valid there
    (at the top level, those of :class:`SpecHeader`, ``variants`` included)."""
    errors = err.errors()
    e = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0] if errors else None)
    model: type[BaseModel] = top
    for part in (e["loc"][:-1] if e else ()):
        f = model.model_fields.get(part) if isinstance(part, str) else None
        sub = _model_in(f.annotation) if f is not None else None
        if sub is None:
            if isinstance(part, int):
                continue
            break
        model = sub
    if model is PlainHeader:
        from .variants import SpecHeader

        return SpecHeader
    return model


def _model_in(annotation):
    """The pydantic model inside an annotation (Optional[list[Variant]] -> Variant), or None."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def parse_spec(raw, file: str | None = None, overrides: dict | None = None,
               variant: str | None = None) -> Spec:
    """A validated spec from a loaded mapping. A family (a ``variants:`` list) is parsed as
    the variant ``variant`` names (its name or an alias); a family without one is an error
    listing its variants, and so is a variant asked of a plain spec."""
    from . import family as fam

    head = _header(raw, file)
    fam.check_family(raw, head, file)
    if head.variants is not None:
        merged = fam.merge(raw, fam.choose(raw, variant, file))
        try:
            return parse_spec(merged, file, overrides)
        except SpecError as err:
            raise SpecError(f"variant {merged.variant!r}: {err.message}", file=err.file,
                            line=err.line, key=err.key) from None
    if variant is not None and not isinstance(raw, fam.VariantRaw):
        raise SpecError(f"--variant {variant!r}: not a family (the spec has no 'variants:')",
                        file=file)
    if head.date is not None and head.year is not None and head.date.year != head.year:
        raise SpecError(f"date {head.date.isoformat()} is not in year {head.year}", file=file,
                        line=line_of(raw, ("date",)), key="date")
    vars_ = resolve_vars(head.vars or {}, overrides or {}, file, raw)
    if (head.input is None) == (head.inputs is None):
        raise SpecError("a spec needs exactly one of 'input' (one input) or 'inputs' (named)",
                        file=file, line=getattr(raw, "line", 1))
    if head.input is not None:
        inputs = {"input": _input("input", head.input, vars_, file, raw, ("input",))}
    else:
        if not head.inputs:
            raise SpecError("inputs is empty", file=file, line=line_of(raw, ("inputs",)), key="inputs")
        inputs = {n: _input(n, d, vars_, file, raw, ("inputs", n)) for n, d in head.inputs.items()}
    layers = _parse_list(head.layers, ("layers",), vars_, file, raw)
    published = {}
    for key, pub in (head.published or {}).items():
        if key not in PUBLISHED_KEYS:
            raise SpecError(f"unknown published figure '{key}'{_suggest(key, PUBLISHED_KEYS)}; "
                            f"valid: {', '.join(PUBLISHED_KEYS)}", file=file,
                            line=line_of(raw, ("published", key)), key=f"published.{key}")
        value = pub.value
        if isinstance(value, str):
            from ..units import parse_number
            from ..errors import InputError

            try:
                value = parse_number(value, what=f"published.{key}")
            except InputError as err:
                raise SpecError(err.message, file=file, line=line_of(raw, ("published", key)),
                                key=f"published.{key}.value") from None
        if not math.isfinite(float(value)) or value <= 0:
            raise SpecError("published value must be positive", file=file,
                            line=line_of(raw, ("published", key)), key=f"published.{key}.value")
        published[key] = {"value": value, "source": pub.source, "note": pub.note}
    for key in (head.discrepancy or {}):
        if key not in published:
            raise SpecError(f"discrepancy.{key}: explains no published figure (published: "
                            f"{', '.join(published) or 'none'})", file=file,
                            line=line_of(raw, ("discrepancy", key)), key=f"discrepancy.{key}")
    provenance = {k: getattr(head, k) for k in PROVENANCE_KEYS if getattr(head, k) is not None}
    if head.training is not None:
        provenance["training"] = head.training.model_dump(exclude_none=True)
    return Spec(provenance=provenance, unit=head.unit, name=head.name, layers=layers, inputs=inputs, vars=vars_, citation=head.citation,
                url=head.url, year=head.year, domain=head.domain, description=head.description,
                notes=list(head.notes or []), published=published, reduced=dict(head.reduced or {}),
                file=file, raw=raw, overrides=dict(overrides or {}), date=head.date,
                family=getattr(raw, "family", None), variant=getattr(raw, "variant", None))
