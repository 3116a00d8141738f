"""Compute-optimal model size and training tokens (torch-free).

Training compute C = 6·N·D (Kaplan et al. 2020 s2.1; Hoffmann et al. 2022 s3). The fits:

* **Chinchilla approaches 1 and 2** (Hoffmann et al. 2022, "Training Compute-Optimal Large
  Language Models", Table 2): N_opt ∝ C^a, D_opt ∝ C^b with a = 0.50 (0.488-0.502),
  b = 0.50 (0.501-0.512) for approach 1 (minimum over training curves) and a = 0.49
  (0.462-0.534), b = 0.51 (0.483-0.529) for approach 2 (IsoFLOP profiles). The paper
  publishes the exponents, not the intercepts; both lines are anchored at the Table 3
  projection for the Gopher budget (5.76e23 FLOPs -> 67B parameters, 1.5T tokens), and the
  exponent intervals give the range.
* **Chinchilla approach 3** (parametric loss L = E + A/N^α + B/D^β, section 3.3 eq. 10 and
  Appendix D.2: E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28): minimising L under
  C = 6ND gives N_opt = G·(C/6)^a, D_opt = G⁻¹·(C/6)^b with G = (αA/(βB))^(1/(α+β)),
  a = β/(α+β), b = α/(α+β) (eq. 4).
* **Besiroglu et al. 2024** ("Chinchilla Scaling: A replication attempt", arXiv:2404.10102,
  their refit of approach 3 on data reconstructed from Hoffmann et al.'s Figure 4):
  E = 1.8172, A = 482.01, B = 2085.43, α = 0.3478, β = 0.3658 -- about 20 tokens per parameter,
  consistent with approaches 1 and 2.

``plan(budget=C)`` gives N_opt, D_opt and D/N by each fit, with the range over the fits; with
``params=N`` (or ``tokens=D``) instead, the budget at which N (or D) is compute-optimal by
each fit. For a trained system, ``compare(N, D)`` shows how far its N and D are from the
compute-optimal ones at its own budget 6·N·D.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from ..errors import InputError

#: the budgets (FLOP) a plan is solved in: far outside anything trained (GPT-4 is about 2e25),
#: and inside float range for every fit's powers
MIN_BUDGET, MAX_BUDGET = 1.0, 1e40

GOPHER_BUDGET = 5.76e23   # Hoffmann et al. 2022, Table 3 (Gopher's compute)
GOPHER_N_OPT = 67e9       # Table 3: approach 1 projection at that budget


@dataclass(frozen=True)
class PowerFit:
    """N_opt = k·C^a (intervals on a give the range); D_opt = C / (6·N_opt)."""

    name: str
    source: str
    a: float
    a_low: float
    a_high: float

    def n_opt(self, c: float, a: Optional[float] = None) -> float:
        a = self.a if a is None else a
        return GOPHER_N_OPT * (c / GOPHER_BUDGET) ** a

    def budget_for_params(self, n: float) -> float:
        return GOPHER_BUDGET * (n / GOPHER_N_OPT) ** (1 / self.a)

    def n_range(self, c: float) -> tuple[float, float]:
        lo, hi = self.n_opt(c, self.a_low), self.n_opt(c, self.a_high)
        return min(lo, hi), max(lo, hi)


@dataclass(frozen=True)
class LossFit:
    """L(N, D) = E + A/N^α + B/D^β, minimised under C = 6ND (Hoffmann et al. eq. 4)."""

    name: str
    source: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float

    @property
    def a(self) -> float:
        return self.beta / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        return (self.alpha * self.A / (self.beta * self.B)) ** (1 / (self.alpha + self.beta))

    def n_opt(self, c: float) -> float:
        return self.G * (c / 6) ** self.a

    def budget_for_params(self, n: float) -> float:
        return 6 * (n / self.G) ** (1 / self.a)

    def loss(self, n: float, d: float) -> float:
        return self.E + self.A / n ** self.alpha + self.B / d ** self.beta

    def n_range(self, c: float) -> tuple[float, float]:
        n = self.n_opt(c)
        return n, n


FITS = (
    PowerFit("Chinchilla approach 1", "Hoffmann et al. 2022, Table 2 (a = 0.50, "
             "0.488-0.502), anchored at Table 3 (5.76e23 FLOPs -> 67B)", 0.50, 0.488, 0.502),
    PowerFit("Chinchilla approach 2", "Hoffmann et al. 2022, Table 2 (a = 0.49, "
             "0.462-0.534), anchored at Table 3 (5.76e23 FLOPs -> 67B)", 0.49, 0.462, 0.534),
    LossFit("Chinchilla approach 3", "Hoffmann et al. 2022, s3.3 eq. 10 (E 1.69, A 406.4, "
            "B 410.7, α 0.34, β 0.28)", 1.69, 406.4, 410.7, 0.34, 0.28),
    LossFit("Besiroglu et al. 2024", "Besiroglu et al. 2024, arXiv:2404.10102, refit of "
            "approach 3 (E 1.8172, A 482.01, B 2085.43, α 0.3478, β 0.3658)",
            1.8172, 482.01, 2085.43, 0.3478, 0.3658),
)


@dataclass
class Optimum:
    fit: str
    source: str
    budget: float
    params: float
    tokens: float
    params_low: float
    params_high: float

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def to_dict(self) -> dict:
        return {"fit": self.fit, "source": self.source, "budget": self.budget,
                "params": self.params, "tokens": self.tokens,
                "params_low": self.params_low, "params_high": self.params_high,
                "tokens_low": self.budget / (6 * self.params_high),
                "tokens_high": self.budget / (6 * self.params_low),
                "tokens_per_param": self.tokens_per_param}


@dataclass
class Plan:
    given: str                  # 'budget', 'params' or 'tokens'
    value: float
    optima: list[Optimum]
    system: Optional[dict] = None   # name, params, tokens, budget of a compared system
    notes: list[str] = field(default_factory=list)

    @property
    def params_range(self) -> tuple[float, float]:
        return (min(o.params for o in self.optima), max(o.params for o in self.optima))

    @property
    def tokens_range(self) -> tuple[float, float]:
        return (min(o.tokens for o in self.optima), max(o.tokens for o in self.optima))

    def to_dict(self) -> dict:
        out = {"given": self.given, "value": self.value,
               "optima": [o.to_dict() for o in self.optima],
               "params_range": list(self.params_range), "tokens_range": list(self.tokens_range),
               "notes": list(self.notes)}
        if self.system:
            out["system"] = self.system
        return out


def _optimum(fit, c: float) -> Optimum:
    n = fit.n_opt(c)
    lo, hi = fit.n_range(c)
    return Optimum(fit.name, fit.source, c, n, c / (6 * n), lo, hi)


def _solve_budget(fit, *, params=None, tokens=None) -> float:
    """The budget C at which ``params`` (or ``tokens``) is compute-optimal by ``fit``."""
    if params is not None:
        return fit.budget_for_params(params)
    # D_opt(C) = C / (6 N_opt(C)) is increasing in C: bisection in log space
    lo, hi = MIN_BUDGET, MAX_BUDGET
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if mid / (6 * fit.n_opt(mid)) < tokens:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def plan(*, budget=None, params=None, tokens=None, system: Optional[dict] = None) -> Plan:
    """Compute-optimal N and D by every fit, for a budget C (FLOPs), or the budget at which
    a given N (or D) is optimal. ``system``: {name, params, tokens} of a trained system to
    compare at its own budget 6·N·D."""
    if system is not None and (params is not None or budget is not None):
        raise InputError("compare a system at its own budget: give it alone (its training "
                         "tokens from the catalog, or --tokens D)")
    if system is not None and tokens is not None:
        system, tokens = dict(system, tokens=float(tokens)), None
    given = [(k, v) for k, v in (("budget", budget), ("params", params), ("tokens", tokens))
             if v is not None]
    if system is not None and not given:
        if not system.get("tokens"):
            raise InputError(f"{system.get('name')}: no training tokens to compare with "
                             "(the spec's training block has none): give --tokens D")
        budget = 6 * system["params"] * system["tokens"]
        given = [("budget", budget)]
        system = dict(system, budget=budget)
    if len(given) != 1:
        raise InputError("give one of --budget FLOPs, --params N or --tokens D")
    key, value = given[0]
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"--{key} must be a number, got {value!r}") from None
    if not math.isfinite(value) or not value > 0:
        raise InputError(f"--{key} must be a positive finite number, got {value!r}")
    optima = []
    for fit in FITS:
        try:
            c = value if key == "budget" else _solve_budget(fit, **{key: value})
            ok = MIN_BUDGET <= c <= MAX_BUDGET * (1 - 1e-9)
            if ok:
                optima.append(_optimum(fit, c))
        except (ArithmeticError, ValueError):  # overflow, underflow to 0 in a power
            ok = False
        if not ok:
            what = "" if key == "budget" else (f" is compute-optimal at a budget (by "
                                               f"{fit.name}) that")
            raise InputError(f"--{key} {value:g}{what} lies outside {MIN_BUDGET:g} to "
                             f"{MAX_BUDGET:g} FLOP, the range the fits are solved in", key=key)
    notes = ["C = 6·N·D (Kaplan et al. 2020 s2.1; Hoffmann et al. 2022 s3)"]
    if system:
        n, d = system["params"], system["tokens"]
        system["tokens_per_param"] = d / n
        system["vs"] = [{"fit": o.fit, "params_ratio": n / o.params,
                         "tokens_ratio": d / o.tokens} for o in optima]
    return Plan(given=key, value=value, optima=optima, system=system, notes=notes)
