"""Units: FLOP = 2 x MAC, and SI parsing/formatting of counts and durations.

Parsing accepts what people write: ``3.1e23``, ``175B``, ``1.2M``, ``300e9``, ``7.8e22``,
``1,000``, ``4.2 T``. Formatting gives ``61.0M``, ``1.45 GFLOP``.
"""
from __future__ import annotations

import math
import re

from .errors import InputError

FLOPS_PER_MAC = 2

_SUFFIX = {
    "": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}
# The patterns of this module are compiled on first use (by re.match and re.sub, which cache
# them): most commands parse no number, and compiling them all costs a start-up.
_NUM = r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKMGBTPE]?)\s*$"


def macs_from_flops(flops: int) -> int:
    return flops // FLOPS_PER_MAC


def parse_number(text: str | float | int, *, what: str = "number") -> float:
    """Parse '175B', '3.1e23', '1,200', '4.2T' into a float. Raises InputError."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).replace(",", "").replace("_", "")
    m = re.match(_NUM, s)
    if not m:
        raise InputError(f"cannot read {what} {text!r}: expected a number like 300e9, 1.2M or 175B")
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def si(value: float, unit: str = "", digits: int = 3) -> str:
    """Format with an SI prefix: si(60965224) -> '61.0M', si(1.4488e9, 'FLOP') -> '1.45 GFLOP'.

    Without a unit the short suffixes k/M/B/T are used for counts (B for 1e9, as in '175B');
    with a unit, SI prefixes (G for 1e9).
    """
    if value == 0:
        return f"0 {unit}".strip()
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    prefixes = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G" if unit else "B"),
                (1e6, "M"), (1e3, "k")]
    for scale, p in prefixes:
        if v >= scale * 0.9995:
            num = v / scale
            break
    else:
        scale, p, num = 1, "", v
    if num >= 100 or (p == "" and float(num).is_integer()):
        body = f"{num:.0f}" if p else f"{num:g}"
    else:
        decimals = max(digits - 1 - int(math.floor(math.log10(num))), 0) if num else 0
        body = f"{num:.{decimals}f}"
    return f"{sign}{body} {p}{unit}".strip() if unit else f"{sign}{body}{p}"


def sci(value: float, digits: int = 2) -> str:
    """Scientific notation as curators write it: 7.8e22."""
    if value == 0:
        return "0"
    mant, exp = f"{value:.{digits - 1}e}".split("e")
    return f"{mant}e{int(exp)}"


# ---- ranges (appended for training compute, issue 6) -------------------------------------

from dataclasses import dataclass as _dataclass  # noqa: E402

_NUM_BODY = r"(?:\d[\d,_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*[kKMGBTPE]?"
_RANGE = rf"^\s*({_NUM_BODY})\s*(?:-|–|—|\.\.|\bto\b)\s*({_NUM_BODY})\s*$"


@_dataclass(frozen=True)
class Interval:
    """A quantity known to lie in [low, high]; a point when low == high.

    The central value is the geometric mean sqrt(low x high): the natural middle of a
    quantity that is uncertain by a factor (a range of 1e22-1e24 is centred on 1e23).
    Products of intervals of positive quantities multiply the ends.
    """

    low: float
    high: float

    @classmethod
    def of(cls, value) -> "Interval":
        if isinstance(value, Interval):
            return value
        if isinstance(value, (tuple, list)) and len(value) == 2:
            return cls(float(value[0]), float(value[1]))
        return cls(float(value), float(value))

    @property
    def central(self) -> float:
        if self.low == self.high:
            return self.low
        if self.low > 0 and self.high > 0:
            return math.sqrt(self.low * self.high)
        return (self.low + self.high) / 2

    @property
    def is_point(self) -> bool:
        return self.low == self.high

    def __mul__(self, other) -> "Interval":
        o = Interval.of(other)
        ends = [self.low * o.low, self.low * o.high, self.high * o.low, self.high * o.high]
        return Interval(min(ends), max(ends))

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Interval":
        o = Interval.of(other)
        if o.low <= 0 <= o.high:
            raise ZeroDivisionError("interval division by a range containing 0")
        ends = [self.low / o.low, self.low / o.high, self.high / o.low, self.high / o.high]
        return Interval(min(ends), max(ends))

    def __add__(self, other) -> "Interval":
        o = Interval.of(other)
        return Interval(self.low + o.low, self.high + o.high)

    __radd__ = __add__

    def to_dict(self) -> dict:
        return {"low": self.low, "central": self.central, "high": self.high}


def parse_range(text, *, what: str = "value", key: str | None = None,
                positive: bool = True, at_most: float | None = None) -> Interval:
    """Parse '0.3', '0.3-0.5', '80-95', '1e22-3e22', '2 to 4', (lo, hi) or an Interval.

    Raises InputError (with ``key``) for unparseable text, low > high, a non-positive value
    when ``positive`` or a value above ``at_most``.
    """
    if isinstance(text, Interval):
        iv = text
    elif isinstance(text, (tuple, list)):
        if len(text) != 2:
            raise InputError(f"{what}: a range needs exactly two ends, got {list(text)!r}", key=key)
        iv = Interval(_num(text[0], what, key), _num(text[1], what, key))
    elif isinstance(text, (int, float)) and not isinstance(text, bool):
        iv = Interval.of(text)
    else:
        s = str(text).strip()
        m = re.match(_RANGE, s)
        if m:
            iv = Interval(_num(m.group(1), what, key), _num(m.group(2), what, key))
        else:
            try:
                v = parse_number(s, what=what)
            except InputError:
                raise InputError(
                    f"cannot read {what} {text!r}: expected a number (300e9, 1.2M, 0.3) "
                    f"or a range (0.3-0.5, 80-95)", key=key) from None
            iv = Interval(v, v)
    if not (math.isfinite(iv.low) and math.isfinite(iv.high)):
        raise InputError(f"{what} must be finite, got {text!r}", key=key)
    if iv.low > iv.high:
        raise InputError(f"{what} range {text!r} has its low end above its high end", key=key)
    if positive and iv.low <= 0:
        raise InputError(f"{what} must be positive, got {text!r}", key=key)
    if at_most is not None and iv.high > at_most:
        raise InputError(f"{what} must be at most {at_most:g}, got {text!r}", key=key)
    return iv


def _num(text, what, key) -> float:
    try:
        return parse_number(text, what=what)
    except InputError:
        raise InputError(f"cannot read {what} {text!r}: expected a number like 0.3 or 7.3e6",
                         key=key) from None


def fmt_quantity(value: float, sig: int = 3) -> str:
    """A factor as a curator writes it: 8, 0.1, 32, 7.3e6, 4.20e14 (at most ``sig`` digits)."""
    v = float(value)
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e5:
        return str(int(v))
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.{sig}g}"
    mant, exp = f"{v:.{sig - 1}e}".split("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def fmt_interval(iv: "Interval", fmt=None) -> str:
    fmt = fmt or fmt_quantity
    return fmt(iv.low) if iv.is_point else f"{fmt(iv.low)}-{fmt(iv.high)}"


# ---- spreadsheet cells (appended for paramcount verify, issue 14) -------------------------

# What people put in a cell that means "no figure".
BLANK_CELLS = frozenset({"", "-", "–", "—", "?", "??", "n/a", "na", "nan", "none", "null", "unknown",
                         "unk", "tbd", "not known", "not reported", "undisclosed", "#n/a"})
_APPROX = (r"(?i)^(?:~|≈|∼|≃|approx\.?|approximately|about|around|ca\.?|circa|c\.|"
           r">=|<=|>|<|≥|≤)\s*")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_TIMES_TEN = r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?:[x×*·]|\\times)\s*10\s*(?:\^|\*\*)?\s*([+-]?\d+)$"
_UNIT_WORD = (r"(?i)\s*(?:flop/s|flops?|parameters|params|tokens|datapoints|hours|hrs?|h|"
              r"epochs?|chips?|gpus?)\.?$")
_DIGIT_SPACE = r"(?<=\d)[\s\u00a0\u202f\u2009'](?=\d{3}\b)"


def parse_cell(text, *, what: str = "value") -> Interval | None:
    """A spreadsheet cell as a number or a range, as curators type them.

    ``None`` for a blank ('', 'n/a', 'unknown', '-'); an :class:`Interval` for '1.2e23',
    '~3e22', '≈ 3.1E+23', '175B', '1.6T', '1,750,000', '1 750 000', '3.14×10^23', '3.14 x 10²³',
    '45%' (0.45), '1e22-3e22', '80 hours' (a trailing unit word is dropped). Approximation
    marks (~, ≈, about, >, <) are read as the value itself. Signs are kept: a zero or negative
    figure parses (the caller judges it). Text that is none of these raises InputError.
    """
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if not math.isfinite(text):
            raise InputError(f"cannot read {what} {text!r}: not a finite number")
        return Interval.of(float(text))
    s = " ".join(str(text).split())  # trailing spaces, tabs and line breaks inside a cell
    if s.lower() in BLANK_CELLS:
        return None
    try:  # the common case, a plain number ('3.1E+23', '1200')
        v = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(v):
            raise InputError(f"cannot read {what} {str(text).strip()!r}: not a finite number")
        return Interval.of(v)
    s = re.sub(_APPROX, "", s).translate(_SUPERSCRIPT).replace("−", "-")
    s = re.sub(_UNIT_WORD, "", s)
    s = re.sub(_DIGIT_SPACE, "", s)
    scale = 1.0
    if s.endswith("%"):
        s, scale = s[:-1].strip(), 0.01
    m = re.match(_TIMES_TEN, s)
    if m:
        return Interval.of(float(f"{m.group(1)}e{int(m.group(2))}") * scale)
    try:
        iv = parse_range(s, what=what, positive=False)
    except InputError:
        raise InputError(f"cannot read {what} {str(text).strip()!r}: expected a number such as "
                         "1.2e23, 175B or 3,000") from None
    return Interval(iv.low * scale, iv.high * scale)
