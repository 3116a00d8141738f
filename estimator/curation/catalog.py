"""The catalog: notable ML systems written down once as specs, recounted, beside their
published figures.

Every ``archspecs/*.yaml`` (or any list of spec files) becomes an :class:`Entry`: the analytic
count (torch-free), the spec's provenance (authors, title, arXiv id, aliases), its published
figures with their sources, the difference between the two with the spec's explanation, and
training compute recomputed by both methods of :mod:`estimator.costs.compute` from the
training inputs the source reports.

Status of an entry:

* ``reproduced``: every published figure with a counterpart in the count (params, active
  params, forward FLOPs, MACs) is within :data:`TOLERANCE` of the count;
* ``explained discrepancy``: some figure differs by more, and the spec's ``discrepancy:``
  block says why (a rounded figure, a paper's arithmetic slip, an unstated vocabulary...);
* ``unexplained discrepancy``: a difference nobody explained. The catalog's tests forbid it;
* ``not published``: the source publishes no parameter count (the spec's ``unpublished:`` says
  what it does publish); the count stands alone.

The library returns data; :mod:`estimator.report.catalog` formats it, the CLI prints it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Optional

from ..errors import InputError, PCError

TOLERANCE = 0.01          # 1 %: a published figure further than this needs an explanation
COUNTED_KEYS = ("params", "active_params", "forward_flops", "macs")
DOMAINS = ("vision", "language", "speech", "multimodal", "games", "recommendation", "biology")
STATUSES = ("reproduced", "explained discrepancy", "unexplained discrepancy", "not published")

# the training-block keys handed to training_compute, by method
_COUNTING_KEYS = ("tokens", "examples", "epochs", "generation_passes")
_HARDWARE_KEYS = ("hardware", "chips", "days", "hours", "seconds", "chip_hours", "precision",
                  "utilisation", "runs")  # 'excludes', 'source', 'note': information only


def default_dir() -> Path:
    """``archspecs/`` of a source checkout, else the copy installed with the package."""
    checkout = Path(__file__).resolve().parents[2] / "archspecs"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parents[1] / "archspecs_data"


@lru_cache(maxsize=1 << 16)
def normalise(name: str) -> str:
    """Lookup key of a system name: case, spaces, dashes and punctuation ignored
    ('GPT-3 175B (davinci)' -> 'gpt3175bdavinci'). The same key picks a family's variant.
    Cached: a lookup among given entries keys every name and alias of all of them (the
    catalog's ~1,400 names, two regular expressions each)."""
    from ..spec.family import name_key

    return name_key(name)


class SpecRef(NamedTuple):
    """Where a catalog system is written: its spec file, and the variant of a size family
    (None for a plain spec). ``load_spec(ref.path, variant=ref.variant)`` loads it."""

    path: Path
    variant: Optional[str] = None

    @property
    def label(self) -> str:
        """'bert.yaml#BERT base' for a variant, 'alexnet.yaml' for a plain spec (test ids)."""
        return f"{self.path.name}#{self.variant}" if self.variant else self.path.name


@dataclass
class Figure:
    """One published figure beside its count."""

    key: str
    published: float
    counted: Optional[float]
    source: str
    note: Optional[str] = None
    explanation: Optional[str] = None   # the spec's discrepancy note for this key

    @property
    def ratio(self) -> Optional[float]:
        return self.counted / self.published if self.counted is not None else None

    @property
    def within_tolerance(self) -> Optional[bool]:
        return None if self.ratio is None else abs(self.ratio - 1) <= TOLERANCE

    def to_dict(self) -> dict:
        return {"key": self.key, "published": self.published, "counted": self.counted,
                "ratio": self.ratio, "within_tolerance": self.within_tolerance,
                "source": self.source, "note": self.note, "explanation": self.explanation}


@dataclass
class Entry:
    """One system of the catalog."""

    name: str
    spec: Path
    aliases: tuple[str, ...]
    year: Optional[int]
    domain: Optional[str]
    citation: Optional[str]
    provenance: dict[str, Any]
    result: Any                          # the analytic CountResult
    figures: list[Figure] = field(default_factory=list)
    training: dict[str, Any] = field(default_factory=dict)
    training_compute: Any = None         # costs.compute.TrainingCompute, or None
    training_error: Optional[str] = None
    variant: Optional[str] = None        # a size family's variant (its name); None: a plain spec
    family: Optional[str] = None         # the family's name, for a variant
    date: Optional[str] = None           # publication date YYYY-MM-DD, where the spec gives it

    @property
    def ref(self) -> SpecRef:
        return SpecRef(self.spec, self.variant)

    # -- the count ----------------------------------------------------------------------
    @property
    def params(self) -> int:
        return self.result.params

    @property
    def active_params(self) -> int:
        return self.result.active_params

    @property
    def forward_flops(self) -> int:
        return self.result.forward_flops

    @property
    def tokens_per_example(self) -> Optional[int]:
        return self.result.tokens

    @property
    def moe(self) -> bool:
        return self.active_params != self.params

    @property
    def published(self) -> dict[str, dict]:
        return self.result.extra.get("published") or {}

    @property
    def discrepancy(self) -> dict[str, str]:
        return dict(self.provenance.get("discrepancy") or {})

    def figure(self, key: str) -> Optional[Figure]:
        return next((f for f in self.figures if f.key == key), None)

    @property
    def published_params(self) -> Optional[float]:
        return (self.published.get("params") or {}).get("value")

    @property
    def published_training_compute(self) -> Optional[float]:
        return (self.published.get("training_compute") or {}).get("value")

    @property
    def status(self) -> str:
        off = [f for f in self.figures if f.within_tolerance is False]
        if not any(f.counted is not None for f in self.figures):
            return "not published"
        if not off:
            return "reproduced"
        return ("explained discrepancy" if all(f.explanation for f in off)
                else "unexplained discrepancy")

    # -- per token / example -------------------------------------------------------------
    @property
    def forward_flops_per_unit(self) -> tuple[float, str]:
        """Forward FLOPs per token (sequence models) or per example."""
        t = self.tokens_per_example
        return (self.forward_flops / t, "token") if t else (float(self.forward_flops), "example")

    @property
    def flops_per_param(self) -> Optional[float]:
        """Forward FLOPs per token (or example) over active parameters: ~2 for a dense
        transformer, far below for embedding-heavy or expert-heavy models, far above for
        convolutions that reuse each weight at every position."""
        per, _ = self.forward_flops_per_unit
        return per / self.active_params if self.active_params else None

    @property
    def training_estimate(self) -> tuple[Any, Optional[str]]:
        """(Interval, method) of the headline training compute: operation counting where the
        inputs allow, but the hardware method where the counted inputs leave work out
        (``training.excludes``: a self-play or data-generation phase the paper gives no size
        for), since it covers the whole run; (None, None) without either."""
        tc = self.training_compute
        if tc is None:
            return None, None
        if self.training.get("excludes") and tc.hardware is not None:
            return tc.hardware.flops, "hardware method"
        return tc.estimate, tc.method

    @property
    def training_flops(self) -> Optional[float]:
        est, _ = self.training_estimate
        return est.central if est is not None else None

    def to_row(self) -> dict[str, Any]:
        """The flat record of ``paramcount catalog --json`` (one per system)."""
        tc = self.training_compute
        est, method = self.training_estimate
        per, unit = self.forward_flops_per_unit
        pub_tc = self.published_training_compute
        return {
            "name": self.name,
            "spec": self.spec.name,
            "variant": self.variant,
            "family": self.family,
            "date": self.date,
            "aliases": list(self.aliases),
            "year": self.year,
            "domain": self.domain,
            "params": self.params,
            "active_params": self.active_params,
            "moe": self.moe,
            "published_params": self.published_params,
            "params_ratio": (self.params / self.published_params
                             if self.published_params else None),
            "published_active_params": (self.published.get("active_params") or {}).get("value"),
            "forward_flops": self.forward_flops,
            "forward_flops_per": unit,
            "forward_flops_per_unit": per,
            "tokens_per_example": self.tokens_per_example,
            "flops_per_param": self.flops_per_param,
            "params_by_type": dict(self.result.params_by_type),
            "training_compute": est.central if est else None,
            "training_compute_low": est.low if est else None,
            "training_compute_high": est.high if est else None,
            "training_compute_method": method,
            "training_compute_excludes": self.training.get("excludes"),
            "training_compute_counting": (tc.counting.total.central
                                          if tc and tc.counting else None),
            "training_compute_6nd": (tc.counting.six_nd.central
                                     if tc and tc.counting and tc.counting.six_nd else None),
            "training_compute_hardware": tc.hardware.flops.central if tc and tc.hardware else None,
            "implied_utilisation": (tc.implied_utilisation.central
                                    if tc and tc.implied_utilisation else None),
            "published_training_compute": pub_tc,
            "training_compute_ratio": (est.central / pub_tc if est and pub_tc else None),
            "training_error": self.training_error,
            "status": self.status,
            "figures": [f.to_dict() for f in self.figures],
            "citation": self.citation,
            "authors": self.provenance.get("authors"),
            "title": self.provenance.get("title"),
            "venue": self.provenance.get("venue"),
            "arxiv": self.provenance.get("arxiv"),
            "doi": self.provenance.get("doi"),
            "url": self.result.extra.get("url"),
            "training": dict(self.training),
        }


def _training_compute(result, training: dict):
    """Both methods from the spec's training block; (TrainingCompute | None, error | None).

    The hardware method needs a chip and a time: chip-hours (already summed over chips, the
    most direct figure a paper gives) win over chips x wall-clock time, which win over nothing;
    ``chips`` stays in the block as information when chip-hours are given."""
    from ..costs.compute import training_compute

    counting = {k: training[k] for k in _COUNTING_KEYS if k in training}
    hardware = {k: training[k] for k in _HARDWARE_KEYS if k in training}
    if "chip_hours" in hardware:
        for k in ("chips", "days", "hours", "seconds"):
            hardware.pop(k, None)
    elif "chips" not in hardware:
        hardware = {}
    if not hardware.get("hardware") or not any(
            k in hardware for k in ("days", "hours", "seconds", "chip_hours")):
        hardware = {}
    if not counting and not hardware:
        return None, None
    try:
        return training_compute(result if counting else None, **counting, **hardware), None
    except PCError as err:  # the block is data: one bad field must not hide the entry
        return None, str(err)


def make_entry(path: Path, variant: Optional[str] = None) -> Entry:
    """Count one spec file (one variant of a family) and pair it with its published figures."""
    from ..analytic import load_spec

    return _make(load_spec(path, variant=variant), Path(path))


def make_entries(path: Path) -> list[Entry]:
    """Every entry one spec file holds: each variant of a family, or the one plain spec."""
    from ..analytic import load_specs

    return [_make(spec, Path(path)) for spec in load_specs(path)]


def _make(spec, path: Path) -> Entry:
    from ..analytic import analyze

    result = analyze(spec, expand=False)  # totals and collapsed rows: no per-copy rows
    result.extra.setdefault("url", spec.url)
    prov = dict(spec.provenance)
    explain = prov.get("discrepancy") or {}
    figures = []
    for key, pub in spec.published.items():
        counted = getattr(result, key) if key in COUNTED_KEYS else None
        figures.append(Figure(key=key, published=float(pub["value"]), counted=counted,
                              source=pub["source"], note=pub.get("note"),
                              explanation=explain.get(key)))
    training = dict(prov.get("training") or {})
    tc, err = _training_compute(result, training)
    return Entry(name=spec.name, spec=path, aliases=tuple(prov.get("aliases") or ()),
                 year=spec.year, domain=spec.domain, citation=spec.citation, provenance=prov,
                 result=result, figures=figures, training=training, training_compute=tc,
                 training_error=err, variant=spec.variant, family=spec.family,
                 date=spec.date.isoformat() if spec.date else None)


def spec_files(sources: Iterable[str | Path] | None = None) -> list[Path]:
    """The spec files of ``sources`` (files, or folders of ``*.yaml``); default archspecs/."""
    paths: list[Path] = []
    for src in ([default_dir()] if not sources else sources):
        p = Path(src)
        if p.is_dir():
            paths += sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml"))
        elif p.is_file():
            paths.append(p)
        else:
            raise InputError(f"{p}: no such spec file or folder")
    return paths


@dataclass(frozen=True)
class Listed:
    """A catalog system as its spec file's header gives it, nothing counted: what listings
    filter on before counting, and what names resolve through. ``broken``: the file could
    not be read as a mapping (it is kept, so that counting reports its error)."""

    spec: Path
    variant: Optional[str]
    name: str
    aliases: tuple[str, ...] = ()
    domain: Optional[str] = None
    year: Optional[int] = None
    broken: bool = False

    @property
    def ref(self) -> SpecRef:
        return SpecRef(self.spec, self.variant)


def _listed_in(path: Path) -> list[Listed]:
    """The systems one spec file holds, from its header (a family's variants merged over it)."""
    from ..spec.family import is_family, variant_headers
    from ..spec.yamlload import load_yaml_file

    try:
        head = load_yaml_file(path)
    except PCError:
        head = None
    if not isinstance(head, dict):
        return [Listed(path, None, path.stem, broken=True)]

    def one(variant, d) -> Listed:
        aliases = d.get("aliases") if isinstance(d.get("aliases"), list) else []
        year = d.get("year")  # as the header model reads it: an int, or digits ('2020')
        year = int(year) if isinstance(year, str) and year.strip().isdigit() else year
        year = year if isinstance(year, int) and not isinstance(year, bool) else None
        domain = d.get("domain") if isinstance(d.get("domain"), str) else None
        return Listed(path, variant, str(d.get("name") or path.stem),
                      tuple(str(a) for a in aliases if a), domain, year)

    if not is_family(head):
        return [one(None, head)]
    return [one(v, d) for v, d in variant_headers(head)] or [Listed(path, None, path.stem,
                                                                     broken=True)]


@lru_cache(maxsize=4)
def _listed_default(folder: Path) -> tuple[Listed, ...]:
    from ..spec.yamlload import paused_gc

    with paused_gc(keep=True):  # cached for the process: kept out of later collections
        return tuple(x for p in spec_files([folder]) for x in _listed_in(p))


def listed(sources: Iterable[str | Path] | None = None) -> list[Listed]:
    """Every system of the catalog (default archspecs/) as its header gives it, in file order:
    one per plain spec, one per variant of a family. Reads headers only; counts nothing."""
    if not sources:
        return list(_listed_default(default_dir()))
    return [x for p in spec_files(sources) for x in _listed_in(p)]


def spec_refs(sources: Iterable[str | Path] | None = None) -> list[SpecRef]:
    """Where every system of ``sources`` (default archspecs/) is written, from the headers."""
    return [x.ref for x in listed(sources)]


@lru_cache(maxsize=256)
def _entries(path: Path) -> tuple[Entry, ...]:
    return tuple(make_entries(path))


@lru_cache(maxsize=1024)
def _entry(ref: SpecRef) -> Entry:
    return make_entry(ref.path, ref.variant)


@lru_cache(maxsize=4)
def _load_default(folder: Path) -> tuple[Entry, ...]:
    from ..spec.yamlload import paused_gc

    with paused_gc(keep=True):  # cached for the process: kept out of later collections
        return tuple(e for p in spec_files([folder]) for e in _entries(p))


def load_catalog(sources: Iterable[str | Path] | None = None, *, query: str | None = None,
                 domain: str | None = None, since: int | None = None,
                 until: int | None = None) -> list[Entry]:
    """Every entry of the catalog (``archspecs/``), or of the given spec files/folders: one
    per plain spec, one per variant of a size family. With a filter (as :func:`select`
    takes), systems are chosen by their headers first and only those are counted: a filtered
    listing costs what it shows."""
    from ..spec.yamlload import paused_gc

    if query is None and domain is None and since is None and until is None:
        if not sources:
            return list(_load_default(default_dir()))  # counted once per process
        with paused_gc():  # one pause for the whole catalog (a collection per spec costs more)
            return [e for p in spec_files(sources) for e in make_entries(p)]
    # the default catalog's headers and entries are cached for the process (_listed_default,
    # _entry): kept out of later collections. Not _entry itself: a lookup per CSV row (verify)
    # would cost a collection each
    with paused_gc(keep=not sources):
        chosen = [x.ref for x in listed(sources)
                  if x.broken or _keep(x, query, domain, since, until)]
        count = _entry if not sources else (lambda r: make_entry(r.path, r.variant))
        return [count(r) for r in chosen]


def _keep(x, query, domain, since, until) -> bool:
    """Whether an entry (or a :class:`Listed` header) passes the listing's filters: ``query``
    a part of its name, an alias or its file stem (normalised); its domain; its year range."""
    if query and not any(normalise(query) in normalise(n)
                         for n in (x.name, x.spec.stem, *x.aliases)):
        return False
    if domain and (x.domain or "").lower() != domain.lower():
        return False
    if since is not None and (x.year is None or x.year < since):
        return False
    return until is None or x.year is not None and x.year <= until


def _resolve(name: str, names: dict[str, list], stems: dict[str, list]):
    """The one item a name or alias names, else the one whose spec file stem it is ('gpt2' is
    the file of GPT-2 small, while the alias 'GPT-2' names the 1.5B model, as the paper
    does), else None; InputError when two systems share it. A family's file stem names no
    system (it holds several), so only plain specs are found by stem."""
    key = normalise(name)
    found = names.get(key) or stems.get(key, [])
    if len(found) > 1:
        shown = ", ".join(getattr(x, "name", None) or _ref_name(x) for x in found)
        raise InputError(f"{name!r} names several catalog systems: {shown}")
    return found[0] if found else None


def _ref_name(ref: SpecRef) -> str:
    return f"{ref.path.name} ({ref.variant})" if ref.variant else ref.path.name


def _index(entries: Iterable[Entry]) -> tuple[dict[str, list[Entry]], dict[str, list[Entry]]]:
    """(name or alias -> entries, spec file stem -> entries), keys normalised."""
    names: dict[str, list[Entry]] = {}
    stems: dict[str, list[Entry]] = {}
    for e in entries:
        for key in {normalise(n) for n in (e.name, *e.aliases)}:
            names.setdefault(key, []).append(e)
        if e.variant is None:
            stems.setdefault(normalise(e.spec.stem), []).append(e)
    return names, stems


def _index_listed(items: Iterable[Listed]) -> tuple[dict[str, list[SpecRef]],
                                                  dict[str, list[SpecRef]]]:
    """The same index over systems as their headers give them (no count)."""
    names: dict[str, list[SpecRef]] = {}
    stems: dict[str, list[SpecRef]] = {}
    for x in items:
        if x.broken:
            continue
        for key in {normalise(n) for n in (x.name, *x.aliases)}:
            names.setdefault(key, []).append(x.ref)
        if x.variant is None:
            stems.setdefault(normalise(x.spec.stem), []).append(x.ref)
    return names, stems


@lru_cache(maxsize=4)
def _header_index(folder: Path) -> tuple[dict[str, list[SpecRef]], dict[str, list[SpecRef]]]:
    """The index over the catalog's spec files, read from their headers only (no count):
    finding one system costs one YAML read per spec, not counting all of them."""
    return _index_listed(_listed_default(folder))


def resolve(name: str, sources: Iterable[str | Path] | None = None) -> Optional[SpecRef]:
    """The system ``name`` names exactly (its name, an alias, or a plain spec's file stem,
    normalised: the rule of :func:`lookup` and of ``verify``) among the catalog (default) or
    the spec files of ``sources``; None if none, :class:`InputError` if several."""
    if not sources:
        return find_spec(name)
    return _resolve(name, *_index_listed(listed(sources)))


def find_spec(name: str) -> Optional[SpecRef]:
    """Where the catalog system a name, alias or (plain spec's) file stem names is written
    (see :func:`lookup`): a :class:`SpecRef` (path, variant), or None."""
    return _resolve(name, *_header_index(default_dir()))


def entry_of(ref: SpecRef) -> Entry:
    """The counted entry of a :class:`SpecRef` (counted once per process)."""
    return _entry(SpecRef(Path(ref.path), ref.variant))


def lookup(name: str, entries: Iterable[Entry] | None = None) -> Optional[Entry]:
    """The one entry whose name or alias equals ``name`` (normalised), else the one whose spec
    file stem does, else None. A name or alias that two systems share raises
    :class:`InputError`. Without ``entries`` only the matched spec is counted."""
    if entries is not None:
        return _resolve(name, *_index(entries))
    ref = find_spec(name)
    return entry_of(ref) if ref is not None else None


def suggest(name: str, entries: Iterable[Entry] | None = None, n: int = 3) -> list[str]:
    """Catalog names close to ``name``, for 'did you mean' messages (``entries``: entries or
    :class:`Listed` headers; default the catalog's headers: nothing is counted)."""
    import difflib

    entries = listed() if entries is None else list(entries)
    names = {normalise(x): e.name for e in entries for x in (e.name, *e.aliases)}
    close = difflib.get_close_matches(normalise(name), list(names), n=n, cutoff=0.6)
    return list(dict.fromkeys(names[c] for c in close))


def select(entries: Iterable[Entry], *, query: str | None = None, domain: str | None = None,
           since: int | None = None, until: int | None = None, sort: str = "year",
           descending: bool = False) -> list[Entry]:
    """Filter by a name/alias substring, domain and year range; sort by a row key."""
    out = [e for e in entries if _keep(e, query, domain, since, until)]
    if out:
        rows = {id(e): e.to_row() for e in out}
        if sort not in rows[id(out[0])]:
            raise InputError(f"--sort {sort!r}: not a catalog column; one of "
                             "name, year, domain, params, active_params, forward_flops, "
                             "flops_per_param, training_compute, status")

        def key(e):
            v = rows[id(e)][sort]
            return (v is None, v if v is not None else 0, e.name.lower())

        out.sort(key=key, reverse=descending)
        if descending:  # keep missing values last either way
            out.sort(key=lambda e: rows[id(e)][sort] is None)
    return out
