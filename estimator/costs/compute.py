"""Training compute, both standard ways, with honest ranges.

* Operation counting: ``forward FLOPs x (1 + backward ratio) x examples seen`` (backward ratio
  2 by default: the backward pass costs about twice the forward), plus, for transformers,
  ``6·N·D`` beside it (N = active parameters, D = training tokens), plus forward-only passes
  spent generating data (self-play, inference).
* The hardware method: ``chips x peak FLOP/s x utilisation x runs x time``, the peak being the
  dense figure of ``hardware/accelerators.yaml`` at the chosen precision.

Every input may be a range (``0.3-0.5``, ``80-95``): results are intervals whose central value
is the geometric mean. When both methods have inputs, the implied utilisation (counted FLOP
over what the hardware could do at 100%) is checked: above 1 is impossible, below 0.05 or above
0.8 is suspicious. The library returns data; :mod:`estimator.report.compute` formats it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import InputError, PCError
from ..units import Interval, fmt_interval, fmt_quantity, parse_range, sci

class Discrepancy(PCError):
    """The two methods cannot both be right (implied utilisation above 1): exit code 1."""

    exit_code = 1


DEFAULT_UTILISATION = 0.3
DEFAULT_BACKWARD_RATIO = 2.0
# The one plausible range of a training run's utilisation, for `train`, `compute` and `verify`
# alike. Above 0.8: more than any large training run reports. The best published model FLOPs
# utilisation is PaLM's 46.2 % (hardware FLOPs utilisation 57.8 %) on TPU v4 (Chowdhery et al.,
# "PaLM: Scaling Language Modeling with Pathways", JMLR 2023, arXiv:2204.02311, Table 3, which
# also lists GPT-3 21.3 %, Gopher 32.5 %, Megatron-Turing NLG 30.2 %); Narayanan et al., "Efficient
# Large-Scale Language Model Training on GPU Clusters Using Megatron-LM", SC'21, arXiv:2104.04473,
# report 52 % of the A100's peak at 1T parameters (abstract). 0.8 leaves room above those
# for small models and for peaks a curator took at a lower precision. Below 0.05: more hardware
# or time than the work needs (other runs, data generation, idle chips).
SUSPICIOUS_LOW = 0.05
SUSPICIOUS_HIGH = 0.8

# time inputs: name -> (seconds per unit, summed over chips already?, how it reads)
WALL_CLOCK = {"seconds": (1, "s"), "hours": (3600, "hours"), "days": (86400, "days")}
CHIP_TIME = {"gpu_hours": (3600, "GPU-hours"), "gpu_days": (86400, "GPU-days"),
             "chip_hours": (3600, "chip-hours"), "chip_days": (86400, "chip-days")}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _range(value, name: str, *, at_most: float | None = None) -> Optional[Interval]:
    if value is None:
        return None
    return parse_range(value, what=_flag(name), key=None, at_most=at_most)


def _whole(iv: Interval, name: str) -> Interval:
    """Chips and runs are counted in whole units: 1.5 chips is a typo, not a quantity."""
    for v in (iv.low, iv.high):
        if not float(v).is_integer():
            raise InputError(f"{_flag(name)} must be a whole number, got {v:g}")
    return iv


# ------------------------------------------------------------------------- hardware method

_PRECISION_SYNONYMS = {
    "float64": "fp64", "double": "fp64", "float32": "fp32", "single": "fp32",
    "tensorfloat32": "tf32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16",
    "float8": "fp8", "int8": "int8", "i8": "int8",
}


def _precision_name(text: str) -> str:
    """'FP16', 'bfloat16', 'half' -> the table's name (fp16, bf16...); InputError if unknown."""
    from .hardware import PRECISIONS, normalise

    key = normalise(text)
    name = key if key in PRECISIONS else _PRECISION_SYNONYMS.get(key)
    if name is None:
        raise InputError(f"unknown precision {text!r}: one of {', '.join(PRECISIONS)}",
                         key="precision")
    return name


@dataclass
class HardwareEstimate:
    """chips x peak x utilisation x runs x time, each an Interval (a point when exact)."""

    hardware: Optional[Any]          # the Accelerator row (None with a custom --peak only)
    precision: str                   # fp16, bf16, ... or 'custom'
    precision_defaulted: bool
    peak: Interval                   # FLOP/s per entry (per board for a board)
    units: Optional[Interval]        # chips (or boards) running at once; None with chip-time
    unit_word: str                   # 'chips' or 'boards' or 'systems'
    seconds: Optional[Interval]      # wall-clock per run
    chip_seconds: Interval           # summed over the chips, per run
    time_text: str                   # how the time was given: '7.3e6 s', '256 GPU-days'
    utilisation: Interval
    runs: Interval
    flops: Interval
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def capacity(self) -> Interval:
        """FLOP the hardware could do at 100% utilisation: peak x chip-seconds x runs."""
        return self.peak * self.chip_seconds * self.runs

    def factors(self) -> list[tuple[Interval, str]]:
        """The factors of the curator's product, in the order they are written."""
        out: list[tuple[Interval, str]] = []
        if self.units is not None:
            out.append((self.units, self.unit_word))
        out.append((self.peak, "FLOP/s"))
        out.append((self.utilisation, "utilisation"))
        if not (self.runs.is_point and self.runs.low == 1):
            out.append((self.runs, "runs"))
        if self.units is not None:
            out.append((self.seconds, "s"))
        else:
            out.append((self.chip_seconds, "chip-s"))
        return out

    def arithmetic(self) -> str:
        """'(8 chips)(4.20e14 FLOP/s)(0.1 utilisation)(32 runs)(7.3e6 s) = 7.8e22 FLOP'."""
        parts = []
        if self.units is None:  # chip-time: show what was given, then the seconds
            parts.append(f"({self.time_text} = {fmt_interval(self.chip_seconds)} chip-s)")
        for value, unit in self.factors():
            if unit == "chip-s":
                continue
            fmt = (lambda v: sci(v, 3)) if unit == "FLOP/s" else fmt_quantity
            parts.append(f"({fmt_interval(value, fmt)} {unit})")
        return "".join(parts) + f" = {fmt_flops(self.flops)}"

    def to_dict(self) -> dict:
        hw = self.hardware
        return {
            "hardware": hw.id if hw else None,
            "hardware_name": hw.name if hw else None,
            "kind": hw.kind if hw else None,
            "chips_per_entry": hw.chips if hw else None,
            "precision": self.precision,
            "precision_defaulted": self.precision_defaulted,
            "peak_flops_per_entry": self.peak.to_dict(),
            "entries": self.units.to_dict() if self.units else None,
            "entry_word": self.unit_word,
            "seconds_per_run": self.seconds.to_dict() if self.seconds else None,
            "chip_seconds_per_run": self.chip_seconds.to_dict(),
            "time_given": self.time_text,
            "utilisation": self.utilisation.to_dict(),
            "runs": self.runs.to_dict(),
            "flops": self.flops.central, "low": self.flops.low, "high": self.flops.high,
            "arithmetic": self.arithmetic(),
            "assumptions": list(self.assumptions),
            "notes": list(self.notes),
        }


def fmt_flops(iv: Interval) -> str:
    if iv.is_point:
        return f"{sci(iv.low)} FLOP"
    return f"{sci(iv.low)}-{sci(iv.high)} FLOP (central {sci(iv.central)})"


def hardware_method(*, hardware: Optional[str] = None, chips=None, seconds=None, hours=None,
                    days=None, gpu_hours=None, gpu_days=None, chip_hours=None, chip_days=None,
                    precision: Optional[str] = None, utilisation=None, runs=None,
                    peak=None, table=None) -> HardwareEstimate:
    """The hardware method. ``peak`` (FLOP/s per chip) overrides the table's figure."""
    from .hardware import boards_of, load_table

    assumptions: list[str] = []
    notes: list[str] = []
    acc = None
    if hardware is not None:
        table = table or load_table()
        acc = table.lookup(hardware)
    elif peak is None:
        raise InputError("the hardware method needs --hardware (or --peak FLOP/s)")

    # the peak
    if peak is not None:
        peak_iv = _range(peak, "peak")
        prec, defaulted = (precision or "custom"), False
        assumptions.append(f"peak {fmt_interval(peak_iv, lambda v: sci(v, 3))} FLOP/s per "
                           f"{'entry' if acc is None else acc.kind} as given (--peak), not from the table")
    else:
        defaulted = precision is None
        prec = _precision_name(precision) if precision is not None else (acc.default or "")
        if not prec:
            raise InputError(f"{acc.name} has no dense peak in the table (see 'paramcount "
                             f"hardware {acc.id}'): pass --peak FLOP/s with a figure you can "
                             "source", key="hardware")
        if prec not in acc.peak:
            have = ", ".join(acc.precisions) or "none"
            raise InputError(f"{acc.name} has no {prec} peak in the table (it has: {have})",
                             key="precision")
        peak_iv = acc.peak_flops(prec)
        how = ("default: best dense 16-bit tensor figure" if acc.matrix_units and prec in ("fp16", "bf16")
               else "default: no fast 16-bit units, so fp32" if prec == "fp32" else "default")
        assumptions.append(f"precision {prec}" + (f" ({how})" if defaulted else " (given)")
                           + f": dense peak {fmt_interval(peak_iv, lambda v: sci(v, 3))} FLOP/s per {acc.kind}")
        if not peak_iv.is_point:
            notes.append(f"{acc.name}: the table gives its {prec} peak as a range "
                         "(no single published figure)")
    if acc is not None:
        if acc.kind == "board":
            chip = table.by_id.get(acc.chip) if acc.chip else None
            per_chip = peak_iv / acc.chips
            notes.append(f"{acc.id} is a BOARD of {acc.chips} chips: its peak "
                         f"{fmt_interval(peak_iv, lambda v: sci(v, 3))} FLOP/s is for the whole board "
                         f"(/ {acc.chips} = {fmt_interval(per_chip, lambda v: sci(v, 3))} per chip); "
                         "--chips counts boards"
                         + (f"; for single chips use --hardware {chip.id} (its own datasheet figure)"
                            if chip else ""))
        else:
            for board in boards_of(acc, table):
                notes.append(f"{acc.id} is ONE chip; a {board.id} board of {board.chips} of them is "
                             f"{sci(board.peak_flops(board.default).central, 3)} FLOP/s: if the source "
                             f"counts boards (many papers call a board 'a TPU' or 'a GPU'), use "
                             f"--hardware {board.id}")
        if acc.note and ("CRIPPLED" in acc.note or "CAVEAT" in acc.note) and prec in ("fp16", "bf16"):
            notes.append(f"{acc.name}: {acc.note}")
        if prec == "int8":
            notes.append("int8 is an integer rate (OP/s): training rarely runs at int8")

    # time
    given = {name: v for name, v in dict(seconds=seconds, hours=hours, days=days, gpu_hours=gpu_hours,
                                         gpu_days=gpu_days, chip_hours=chip_hours,
                                         chip_days=chip_days).items() if v is not None}
    if not given:
        raise InputError("the hardware method needs a time: --seconds/--hours/--days (wall-clock, "
                         "times --chips) or --gpu-hours/--gpu-days/--chip-hours (summed over chips)")
    if len(given) > 1:
        raise InputError("give one time, not several: " + ", ".join(_flag(n) for n in given))
    (tname, tvalue), = given.items()
    t_iv = _range(tvalue, tname)
    word = acc.kind + "s" if acc is not None else "chips"
    if tname in WALL_CLOCK:
        scale, unit = WALL_CLOCK[tname]
        secs = t_iv * scale
        if chips is None:
            units_iv = Interval.of(1)
            assumptions.append(f"1 {acc.kind if acc else 'chip'} (no --chips given)")
        else:
            units_iv = _whole(_range(chips, "chips"), "chips")
        chip_secs = units_iv * secs
        time_text = f"{fmt_interval(t_iv)} {unit} wall-clock"
    else:
        if chips is not None:
            raise InputError(f"{_flag(tname)} is already summed over chips: drop --chips, or give "
                             "wall-clock time (--days, --hours, --seconds) with --chips")
        scale, unit = CHIP_TIME[tname]
        secs, units_iv = None, None
        chip_secs = t_iv * scale
        time_text = f"{fmt_interval(t_iv)} {unit}"
        if acc is not None and acc.kind != "chip":
            notes.append(f"{unit} are counted in entries of the table: here {acc.kind}-time of {acc.id}")

    # utilisation, runs
    if utilisation is None:
        util_iv = Interval.of(DEFAULT_UTILISATION)
        assumptions.append(f"utilisation {DEFAULT_UTILISATION} (default; give --utilisation)")
    else:
        util_iv = _range(utilisation, "utilisation", at_most=1.0)
        assumptions.append(f"utilisation {fmt_interval(util_iv)} (given)")
    runs_iv = Interval.of(1) if runs is None else _whole(_range(runs, "runs"), "runs")

    flops = peak_iv * chip_secs * util_iv * runs_iv
    return HardwareEstimate(hardware=acc, precision=prec, precision_defaulted=defaulted,
                            peak=peak_iv, units=units_iv, unit_word=word, seconds=secs,
                            chip_seconds=chip_secs, time_text=time_text, utilisation=util_iv,
                            runs=runs_iv, flops=flops, assumptions=assumptions, notes=notes)


# ---------------------------------------------------------------------- operation counting

@dataclass
class CountingEstimate:
    """forward x (1 + backward ratio) x examples seen, 6·N·D beside it, plus data generation."""

    name: str
    forward_flops: int                # one forward pass of the spec's declared input
    seq_len: Optional[int]            # T when the input is a token sequence
    params: int
    active_params: int
    transformer: bool
    moe: bool
    backward_ratio: float
    examples_seen: Interval           # forward inputs (sequences, images) seen in training
    tokens_seen: Optional[Interval]   # examples x T for sequence models
    training_flops: Interval          # forward x (1 + ratio) x examples
    six_nd: Optional[Interval]        # 6 x N x D for transformers
    generation_passes: Optional[Interval]
    generation_flops: Optional[Interval]
    inputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    published: Optional[dict] = None  # the spec's published training_compute {value, source}
    ratio_source: Optional[str] = None  # where a measured backward ratio came from

    @property
    def conventional_flops(self) -> Interval:
        """The same count with the conventional backward ratio 2 (3 x forward x examples)."""
        return self.examples_seen * (self.forward_flops * (1 + DEFAULT_BACKWARD_RATIO))

    @property
    def total(self) -> Interval:
        return self.training_flops + (self.generation_flops or Interval.of(0))

    @property
    def ratio_to_6nd(self) -> Optional[float]:
        if not self.six_nd:
            return None
        return self.training_flops.central / self.six_nd.central

    def arithmetic(self) -> str:
        mult = fmt_quantity(1 + self.backward_ratio)
        return (f"({mult})({sci(self.forward_flops, 4)} FLOP/forward)"
                f"({fmt_interval(self.examples_seen)} {'sequences' if self.seq_len else 'examples'})"
                f" = {fmt_flops(self.training_flops)}")

    def six_nd_arithmetic(self) -> Optional[str]:
        if not self.six_nd:
            return None
        return (f"6 x {sci(self.active_params, 4)} x {fmt_interval(self.tokens_seen)} tokens "
                f"= {fmt_flops(self.six_nd)}")

    def to_dict(self) -> dict:
        t = self.total
        return {
            "name": self.name, "forward_flops": self.forward_flops, "seq_len": self.seq_len,
            "params": self.params, "active_params": self.active_params,
            "transformer": self.transformer, "moe": self.moe,
            "backward_ratio": self.backward_ratio,
            "examples_seen": self.examples_seen.to_dict(),
            "tokens_seen": self.tokens_seen.to_dict() if self.tokens_seen else None,
            "training_flops": self.training_flops.to_dict(),
            "arithmetic": self.arithmetic(),
            "six_nd": self.six_nd.to_dict() if self.six_nd else None,
            "six_nd_arithmetic": self.six_nd_arithmetic(),
            "ratio_to_6nd": self.ratio_to_6nd,
            "generation_passes": self.generation_passes.to_dict() if self.generation_passes else None,
            "generation_flops": self.generation_flops.to_dict() if self.generation_flops else None,
            "flops": t.central, "low": t.low, "high": t.high,
            "published": self.published, "ratio_source": self.ratio_source,
            "conventional_flops": self.conventional_flops.central,
            "inputs": list(self.inputs), "notes": list(self.notes),
        }


def _as_result(model):
    from ..count import CountResult

    if isinstance(model, CountResult):
        return model
    from ..analytic import analyze, load_spec

    return analyze(load_spec(model))


def operation_counting(model, *, tokens=None, examples=None, epochs=None,
                       backward_ratio: float = DEFAULT_BACKWARD_RATIO, generation_passes=None,
                       generation_tokens=None,
                       ratio_source: Optional[str] = None) -> CountingEstimate:
    """Count training FLOPs of a spec (path, Spec or CountResult)."""
    result = _as_result(model)
    F = int(result.forward_flops)
    T = result.tokens
    kinds = set(result.extra.get("kinds") or [])
    transformer = bool(kinds & {"attention", "moe"})
    moe = "moe" in kinds
    if F <= 0:
        raise InputError(f"{result.name}: the spec has no forward FLOPs to count")
    try:
        ratio = float(backward_ratio)
    except (TypeError, ValueError):
        raise InputError(f"--backward-ratio must be a number, got {backward_ratio!r}") from None
    if not ratio >= 0:
        raise InputError(f"--backward-ratio must be 0 or more, got {backward_ratio!r}")
    inputs: list[str] = []
    notes: list[str] = []
    if tokens is not None and examples is not None:
        raise InputError("give --tokens or --examples, not both")
    if tokens is None and examples is None:
        raise InputError("operation counting needs what training saw: --tokens D (sequence "
                         "models) or --examples N [--epochs E]")
    ep = _range(epochs, "epochs") or Interval.of(1)
    if tokens is not None:
        if not T:
            raise InputError(f"{result.name} does not take a token sequence: give --examples "
                             "(and --epochs) instead of --tokens")
        tok = _range(tokens, "tokens") * ep
        ex = tok / T
        inputs.append(f"{fmt_interval(tok)} tokens seen = {fmt_interval(ex)} sequences of {T} tokens")
    else:
        ex = _range(examples, "examples") * ep
        tok = ex * T if T else None
        inputs.append(f"{fmt_interval(_range(examples, 'examples'))} examples x "
                      f"{fmt_interval(ep)} epochs = {fmt_interval(ex)} examples seen")
    if epochs is not None and tokens is not None:
        inputs.append(f"--tokens per epoch x {fmt_interval(ep)} epochs")
    training = ex * (F * (1 + ratio))
    inputs.append(f"backward/forward ratio {fmt_quantity(ratio, 6)}" + (
        f" ({ratio_source})" if ratio_source else
        " (default)" if ratio == DEFAULT_BACKWARD_RATIO else " (given)"))

    six = None
    if transformer and tok is not None:
        six = tok * (6 * result.active_params)
        if moe:
            notes.append(f"MoE: 6·N·D uses the active parameters N = {sci(result.active_params, 4)} "
                         f"(total {sci(result.params, 4)})")
    elif transformer:
        notes.append("6·N·D needs a token count: the spec's input is not a token sequence")

    gen_passes = gen_flops = None
    if generation_passes is not None and generation_tokens is not None:
        raise InputError("give --generation-passes or --generation-tokens, not both")
    if generation_passes is not None:
        gen_passes = _range(generation_passes, "generation_passes")
    elif generation_tokens is not None:
        if not T:
            raise InputError(f"{result.name} does not take a token sequence: give "
                             "--generation-passes (forward passes of one input) instead")
        gen_passes = _range(generation_tokens, "generation_tokens") / T
    if gen_passes is not None:
        gen_flops = gen_passes * F
        inputs.append(f"data generation: {fmt_interval(gen_passes)} forward-only passes")

    published = None
    pub = (result.extra.get("published") or {}).get("training_compute")
    if isinstance(pub, dict) and pub.get("value") is not None:
        try:
            published = {"value": parse_range(pub["value"], what="published training_compute").central,
                         "source": pub.get("source"),
                         # a model changed by overrides (--set) is not the published one
                         "modified": dict(result.extra.get("overrides") or {})}
        except InputError:
            published = None

    return CountingEstimate(published=published, name=result.name, forward_flops=F, seq_len=T, params=result.params,
                            active_params=result.active_params, transformer=transformer, moe=moe,
                            backward_ratio=ratio, examples_seen=ex, tokens_seen=tok,
                            training_flops=training, six_nd=six, generation_passes=gen_passes,
                            generation_flops=gen_flops, inputs=inputs, notes=notes,
                            ratio_source=ratio_source)


# ------------------------------------------------------------------------------ together

@dataclass
class TrainingCompute:
    """What ``training_compute`` returns: either method or both, with a verdict when both."""

    counting: Optional[CountingEstimate] = None
    hardware: Optional[HardwareEstimate] = None
    implied_utilisation: Optional[Interval] = None
    verdict: Optional[str] = None        # 'plausible', 'suspicious', 'impossible'
    verdict_reason: Optional[str] = None

    @property
    def estimate(self) -> Interval:
        """The headline: operation counting when available (exact arithmetic), else hardware."""
        return self.counting.total if self.counting else self.hardware.flops

    @property
    def flops(self) -> float:
        return self.estimate.central

    @property
    def low(self) -> float:
        return self.estimate.low

    @property
    def high(self) -> float:
        return self.estimate.high

    @property
    def method(self) -> str:
        return "operation counting" if self.counting else "hardware method"

    @property
    def assumptions(self) -> list[str]:
        out = []
        if self.counting:
            out += self.counting.inputs
        if self.hardware:
            out += self.hardware.assumptions
        return out

    def to_dict(self) -> dict:
        iu = self.implied_utilisation
        return {
            "method": self.method,
            "flops": self.flops, "low": self.low, "high": self.high,
            "assumptions": self.assumptions,
            "counting": self.counting.to_dict() if self.counting else None,
            "hardware": self.hardware.to_dict() if self.hardware else None,
            "implied_utilisation": iu.to_dict() if iu else None,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
        }


def fmt_utilisation(iu: Interval) -> str:
    """0.344, 0.286-0.344, 2.99e4."""
    return fmt_interval(iu, lambda v: f"{v:.3g}" if v < 1000 else sci(v, 3))


def judge_utilisation(iu: Interval, *, low: float = SUSPICIOUS_LOW,
                      high: float = SUSPICIOUS_HIGH) -> tuple[str, str]:
    """Verdict on an implied utilisation: above 1 impossible; below ``low`` (0.05) or above
    ``high`` (0.8) suspicious: one range for ``train``, ``compute`` and ``verify`` (the
    sources are at :data:`SUSPICIOUS_HIGH`)."""
    c = iu.central
    text = fmt_utilisation(iu)
    if c > 1:
        return "impossible", (f"implied utilisation {text} is above 1: the hardware cannot "
                              "do the counted work in that time")
    if c < low:
        return "suspicious", (f"implied utilisation {text} is below {low}: more "
                              "hardware or time than the counted work needs (other runs, data generation?)")
    if c > high:
        return "suspicious", (f"implied utilisation {text} is above {high}: more "
                              "than real training reaches")
    extra = " (but part of the range is above 1)" if iu.high > 1 else ""
    return "plausible", f"implied utilisation {text} lies in {low}-{high}{extra}"


def training_compute(model=None, *, tokens=None, examples=None, epochs=None,
                     backward_ratio: float = DEFAULT_BACKWARD_RATIO, generation_passes=None,
                     generation_tokens=None, hardware: Optional[str] = None, chips=None,
                     seconds=None, hours=None, days=None, gpu_hours=None, gpu_days=None,
                     chip_hours=None, chip_days=None, precision: Optional[str] = None,
                     utilisation=None, runs=None, peak=None,
                     ratio_source: Optional[str] = None) -> TrainingCompute:
    """Training compute by operation counting (``model`` + tokens/examples), by the hardware
    method (``hardware`` + time), or both with the implied utilisation and a verdict.

    Any quantity may be a number, a string ('300e9', '1.2M', '80-95') or a (low, high) pair.

    >>> tc = training_compute(hardware="tpu-v3-8", chips=8, utilisation=0.1, runs=32,
    ...                       seconds=7.3e6)
    >>> f"{tc.flops:.2e}"
    '7.85e+22'
    """
    hw_inputs = dict(hardware=hardware, chips=chips, seconds=seconds, hours=hours, days=days,
                     gpu_hours=gpu_hours, gpu_days=gpu_days, chip_hours=chip_hours,
                     chip_days=chip_days, precision=precision, utilisation=utilisation, runs=runs,
                     peak=peak)
    want_hw = any(v is not None for v in hw_inputs.values())
    counting_inputs = (tokens, examples, epochs, generation_passes, generation_tokens)
    if model is None and any(v is not None for v in counting_inputs):
        raise InputError("--tokens/--examples need a spec to count (paramcount train SPEC ...)")
    if model is None and not want_hw:
        raise InputError("nothing to estimate: give a spec with --tokens/--examples (operation "
                         "counting) or --hardware with a time (hardware method)")
    counting = None
    if model is not None:
        counting = operation_counting(model, tokens=tokens, examples=examples, epochs=epochs,
                                      backward_ratio=backward_ratio,
                                      generation_passes=generation_passes,
                                      generation_tokens=generation_tokens,
                                      ratio_source=ratio_source)
    hw = hardware_method(**hw_inputs) if want_hw else None
    out = TrainingCompute(counting=counting, hardware=hw)
    if counting and hw:
        iu = counting.total / hw.capacity
        out.implied_utilisation = iu
        out.verdict, out.verdict_reason = judge_utilisation(iu)
    return out
