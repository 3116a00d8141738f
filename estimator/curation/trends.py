"""``trends``: how fast parameters and training compute grow, with doubling times, eras,
breaks, large-scale systems and the parameter gap.

The method, stated in every output:

* **A line in log space.** For each segment, ordinary least squares of log10(metric) on the
  publication date in (decimal) years (:func:`scipy.stats.linregress`). The slope is in
  orders of magnitude (OOM) per year; the doubling time is ``12 x log10(2) / slope`` months.
  Fitting an exponential by least squares in *linear* space instead lets the largest recent
  systems dominate the fit (:func:`fit_linear_space` does that, to show the difference).
* **A bootstrap over systems** for the doubling time's interval: systems resampled with
  replacement (:data:`RESAMPLES` times, seeded), the slope refitted on each, the percentile
  interval at :data:`CI_LEVEL`.
* **Eras** (``breaks``): each segment between given break dates is fitted on its own (its own
  slope and level), as Sevilla et al. 2022 fit their eras.
* **Breaks found** (:func:`find_break`): every date between two consecutive systems (with at
  least :data:`MIN_POINTS` systems on each side) is tried as a break, with two two-segment
  models: ``jump`` (two separate lines: a slope change and a level jump) and ``kink`` (one
  continuous broken line: a slope change only). The best of each is compared with one line by
  BIC (``n ln(RSS/n) + k ln n``, the break date counted as a parameter) and by a Chow F-test at
  that date. A break is *found* when the BIC drops by at least :data:`BIC_MARGIN` (10, "very
  strong" on Kass & Raftery's 1995 scale). The F-test's p-value is that of a break fixed in
  advance; searching for the date makes it optimistic, which is why BIC decides.
* **Large-scale systems** (:func:`large_scale`), Sevilla et al.'s rule: a system is large-scale
  when its log10 compute exceeds the mean log10 compute of the *other* systems published
  within two years of it (a window centred on its date: date - 2 years to date + 2 years) by
  more than 0.72 of their standard deviation (sample SD, ddof=1).
* **The parameter gap** (:func:`gap`): the systems published from a date on inside a band
  [LOW, HIGH) against the bands of the same log width just below and just above it.

Inputs: the catalog (its recounted figures: the default), catalog spec files, or a curator's
CSV / JSON lines file in the columns ``verify`` reads (Epoch AI's export as it is). Rows
without a date or a figure are left out and counted. The library returns data; report/trends.py
formats it and cli/trends.py prints.
"""
from __future__ import annotations

import calendar
import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from ..errors import InputError, require
from ..units import parse_cell

METRICS = {"params": "parameters", "active-params": "active parameters",
           "compute": "training compute (FLOP)"}
# the metric as the counts of left-out rows name it ("412 rows without a training compute figure")
NAMES = {"params": "parameters", "active-params": "active parameters",
         "compute": "training compute"}
_METRIC_FIELD = {"params": "params", "active-params": "active_params", "compute": "compute"}
CI_LEVEL = 0.95           # the bootstrap interval of the doubling time
RESAMPLES = 1000          # bootstrap resamples
MIN_POINTS = 3            # fewer points than this in a segment: no fit
BIC_MARGIN = 10.0         # a break is found when BIC drops by at least this much
LARGE_SCALE_SD = 0.72     # Sevilla et al. 2022: more than 0.72 SD above ...
LARGE_SCALE_YEARS = 2.0   # ... the systems published within two years
LOG10_2 = math.log10(2)

METHOD = ("ordinary least squares of log10({what}) on the publication date in years (a line in "
          "log space, one per segment); doubling time = 12 x log10(2) / slope months; "
          "{level:g}% interval by a bootstrap over systems ({resamples:,} resamples, seed {seed})")


def _numpy():
    return require("numpy", "trends")


# ---------------------------------------------------------------------------------- dates

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_ISO = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_SLASHED = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_WORDS = re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]+)\.?,?\s+(?:(\d{1,2}),?\s+)?(\d{4})$")


def date_range(text, *, what: str = "date") -> Optional[tuple[_dt.date, _dt.date]]:
    """The first and last day a date cell stands for, or None for a blank.

    Read: ``2022-01-31`` (Epoch's export), ``2022-01-31T00:00:00``, ``2022/01/31``,
    ``2022-01`` (the month), ``2022`` (the year), ``31/01/2022`` or ``01/31/2022`` (when the
    day is above 12; ``03/04/2022`` is ambiguous and refused), ``January 31, 2022``,
    ``31 Jan 2022``, ``Jan 2022``, a ``datetime.date`` (YAML), an integer year. Raises
    InputError for anything else."""
    if text is None:
        return None
    if isinstance(text, _dt.datetime):
        text = text.date()
    if isinstance(text, _dt.date):
        return text, text
    if isinstance(text, bool):
        raise InputError(f"cannot read {what} {text!r}")
    if isinstance(text, int):
        text = str(text)
    s = " ".join(str(text).split())
    if s.lower() in ("", "-", "n/a", "na", "none", "null", "unknown", "?"):
        return None
    y = mo = d = None
    m = _ISO.match(s)
    if m:
        y, mo, d = int(m.group(1)), m.group(2) and int(m.group(2)), m.group(3) and int(m.group(3))
    elif _SLASHED.match(s):
        a, b, y = (int(g) for g in _SLASHED.match(s).groups())
        if a > 12 >= b:
            d, mo = a, b
        elif b > 12 >= a:
            mo, d = a, b
        elif a == b:
            d = mo = a
        else:
            raise InputError(f"cannot read {what} {s!r}: day and month are ambiguous "
                             "(write it as YYYY-MM-DD)")
    elif _WORDS.match(s):
        d1, name, d2, y = _WORDS.match(s).groups()
        mo = _MONTHS.get(name.lower())
        if mo is None or (d1 and d2):
            raise InputError(f"cannot read {what} {s!r}: expected a date such as 2022-01-31")
        y, d = int(y), int(d1 or d2) if (d1 or d2) else None
    else:
        raise InputError(f"cannot read {what} {s!r}: expected a date such as 2022-01-31, "
                         "2022-01 or 2022")
    try:
        if mo is None:
            return _dt.date(y, 1, 1), _dt.date(y, 12, 31)
        if d is None:
            return _dt.date(y, mo, 1), _dt.date(y, mo, calendar.monthrange(y, mo)[1])
        day = _dt.date(y, mo, d)
        return day, day
    except ValueError:
        raise InputError(f"cannot read {what} {s!r}: no such day") from None


def mid_date(first: _dt.date, last: _dt.date) -> _dt.date:
    """The middle day of a period (a year-only date stands for 2 July)."""
    return first + (last - first) / 2


def decimal_year(d: _dt.date) -> float:
    """2020-01-01 -> 2020.0; 2020-07-02 -> 2020 + 183/366 = 2020.5."""
    start = _dt.date(d.year, 1, 1)
    days = 366 if calendar.isleap(d.year) else 365
    return d.year + (d - start).days / days


# --------------------------------------------------------------------------------- points

@dataclass(frozen=True)
class Point:
    """One system: its name, date, figure and domains."""

    name: str
    date: _dt.date
    value: float
    domains: tuple[str, ...] = ()
    notable: bool = True
    line: Optional[int] = None       # line of the input file (None for the catalog)
    dated: str = "date"              # 'date', or 'year mid-point' where only a year is known

    @property
    def t(self) -> float:
        return decimal_year(self.date)

    @property
    def domain(self) -> str:
        return self.domains[0] if self.domains else "other"


@dataclass
class Data:
    """What :func:`load` reads: the points, and why rows were left out (reason -> count)."""

    metric: str
    source: str
    points: list[Point]
    rows: int
    skipped: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)   # by the selection's filters
    date_basis: str = "publication date"
    notes: list[str] = field(default_factory=list)
    selection: str = "all"           # the group's name: 'all', or the chosen domains

    def to_dict(self) -> dict:
        return {"metric": self.metric, "source": self.source, "rows": self.rows,
                "used": len(self.points), "skipped": dict(self.skipped),
                "excluded": dict(self.excluded), "date_basis": self.date_basis,
                "notes": list(self.notes)}


def _count(d: dict, reason: str) -> None:
    d[reason] = d.get(reason, 0) + 1


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


def split_domains(cell) -> tuple[str, ...]:
    """'Multimodal,Language,Vision' -> ('Multimodal', 'Language', 'Vision')."""
    if cell is None:
        return ()
    return tuple(dict.fromkeys(p.strip() for p in re.split(r"[,;|]", str(cell)) if p.strip()))


def _is_spec(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in (".yaml", ".yml")


def load(sources: Sequence[str | Path] | None = None, metric: str = "params") -> Data:
    """The points of the catalog (default), of catalog spec files / folders, or of curator
    CSV / JSON lines files (Epoch's columns). Input files are read once and never modified."""
    if metric not in METRICS:
        raise InputError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    sources = [Path(s) for s in sources or []]
    for p in sources:
        if not p.exists():
            raise InputError("no such file or folder", file=str(p))
    specs = [p for p in sources if _is_spec(p)]
    files = [p for p in sources if not _is_spec(p)]
    parts = []
    if specs or not sources:
        parts.append(_load_catalog(specs, metric))
    for p in files:
        parts.append(_load_file(p, metric))
    if len(parts) == 1:
        return parts[0]
    out = Data(metric=metric, source=", ".join(d.source for d in parts), points=[], rows=0,
               date_basis="; ".join(dict.fromkeys(d.date_basis for d in parts)))
    for d in parts:
        out.points += d.points
        out.rows += d.rows
        for k, v in d.skipped.items():
            out.skipped[k] = out.skipped.get(k, 0) + v
        out.notes += d.notes
    return out


def _entry_date(entry) -> tuple[Optional[_dt.date], str]:
    """An entry's ``date:`` header (YYYY-MM-DD) when its spec has one, else its year's
    mid-point (2 July)."""
    raw = getattr(entry, "date", None) or entry.provenance.get("date")
    if raw:
        first, last = date_range(raw, what=f"{entry.spec.name}: date")
        return mid_date(first, last), "date"
    if entry.year:
        return _dt.date(int(entry.year), 7, 2), "year mid-point"
    return None, ""


def _load_catalog(specs: list[Path], metric: str) -> Data:
    from .catalog import load_catalog

    entries = load_catalog(specs or None)
    what = NAMES[metric]
    data = Data(metric=metric, source=("the catalog (archspecs/)" if not specs
                                       else ", ".join(str(p) for p in specs)),
                points=[], rows=len(entries))
    bases = set()
    for e in entries:
        value = {"params": e.params, "active-params": e.active_params,
                 "compute": e.training_flops}[metric]
        when, basis = _entry_date(e)
        if when is None:
            _count(data.skipped, "without a publication date")
            continue
        if not value:
            _count(data.skipped, f"without a {what} figure")
            continue
        bases.add(basis)
        data.points.append(Point(name=e.name, date=when, value=float(value),
                                 domains=(e.domain,) if e.domain else (), dated=basis))
    data.date_basis = ("the spec's date, else the year's mid-point (2 July)"
                       if bases == {"date", "year mid-point"}
                       else "the spec's date" if bases == {"date"}
                       else "the year's mid-point (2 July): the specs give a year only")
    data.notes.append("catalog figures are recounted from the specs"
                      + (" (training compute recomputed from each spec's training inputs)"
                         if metric == "compute" else "")
                      + "; every catalog system counts as notable")
    return data


def _load_file(path: Path, metric: str) -> Data:
    from .verify import read_rows

    mapping, ignored, rows = read_rows(path)
    what = NAMES[metric]
    field_ = _METRIC_FIELD[metric]
    if "date" not in mapping:
        raise InputError("no publication date column (expected 'Publication date')",
                         file=str(path), line=1)
    if field_ not in mapping:
        want = {"params": "Parameters", "active_params": "Active parameters",
                "compute": "Training compute (FLOP)"}[field_]
        raise InputError(f"no {what} column for --metric {metric} (expected {want!r})",
                         file=str(path), line=1)
    notability = next((h for h in [*mapping.values(), *ignored] if _key(h) in ("notabilitycriteria", "notability",
                                                         "notable")), None)
    data = Data(metric=metric, source=str(path), points=[], rows=len(rows))
    mid = 0
    for line, cells in rows:
        if isinstance(cells, InputError):
            _count(data.skipped, "unreadable rows")
            continue
        name = str(cells.get(mapping.get("model", ""), "") or "").strip() or f"line {line}"
        try:
            period = date_range(cells.get(mapping["date"]))
        except InputError:
            _count(data.skipped, "with an unreadable publication date")
            continue
        if period is None:
            _count(data.skipped, "without a publication date")
            continue
        try:
            iv = parse_cell(cells.get(mapping[field_]), what=what)
        except InputError:
            _count(data.skipped, f"with an unreadable {what} cell")
            continue
        if iv is None:
            _count(data.skipped, f"without a {what} figure")
            continue
        if iv.low <= 0:
            _count(data.skipped, f"with a {what} figure that is not positive")
            continue
        first, last = period
        mid += first != last
        notable = (bool(str(cells.get(notability) or "").strip()) if notability else None)
        data.points.append(Point(name=name, date=mid_date(first, last), value=iv.central,
                                 domains=split_domains(cells.get(mapping.get("domain", ""))),
                                 notable=notable, line=line,
                                 dated="date" if first == last else "period mid-point"))
    data.date_basis = "the publication date" + (
        f" ({mid} given as a month or a year only: its mid-point)" if mid else "")
    if notability is None:
        data.notes.append("no 'Notability criteria' column")
    data.notes.append("a range cell counts as its geometric mean")
    return data


def select(data: Data, *, domains: Iterable[str] | None = None,
           since: Optional[_dt.date] = None, until: Optional[_dt.date] = None,
           notable_only: bool = False) -> Data:
    """The points that pass the filters (a system passes ``domains`` when any of its domains
    is one of them, case ignored); what each filter left out is counted in ``excluded``."""
    wanted = {d.lower() for d in domains or [] if d.lower() != "all"}
    if notable_only and data.points and all(p.notable is None for p in data.points):
        raise InputError("--notable-only: the input has no 'Notability criteria' column",
                         file=data.source)
    out = Data(metric=data.metric, source=data.source, points=[], rows=data.rows,
               skipped=dict(data.skipped), date_basis=data.date_basis, notes=list(data.notes),
               selection="+".join(d for d in domains or [] if d.lower() != "all") or "all")
    for p in data.points:
        if wanted and not wanted & {d.lower() for d in p.domains}:
            _count(out.excluded, "not in the chosen domains")
        elif notable_only and not p.notable:
            _count(out.excluded, "without a notability criterion")
        elif since is not None and p.date < since:
            _count(out.excluded, "published before --since")
        elif until is not None and p.date > until:
            _count(out.excluded, "published after --until")
        else:
            out.points.append(p)
    return out


# ------------------------------------------------------------------------------------ fits

def doubling_months(slope: float) -> Optional[float]:
    """Months per doubling of a slope in OOM/year: 12 x log10(2) / slope (negative: a halving
    time); None for a flat line."""
    return 12 * LOG10_2 / slope if slope else None


@dataclass
class Fit:
    """One segment's line in log space."""

    metric: str
    group: str
    segment: str
    start: str
    end: str
    n: int
    slope: float                      # OOM per year
    intercept: float                  # log10(metric) at year 0 (of the decimal-year axis)
    r2: float
    ci: tuple[Optional[float], Optional[float]]
    ci_level: float
    resamples: int
    names: list[str] = field(default_factory=list)

    @property
    def doubling_months(self) -> Optional[float]:
        return doubling_months(self.slope)

    def value_at(self, t: float) -> float:
        return 10 ** (self.intercept + self.slope * t)

    def to_dict(self) -> dict:
        return {"metric": self.metric, "group": self.group, "segment": self.segment,
                "start": self.start, "end": self.end, "n": self.n,
                "slope_oom_per_year": self.slope, "doubling_months": self.doubling_months,
                "ci": list(self.ci), "ci_level": self.ci_level, "r2": self.r2,
                "intercept_log10": self.intercept, "resamples": self.resamples}


def ols(t, y) -> tuple[float, float, float]:
    """(slope, intercept, R²) of y on t by ordinary least squares (scipy.stats.linregress)."""
    from scipy.stats import linregress

    res = linregress(t, y)
    return float(res.slope), float(res.intercept), float(res.rvalue ** 2)


def bootstrap_slopes(t, y, *, seed: int, resamples: int = RESAMPLES):
    """The OLS slope refitted on ``resamples`` resamples of the systems (with replacement).

    Written out rather than with scipy.stats.bootstrap: a resample of a small segment can
    draw one date only, whose slope is undefined; those resamples are dropped here (and
    counted by the caller), where scipy's interval would turn to NaN."""
    np = _numpy()
    t, y = np.asarray(t, float), np.asarray(y, float)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(resamples, len(t)))
    tt, yy = t[idx], y[idx]
    dt = tt - tt.mean(axis=1, keepdims=True)
    var = (dt ** 2).sum(axis=1)
    ok = var > 1e-12 * max(1.0, float(t.var()) * len(t))
    return (dt[ok] * (yy[ok] - yy[ok].mean(axis=1, keepdims=True))).sum(axis=1) / var[ok]


def doubling_interval(slopes, level: float = CI_LEVEL) -> tuple[Optional[float], Optional[float]]:
    """The percentile interval of the doubling time from bootstrap slopes; (None, None) when
    the slope's interval includes 0 (the doubling time is then unbounded)."""
    np = _numpy()
    if len(slopes) == 0:
        return None, None
    lo, hi = np.percentile(slopes, [50 * (1 - level), 50 * (1 + level)])
    if lo <= 0 <= hi:
        return None, None
    a, b = doubling_months(float(hi)), doubling_months(float(lo))
    return (min(a, b), max(a, b))


def fit(points: Sequence[Point], *, metric: str = "params", group: str = "all",
        segment: str = "all dates", seed: int = 0, resamples: int = RESAMPLES,
        level: float = CI_LEVEL) -> Fit:
    """The log-space line of ``points`` with its bootstrap interval. Raises InputError with
    fewer than :data:`MIN_POINTS` points or a single date."""
    np = _numpy()
    if len(points) < MIN_POINTS:
        raise InputError(f"{group}, {segment}: {len(points)} point{'s' * (len(points) != 1)}, "
                         f"fewer than {MIN_POINTS}: no line can be fitted")
    t = np.array([p.t for p in points])
    y = np.log10([p.value for p in points])
    if np.ptp(t) == 0:
        raise InputError(f"{group}, {segment}: every point has the same date: no line")
    slope, intercept, r2 = ols(t, y)
    ci = doubling_interval(bootstrap_slopes(t, y, seed=seed, resamples=resamples), level)
    dates = sorted(p.date for p in points)
    return Fit(metric=metric, group=group, segment=segment, start=dates[0].isoformat(),
               end=dates[-1].isoformat(), n=len(points), slope=slope, intercept=intercept,
               r2=r2, ci=ci, ci_level=level, resamples=resamples,
               names=[p.name for p in points])


def fit_linear_space(points: Sequence[Point]) -> float:
    """The slope (OOM/year) of an exponential ``v = 10^(a + b t)`` fitted by least squares in
    LINEAR space (scipy.optimize.curve_fit): the mistake this module avoids. Each residual is
    in the metric's own units, so the largest (most recent) systems dominate."""
    np = _numpy()
    from scipy.optimize import curve_fit

    t = np.array([p.t for p in points])
    v = np.array([p.value for p in points])
    t0, scale = t.mean(), v.max()
    slope0, icpt0, _ = ols(t - t0, np.log10(v / scale))

    def model(x, a, b):
        return 10 ** (a + b * x)

    (a, b), _ = curve_fit(model, t - t0, v / scale, p0=(icpt0, slope0), maxfev=20000)
    return float(b)


# ----------------------------------------------------------------------------------- eras

def _label(first: Optional[_dt.date], last: Optional[_dt.date]) -> str:
    if first is None and last is None:
        return "all dates"
    if first is None:
        return f"before {last.isoformat()}"
    if last is None:
        return f"from {first.isoformat()}"
    return f"{first.isoformat()} to {last.isoformat()}"


def segments(points: Sequence[Point], breaks: Sequence[_dt.date]) -> list[tuple[str, list[Point]]]:
    """(label, points) per era: before the first break, between breaks, from the last one
    (a system dated on a break belongs to the era it opens)."""
    edges = [None, *sorted(breaks), None]
    out = []
    for first, last in zip(edges, edges[1:]):
        mine = [p for p in points if (first is None or p.date >= first)
                and (last is None or p.date < last)]
        out.append((_label(first, last), mine))
    return out


# ---------------------------------------------------------------------------- large-scale

def large_scale(points: Sequence[Point], *, years: float = LARGE_SCALE_YEARS,
                sd: float = LARGE_SCALE_SD) -> list[bool]:
    """Sevilla et al.'s rule, per point: log10(value) above the mean log10(value) of the
    OTHER points dated within ``years`` of it (the window [date - years, date + years],
    centred on the point) by more than ``sd`` of their sample standard deviation (ddof=1).
    A point with fewer than two others in its window is not judged (False)."""
    np = _numpy()
    t = np.array([p.t for p in points])
    y = np.log10([p.value for p in points]) if points else np.array([])
    out = []
    for i in range(len(points)):
        near = (np.abs(t - t[i]) <= years)
        near[i] = False
        if near.sum() < 2:
            out.append(False)
            continue
        others = y[near]
        out.append(bool(y[i] > others.mean() + sd * others.std(ddof=1)))
    return out


# --------------------------------------------------------------------------------- breaks

@dataclass
class Break:
    """The best two-segment fit against one line, with its evidence."""

    group: str
    metric: str
    date: str
    model: str                    # 'jump' (two lines) or 'kink' (one broken line)
    n: int
    bic_one_line: float
    bic_two_segments: float
    f: Optional[float]            # None when the two segments fit exactly (F infinite)
    p: float
    slope_before: float
    slope_after: float
    jump_oom: float               # the level change at the break (0 for a kink)
    n_before: int
    n_after: int
    found: bool
    models: dict = field(default_factory=dict)   # the evidence of each model at its best date

    @property
    def delta_bic(self) -> float:
        return self.bic_one_line - self.bic_two_segments

    def to_dict(self) -> dict:
        return {"kind": "found" if self.found else "not found", "group": self.group,
                "metric": self.metric, "date": self.date, "model": self.model, "n": self.n,
                "n_before": self.n_before, "n_after": self.n_after,
                "bic_one_line": self.bic_one_line, "bic_two_segments": self.bic_two_segments,
                "delta_bic": self.delta_bic, "bic_margin": BIC_MARGIN, "f": self.f,
                "p": self.p, "slope_before": self.slope_before,
                "slope_after": self.slope_after,
                "doubling_months_before": doubling_months(self.slope_before),
                "doubling_months_after": doubling_months(self.slope_after),
                "jump_oom": self.jump_oom, "found": self.found,
                "models": {m: dict(e) for m, e in self.models.items()}}


def _bic(rss: float, n: int, k: int) -> float:
    return n * math.log(max(rss, 1e-300) / n) + k * math.log(n)


def _rss_line(t, y) -> tuple[float, float, float]:
    np = _numpy()
    slope, icpt = np.polyfit(t, y, 1)
    return float(((y - icpt - slope * t) ** 2).sum()), float(slope), float(icpt)


def find_break(points: Sequence[Point], *, metric: str = "params", group: str = "all",
               min_points: int = MIN_POINTS) -> Break:
    """The best break date for ``points`` (see the module's docstring): every midpoint
    between two consecutive distinct dates with ``min_points`` systems on each side, under
    the ``jump`` model (k = 5: two slopes, two intercepts, the date) and the ``kink`` model
    (k = 4: intercept, slope, slope change, the date); one line has k = 2."""
    np = _numpy()
    from scipy.stats import f as f_dist

    pts = sorted(points, key=lambda p: p.t)
    n = len(pts)
    if n < 2 * min_points + 1:
        raise InputError(f"{group}: {n} points: a break needs at least {2 * min_points + 1} "
                         f"({min_points} on each side and one more)")
    t = np.array([p.t for p in pts])
    y = np.log10([p.value for p in pts])
    rss1, _, _ = _rss_line(t, y)
    best: dict[str, tuple] = {}
    for i in range(min_points, n - min_points + 1):
        if t[i] == t[i - 1]:
            continue
        tb = (t[i] + t[i - 1]) / 2
        left, right = slice(0, i), slice(i, n)
        if np.ptp(t[left]) > 0 and np.ptp(t[right]) > 0:
            rl, sl, il = _rss_line(t[left], y[left])
            rr, sr, ir = _rss_line(t[right], y[right])
            jump = (ir + sr * tb) - (il + sl * tb)
            if "jump" not in best or rl + rr < best["jump"][0]:
                best["jump"] = (rl + rr, tb, sl, sr, jump, i)
        design = np.column_stack([np.ones(n), t - tb, np.maximum(0.0, t - tb)])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        rk = float(((y - design @ coef) ** 2).sum())
        if "kink" not in best or rk < best["kink"][0]:
            best["kink"] = (rk, tb, coef[1], coef[1] + coef[2], 0.0, i)
    if not best:
        raise InputError(f"{group}: no date splits the points with {min_points} on each side")
    k = {"jump": 5, "kink": 4}
    q = {"jump": 2, "kink": 1}     # restrictions the one-line model imposes (the date is given)
    b1 = _bic(rss1, n, 2)
    models = {}
    for m, (rss2, tb, s1, s2, jump, i) in best.items():
        df2 = n - (k[m] - 1)
        fstat = ((rss1 - rss2) / q[m]) / (rss2 / df2) if rss2 > 0 else math.inf
        models[m] = {"date": _from_decimal(tb).isoformat(), "bic_two_segments": _bic(rss2, n, k[m]),
                     "delta_bic": b1 - _bic(rss2, n, k[m]),
                     "f": float(fstat) if math.isfinite(fstat) else None,  # None: exact fit
                     "p": float(f_dist.sf(fstat, q[m], df2)) if math.isfinite(fstat) else 0.0,
                     "slope_before": float(s1), "slope_after": float(s2),
                     "jump_oom": float(jump), "n_before": i}
    model = max(models, key=lambda m: models[m]["delta_bic"])
    e = models[model]
    return Break(group=group, metric=metric, date=e["date"], model=model, n=n,
                 bic_one_line=b1, bic_two_segments=e["bic_two_segments"], f=e["f"], p=e["p"],
                 slope_before=e["slope_before"], slope_after=e["slope_after"],
                 jump_oom=e["jump_oom"], n_before=e["n_before"], n_after=n - e["n_before"],
                 found=e["delta_bic"] >= BIC_MARGIN, models=models)


def _from_decimal(t: float) -> _dt.date:
    year = int(math.floor(t))
    days = 366 if calendar.isleap(year) else 365
    return _dt.date(year, 1, 1) + _dt.timedelta(days=int(round((t - year) * days)))


# ------------------------------------------------------------------------------------ gap

def gap(points: Sequence[Point], low: float, high: float,
        since: Optional[_dt.date] = None) -> dict:
    """Systems dated from ``since`` on, inside [low, high) and in the bands of the same log
    width just below ([low^2/high, low)) and above ([high, high^2/low))."""
    if not (0 < low < high):
        raise InputError(f"--gap {low:g},{high:g}: expected 0 < LOW < HIGH")
    width = high / low
    bands = {"below": (low / width, low), "inside": (low, high), "above": (high, high * width)}
    chosen = [p for p in points if since is None or p.date >= since]
    out: dict[str, Any] = {"low": low, "high": high, "since": since.isoformat() if since else None,
                           "log10_width": math.log10(width), "systems": len(chosen)}
    for band, (a, b) in bands.items():
        mine = sorted((p for p in chosen if a <= p.value < b), key=lambda p: p.value)
        out[band] = {"low": a, "high": b, "n": len(mine), "names": [p.name for p in mine]}
    return out


# -------------------------------------------------------------------------------- analysis

@dataclass
class Trends:
    """What :func:`analyse` returns: the fits and everything around them."""

    data: Data
    method: str
    fits: list[Fit]
    unfitted: list[dict]
    breaks: list[dict]
    large_scale: list[str]
    large_scale_points: list[Point]
    gap: Optional[dict]
    groups: dict[str, list[Point]]
    seed: int

    def to_dict(self) -> dict:
        """The JSON contract: method, fits, breaks, large_scale, gap (and the input's counts)."""
        return {"method": self.method, "fits": [f.to_dict() for f in self.fits],
                "breaks": list(self.breaks), "large_scale": list(self.large_scale),
                "gap": self.gap, "unfitted": list(self.unfitted), "input": self.data.to_dict(),
                "seed": self.seed}


def analyse(data: Data, *, breaks: Sequence[_dt.date] = (), by_domain: bool = False,
            find_breaks: bool = False, large: bool = False,
            large_since: Optional[_dt.date] = None,
            gap_band: Optional[tuple[float, float]] = None, gap_since: Optional[_dt.date] = None,
            seed: int = 0, resamples: int = RESAMPLES, level: float = CI_LEVEL) -> Trends:
    """Fit every group (all points, or each domain) and era; optionally find a break, split
    off the large-scale systems and count the gap. Raises InputError when nothing can be
    fitted."""
    _numpy()
    require("scipy", "trends")
    metric = data.metric
    if large and metric != "compute":
        raise InputError("--large-scale applies Sevilla et al.'s rule to training compute: "
                         "use it with --metric compute")
    if not data.points:
        raise InputError(f"no system with a date and a {METRICS[metric]} figure is left "
                         "to fit", file=data.source)
    if by_domain:
        groups: dict[str, list[Point]] = {}
        chosen = {d.lower() for d in data.selection.split("+")} - {"all"}
        for p in data.points:
            for d in p.domains or ("other",):
                if not chosen or d.lower() in chosen:
                    groups.setdefault(d, []).append(p)
        groups = dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0].lower())))
    else:
        groups = {data.selection: list(data.points)}
    fits, unfitted, found, large_pts = [], [], [], []

    def fit_or_say_why(mine, g, label):
        try:
            fits.append(fit(mine, metric=metric, group=g, segment=label, seed=seed,
                            resamples=resamples, level=level))
        except InputError as err:  # fewer than 3 points: one line in the output
            unfitted.append({"group": g, "segment": label, "n": len(mine),
                             "reason": err.message})

    for g, pts in groups.items():
        for label, mine in segments(pts, breaks):
            fit_or_say_why(mine, g, label)
        if large:
            flags = large_scale(pts)
            since = large_since
            big = [p for p, f in zip(pts, flags) if f and (since is None or p.date >= since)]
            rest = [p for p, f in zip(pts, flags) if not f and (since is None or p.date >= since)]
            for kind, mine in (("large-scale", big), ("regular-scale", rest)):
                fit_or_say_why(mine, g, kind + (f" from {since.isoformat()}" if since else ""))
            large_pts += [p for p in big if p not in large_pts]
        if find_breaks:
            try:
                found.append(find_break(pts, metric=metric, group=g).to_dict())
            except InputError as err:
                unfitted.append({"group": g, "segment": "break search", "n": len(pts),
                                 "reason": err.message})
    if not fits:
        raise InputError(unfitted[0]["reason"] if unfitted else "nothing to fit",
                         file=data.source)
    large_pts.sort(key=lambda p: p.date)
    large_names = list(dict.fromkeys(p.name for p in large_pts))
    given = [{"kind": "given", "date": b.isoformat()} for b in sorted(breaks)]
    gap_out = gap(data.points, *gap_band, since=gap_since) if gap_band else None
    if gap_out is not None:
        gap_out["metric"] = metric
    method = METHOD.format(what=METRICS[metric], level=level * 100, resamples=resamples,
                           seed=seed)
    return Trends(data=data, method=method, fits=fits, unfitted=unfitted,
                  breaks=given + found, large_scale=large_names, large_scale_points=large_pts,
                  gap=gap_out, groups=groups, seed=seed)


def trends(sources: Sequence[str | Path] | str | Path | None = None, *, metric: str = "params",
           domains: Iterable[str] | None = None, since=None, until=None,
           notable_only: bool = False, breaks: Sequence = (), by_domain: bool = False,
           find_breaks: bool = False, large_scale: bool = False, large_scale_since=None,
           gap: Optional[tuple[float, float]] = None, gap_since="2020-01-01", seed: int = 0,
           resamples: int = RESAMPLES, level: float = CI_LEVEL) -> Trends:
    """``from estimator import trends``: load, select and analyse in one call. Dates may be
    strings ('2022-01-31', '2010') or ``datetime.date``; ``since`` takes a period's first day,
    ``until`` its last."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    data = select(load(sources, metric), domains=domains, since=first_day(since, "since"),
                  until=last_day(until, "until"), notable_only=notable_only)
    return analyse(data, breaks=[first_day(b, "breaks") for b in breaks], by_domain=by_domain,
                   find_breaks=find_breaks, large=large_scale,
                   large_since=first_day(large_scale_since, "large-scale-since"),
                   gap_band=gap, gap_since=first_day(gap_since, "gap-since"), seed=seed,
                   resamples=resamples, level=level)


def first_day(value, option: str) -> Optional[_dt.date]:
    """The first day of a date option's period ('2010' -> 2010-01-01)."""
    period = _option_date(value, option)
    return period[0] if period else None


def last_day(value, option: str) -> Optional[_dt.date]:
    """The last day of a date option's period ('2021' -> 2021-12-31)."""
    period = _option_date(value, option)
    return period[1] if period else None


def _option_date(value, option):
    if value is None:
        return None
    try:
        return date_range(value, what=f"--{option}")
    except InputError as err:
        raise InputError(err.message) from None


def parse_band(text: str) -> tuple[float, float]:
    """'20e9,70e9' or '20B,70B' -> (2e10, 7e10) for --gap."""
    parts = [s for s in str(text).split(",")]
    if len(parts) != 2:
        raise InputError(f"--gap {text!r}: expected LOW,HIGH such as 20e9,70e9")
    try:
        lo, hi = (parse_cell(s, what="--gap") for s in parts)
    except InputError as err:
        raise InputError(f"--gap {text!r}: {err.message}") from None
    if lo is None or hi is None or not lo.is_point or not hi.is_point:
        raise InputError(f"--gap {text!r}: expected LOW,HIGH such as 20e9,70e9")
    if not 0 < lo.low < hi.low:
        raise InputError(f"--gap {text!r}: expected 0 < LOW < HIGH")
    return lo.low, hi.low
