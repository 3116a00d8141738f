"""Check: the training compute against its bounds and against counting.

* **Bounds.** A compute outside the row's own ``Training compute lower bound`` / ``upper
  bound`` is ``compute-outside-bounds``.
* **What a datapoint is.** 6·N·D needs tokens. Datapoints count tokens for language rows
  (every ``Domain`` listed is Language or Mathematics, or the dataset column is named in
  tokens), unless the dataset notes count image-text pairs, images, videos, episodes, games,
  sequences, reviews, documents, sentences or examples (and never tokens). Otherwise 6·N·D is not a check; a matched spec of a
  non-sequence model counts 3 x forward x examples instead.
* **N.** The parameters; for a mixture of experts the ACTIVE ones: the catalog's count, the
  ``Active parameters`` column, or the figure the name ("-A22B") or notes ("39B activated")
  state. An MoE without an active count is not checked (never flagged for 6 x total x D).
  Where the catalog's spec reuses weights (ALBERT: forward FLOPs per token several times 2N),
  3 x counted forward FLOPs per token replaces 6·N.
* **D and the passes.** ``Training dataset size`` is the dataset, not what the run saw. With
  ``Epochs`` (or epochs / tokens trained that the notes state, shown as read from the notes)
  the compute is compared with the count within a factor 2 (10 for a figure read from the
  notes, which often describe several stages or runs, and for a compute whose estimation method
  combines operation counting with the hardware method, often their geometric mean)
  (``compute-vs-6nd``,
  ``compute-vs-counting``, a factor 10^3/10^6/10^9 ``unit-slip``). With ``Epochs`` blank
  (unknown, not 1) the implied number of passes is solved for and shown; only what no training
  could be is flagged (``implausible-passes``: below 1/100 of a pass, or above 10,000 passes);
  not for Games / Robotics systems, whose "dataset" is generated (steps, games, episodes).
* **Independence.** A compute the row says it estimated by "Operation counting" (or whose
  method it does not say) re-derived by the same formula from the same cells is "consistent",
  not "verified".
"""
from __future__ import annotations

import re

from ..cells import (active_from_text, epochs_from_notes, fmt, moe_stated, tokens_from_notes)
from .params import slip, slip_words

COMPUTE_FACTOR = 2.0
BOUNDS_MARGIN = 1.02      # bounds are rounded like the figure: 5.64e19 vs a bound of 5.65e19
NOTES_FACTOR = 10.0       # epochs / tokens read from notes: the notes may describe another stage
MOE_MATCH = 0.10          # "equals 6 x total x D" means within 10 %
MIN_PASSES = 0.01         # below 1/100 of one pass over the dataset: no such run
MAX_PASSES = 10_000       # more passes than any training in the record
SHARED_WEIGHTS = 3.0      # forward FLOPs per token per parameter above this: weights reused

_TOKEN_DOMAINS = {"language", "mathematics"}
_GENERATED = re.compile(r"games|robotics", re.I)
_NOT_TOKENS = re.compile(r"image[- ]text pairs?|text[- ]image pairs?|\bpairs\b|\bimages\b|"
                         r"\bvideos?\b|\bclips\b|\bepisodes\b|\bgames\b|\bframes\b|"
                         r"protein sequences|\bsequences\b|\bmolecules\b|\bstructures\b|"
                         r"\bsamples\b|\butterances\b|hours of (?:audio|speech)|\breviews?\b|"
                         r"\bdocuments\b|\bsentences\b|\bexamples\b|\barticles\b|"
                         r"\bquestions\b|\bdialogues\b|\bconversations\b", re.I)
_SHARED = re.compile(r"\balbert\b|shar(?:ed|ing) (?:weights|parameters|layers)|"
                     r"(?:weight|parameter|cross-layer)[- ]sharing|universal transformer", re.I)


def counts_tokens(r) -> tuple[bool, str]:
    """(datapoints are tokens, why)."""
    if "token" in str(r.raw.get("_dataset_header") or "").lower():
        return True, "the dataset column counts tokens"
    domains = {d.strip().lower() for d in r.text("domain").split(",") if d.strip()}
    notes = r.text("dataset_notes") + " " + r.text("data_notes")
    not_tokens = _NOT_TOKENS.search(notes)
    if domains and domains <= _TOKEN_DOMAINS:
        if not_tokens and "token" not in notes.lower():
            return False, f"the dataset notes count {not_tokens.group(0)}, not tokens"
        return True, "a language system's datapoints are tokens"
    if not domains:
        return False, "no Domain given, so what a datapoint is cannot be known"
    return False, (f"a {r.text('domain')} system's datapoints are not tokens"
                   + (f" (the dataset notes count {not_tokens.group(0)})" if not_tokens else ""))


def _compare(r, c: float, target: float, *, code: str, what: str, arithmetic: str,
             independent: bool, source=None) -> None:
    ratio = c / target
    combined = "operation counting" in r.method and "hardware" in r.method
    factor = NOTES_FACTOR if source == "notes" or combined else COMPUTE_FACTOR
    nums = dict(submitted=c, recomputed=target, ratio=ratio, arithmetic=arithmetic,
                independent=independent, source=source)
    dep = "" if independent else " (not independent: the row's own figures by the formula it used)"
    if 1 / factor <= ratio <= factor:
        if factor > COMPUTE_FACTOR and not 1 / COMPUTE_FACTOR <= ratio <= COMPUTE_FACTOR:
            why = ("figures read from notes (which describe several runs or stages)"
                   if source == "notes" else "a compute that combines operation counting with "
                   "the hardware method (often their geometric mean)")
            r.add("compute", "plausible", f"compute {fmt(c)} FLOP is {ratio:#.3g}x {what} "
                  f"({fmt(target)}): within the factor {NOTES_FACTOR:g} allowed for {why}", **nums)
            return
        r.add("compute", "ok", f"compute {fmt(c)} FLOP is {ratio:#.3g}x {what} "
              f"({fmt(target)}){dep}", **nums)
        return
    k = slip(ratio)
    if k:
        r.add("compute", "flagged", f"compute {fmt(c)} FLOP is {slip_words(k)} against {what} "
              f"({fmt(target)}): a unit slip?", code="unit-slip", **nums)
        return
    r.add("compute", "flagged", f"compute {fmt(c)} FLOP is {ratio:#.3g}x {what} "
          f"({fmt(target)})", code=code, **nums)


def _total_as_active(r, c: float, counted, tokens: float, label: str, applies: bool) -> bool:
    """Flag an MoE whose compute equals 6 x TOTAL parameters x tokens (within 10 %): the total
    used where the active count belongs. True when flagged."""
    if not (applies and counted is not None and counted.moe
            and abs(c / (6 * counted.params * tokens) - 1) <= MOE_MATCH):
        return False
    target = 6 * counted.active_params * tokens
    r.add("compute", "flagged", f"{label} {fmt(c)} FLOP equals 6 x TOTAL parameters "
          f"({counted.params:,}) x {fmt(tokens)} tokens; an MoE's 6·N·D uses the active "
          f"{counted.active_params:,}: {fmt(target)} FLOP", code="moe-total-as-active",
          submitted=c, recomputed=target, ratio=c / target, independent=True,
          arithmetic=f"6 x {counted.active_params:,} x {fmt(tokens)} = {fmt(target)}")
    return True


def _bounds(r) -> None:
    c, lo, hi = r.num("compute"), r.num("compute_low"), r.num("compute_high")
    if c is None or (lo is None and hi is None):
        return
    if (lo is not None and c < lo / BOUNDS_MARGIN) or (hi is not None and c > hi * BOUNDS_MARGIN):
        r.add("compute-bounds", "flagged", f"Training compute {fmt(c)} FLOP lies outside the "
              f"row's own bounds [{fmt(lo) if lo else '-'}, {fmt(hi) if hi else '-'}]",
              code="compute-outside-bounds", submitted=c, low=lo, high=hi)
    else:
        r.add("compute-bounds", "plausible", f"Training compute {fmt(c)} FLOP lies within the row's "
              f"own bounds [{fmt(lo) if lo else '-'}, {fmt(hi) if hi else '-'}] (not "
              "independent: the row's own figures)", submitted=c, low=lo, high=hi)


def run(r, ctx) -> None:
    from ....costs.compute import DEFAULT_BACKWARD_RATIO

    _bounds(r)
    fine_tune = r.fine_tune
    c = r.num("finetune_compute") if fine_tune else r.num("compute")
    label = "Finetune compute" if fine_tune else "Training compute"
    if fine_tune and c is None:
        r.add("compute", "not-checkable", f"fine-tune of {r.text('base_model')!r} without "
              "Finetune compute: the compute column includes the base model's pretraining, "
              "which the fine-tune's dataset does not describe")
        return
    d = r.num("dataset")
    if c is None:
        r.add("compute", "not-checkable", f"the compute check needs {label}")
        return
    counted = ctx.counted
    tokens, why_tokens = counts_tokens(r)
    if counted is not None and counted.tokens and not r.text("domain"):
        tokens, why_tokens = True, f"{counted.name} reads token sequences"
    method = r.method
    independent = bool(method) and "operation counting" not in method
    # the passes: Epochs, or the notes' epochs / tokens trained
    epochs, source = r.num("epochs"), None
    seen_tokens = None
    notes = r.text("compute_notes") + " " + r.text("dataset_notes") + " " + r.text("finetune_notes")
    if epochs is None:
        epochs = epochs_from_notes(notes)
        source = "notes" if epochs is not None else None
        if epochs is None and tokens:
            seen_tokens = tokens_from_notes(notes)
            source = "notes" if seen_tokens is not None else None
    if d is None and seen_tokens is None:
        r.add("compute", "not-checkable", f"the compute check needs Training dataset size "
              f"(or the tokens trained, stated in the notes)")
        return
    # per-pass work: 6·N·D, or 3 x forward x D from a counted spec
    model = r.rec.model
    name_notes = model + " " + r.text("params_notes")
    if counted is not None and counted.moe:
        n, n_how = counted.active_params, f"active parameters of {counted.name} (catalog count)"
    elif moe_stated(model, r.text("params_notes") + " " + r.text("compute_notes")):
        a = r.num("active_params") or active_from_text(model, r.text("params_notes"))
        if a is None:
            r.add("compute", "not-checkable", "a mixture of experts (its name or notes say so): "
                  "6·N·D needs its ACTIVE parameters, which the row does not give")
            return
        n, n_how = a, "active parameters " + ("(column)" if r.num("active_params") else
                                              "(read from the name or notes)")
    else:
        n, n_how = r.num("params"), "Parameters"
    per_token = None
    if counted is not None and counted.tokens and (counted.flops_per_param or 0) > SHARED_WEIGHTS:
        per_token = (1 + DEFAULT_BACKWARD_RATIO) * counted.forward_flops / counted.tokens
    elif counted is None and _SHARED.search(name_notes):
        r.add("compute", "not-checkable", "weights shared across layers (its name or notes say "
              "so): 6·N·D undercounts; the check needs the counted forward FLOPs of its spec")
        return
    if not tokens:
        if counted is not None and not counted.tokens:
            per_example = (1 + DEFAULT_BACKWARD_RATIO) * counted.forward_flops
            unit_work, unit, code = per_example, "examples", "compute-vs-counting"
            formula = f"3 x forward ({fmt(counted.forward_flops)} FLOP, count of {counted.name})"
            independent = True
        else:
            r.add("compute", "not-checkable", f"6·N·D needs training tokens: {why_tokens}; "
                  "name a spec to count 3 x forward x examples")
            return
    elif per_token is not None:
        unit_work, unit, code = per_token, "tokens", "compute-vs-counting"
        formula = (f"3 x forward per token ({fmt(counted.forward_flops / counted.tokens)} FLOP, "
                   f"count of {counted.name}: weights reused, {counted.flops_per_param:.3g} "
                   "FLOP per parameter)")
        independent = True
    else:
        if n is None:
            r.add("compute", "not-checkable", "6·N·D needs Parameters")
            return
        unit_work, unit, code = 6 * n, "tokens", "compute-vs-6nd"
        formula = f"6 x {fmt(n)} ({n_how})"
    # with the passes known
    if seen_tokens is not None or epochs is not None:
        seen = seen_tokens if seen_tokens is not None else d * epochs
        seen_text = (f"{fmt(seen)} {unit} trained (read from the notes)" if seen_tokens is not None
                     else f"{fmt(d)} {unit} x {fmt(epochs)} epochs"
                     + (" (epochs read from the notes)" if source == "notes" else ""))
        target = unit_work * seen
        if _total_as_active(r, c, counted, seen, label, unit == "tokens" and per_token is None):
            return
        _compare(r, c, target, code=code, what=f"{formula} x {seen_text}",
                 arithmetic=f"{formula} x {seen_text} = {fmt(target)} FLOP",
                 independent=independent, source=source)
        return
    # Epochs blank: the implied passes over the dataset
    if _total_as_active(r, c, counted, d, label, unit == "tokens" and per_token is None):
        return
    if _GENERATED.search(r.text("domain")):
        r.add("compute", "not-checkable", f"a {r.text('domain')} system learns from data it "
              "generates (games, episodes, steps): its dataset size does not fix a number of "
              "passes, so without Epochs the compute cannot be judged")
        return
    per_pass = unit_work * d
    passes = c / per_pass
    arith = f"{fmt(c)} FLOP / ({formula} x {fmt(d)} {unit}) = {passes:.3g} passes"
    nums = dict(submitted=c, recomputed=per_pass, ratio=passes, arithmetic=arith,
                independent=False)
    if passes < MIN_PASSES or passes > MAX_PASSES:
        k = slip(passes, factor=2.0)
        what = (f"{label} {fmt(c)} FLOP implies {passes:.3g} passes over the dataset of "
                f"{fmt(d)} {unit} (Epochs blank)")
        if k and abs(k) >= 6:
            r.add("compute", "flagged", f"{what}: {slip_words(k)}, a unit slip?",
                  code="unit-slip", **nums)
        else:
            bound = "below 1/100 of one pass" if passes < MIN_PASSES else "above 10,000 passes"
            r.add("compute", "flagged", f"{what}: {bound}, which no training does",
                  code="implausible-passes", **nums)
        return
    r.add("compute", "plausible", f"{label} {fmt(c)} FLOP implies {passes:.3g} passes over the "
          f"dataset of {fmt(d)} {unit} ({formula}); Epochs is blank (unknown, not 1), so the "
          "compute cannot be confirmed, only found possible", **nums)
