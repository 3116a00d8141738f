"""Check: a fine-tune against its base model.

The ``Base model`` cell is resolved against the catalog (the matching rules) and against the
other rows of the same file (the base model's own row, which Epoch's export often holds). Then:

* **Chains.** A base model's own row may name its base: Med-PaLM -> Flan-PaLM 540B (a row) ->
  PaLM (540B) (the catalog), each step keeping the parameters within 15 %.
* **Parameters.** A fine-tune keeps its base model's weights: its Parameters should equal the
  base's count (catalog: independent; within 1 % or as rounded) or the base row's Parameters
  (the file: not independent, so "consistent"; within 15 %, since both rows often hold rounded
  size labels). A row of the file is taken for the base only when the base's name carries a
  size or the two rows' parameters agree within 15 % ("InternLM" names a family of sizes). A difference is a flag
  (``base-model-mismatch``) unless the row says the architecture changed: adapters, LoRA, a
  vision encoder or projector added, pruning, distillation, depth up-scaling, expert
  up-cycling, merged models, several models combined ("two GPT-J and a DeBERTa"), several
  base models; those rows say the check needs the added
  parameters. Two more signs of a new system built on the base, not the base's weights
  re-trained: the row's name shares no word with its base model's (IDPFold on ESM2-650M,
  Eagle 2 on Qwen2.5-7B, LUKE on RoBERTa Large: a new name for a model that adds modules or
  counts only what it trains), or its Domain lists a field the catalog's base lacks (a
  vision-language model on a language model: an encoder was added).
* **Compute.** Epoch's Training compute of a fine-tune includes its base's pretraining. A
  total below the base's own training compute (by more than 10 %) with no Finetune compute
  given is inconsistent (``base-model-compute``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from ..cells import fmt
from ..matching import FILE_BASE_MARGIN
from .params import compare

COMPUTE_MARGIN = 1.1
# the row says its architecture is not the base model's
_CHANGED = re.compile(r"adapter|lora\b|q-?lora|prun|distil|up-?scal|upcycl|up-cycl|expan|"
                      r"merg|vision|visual|image|encoder|projector|added|adding|extend|"
                      r"\+|initiali[sz]|grow|stack|modif|head|layers? (?:added|removed)|"
                      r"\btwo\b|\bthree\b|ensemble|combin|consist|in total|backbone|enhanc",
                      re.I)
# words that name no system (sizes, post-training, generic nouns), left out when two names are
# compared for a shared word
_GENERIC = {"base", "large", "small", "medium", "huge", "tiny", "mini", "giant", "model",
            "models", "the", "and", "with", "for", "chat", "instruct", "instruction", "tuned",
            "fine", "finetune", "finetuned", "pretrained", "version", "preview", "plus", "new"}


def name_words(name: str) -> set[str]:
    """The words of a system name that can name a system: 'Code Llama-34B' -> {'code',
    'llama'}; 'ESM2-650M' -> {'esm'}."""
    return {w for w in re.findall(r"[a-z]{3,}", name.lower()) if w not in _GENERIC}


def built_on(model: str, base_name: str, domain: str, base_domain: Optional[str]) -> Optional[str]:
    """Why a row is a new system built on its base model rather than the base re-trained
    (its Parameters then need what it adds or leaves out), or None."""
    if name_words(base_name) and not name_words(model) & name_words(base_name):
        return (f"its name {model!r} shares no word with its base model's ({base_name!r}): a "
                "new system built on it, which may add modules or count only what it trains")
    fields = {d.strip().lower() for d in domain.split(",") if d.strip()}
    if base_domain and fields and fields - {base_domain.lower()}:
        return (f"its Domain ({domain}) lists more than its base model's ({base_domain}): "
                "an encoder or head was added")
    return None


@dataclass
class Base:
    name: str
    params: Optional[float]
    compute: Optional[float]
    counted: Any = None          # Counted, when the catalog has it
    row: Optional[int] = None    # its row in the file
    how: str = ""


def run(r, ctx) -> None:
    if not r.fine_tune:
        return
    base: Optional[Base] = ctx.base
    cell = r.text("base_model")
    p = r.num("params")
    if base is None:
        if p is not None:
            r.add("base-model", "not-checkable", f"the base model {cell!r} is neither in the "
                  "catalog nor a row of this file", submitted=p)
        return
    several = "," in cell or ";" in cell
    changed = several or bool(_CHANGED.search(r.rec.model + " " + r.text("params_notes")))
    new_system = None if several else built_on(
        r.rec.model, base.name, r.text("domain"),
        base.counted.domain if base.counted is not None else None)
    where = (f"the count of {base.counted.name}" if base.counted is not None
             else f"row {base.row} of this file")
    if p is not None and not base.params:
        r.add("base-model", "not-checkable", f"the base models {cell!r} are not all in the "
              "catalog or rows of this file: the parameters of their sum are unknown",
              submitted=p)
    if p is not None and base.params:
        independent = base.counted is not None
        if base.counted is not None:
            what = (f"its base model {base.name} (row {base.row}, itself a fine-tune of "
                    f"{base.counted.name})" if base.how == "chain"
                    else f"its base model {base.counted.name}")
            status = compare(r, base.counted, p, name="base-model", what=what, independent=True)
        else:
            ratio = p / base.params
            ok = abs(ratio - 1) <= FILE_BASE_MARGIN
            status = "ok" if ok else "mismatch"
            if ok:
                r.add("base-model", "ok", f"Parameters {fmt(p)} equal those of its base model "
                      f"{base.name} (row {base.row}: {fmt(base.params)})", submitted=p,
                      recomputed=base.params, ratio=ratio, independent=False,
                      arithmetic=f"{fmt(p)} / {fmt(base.params)} = {ratio:.4g}")
        if status == "mismatch":
            ratio = p / base.params
            nums = dict(submitted=p, recomputed=float(base.params), ratio=ratio,
                        independent=independent,
                        arithmetic=f"{fmt(p)} / {fmt(base.params)} ({where}) = {ratio:.4g}")
            if changed:
                r.add("base-model", "not-checkable", f"Parameters {fmt(p)} differ from its base "
                      f"model {base.name} ({fmt(base.params)}, {where}) and the row says the "
                      "architecture changed (adapters, added encoder, pruning, several bases): "
                      "the check needs the parameters added or removed", **nums)
            elif new_system:
                r.add("base-model", "not-checkable", f"Parameters {fmt(p)} differ from its base "
                      f"model {base.name} ({fmt(base.params)}, {where}), and {new_system}: the "
                      "check needs the parameters added or removed", **nums)
            else:
                r.add("base-model", "flagged", f"Parameters {fmt(p)} differ from its base model "
                      f"{base.name} ({fmt(base.params)}, {where}) by {abs(ratio - 1):.1%}, and "
                      "the row states no change to the architecture", code="base-model-mismatch",
                      recount=independent, **nums)
    c = r.num("compute")
    if c is not None and base.compute and r.num("finetune_compute") is None \
            and c * COMPUTE_MARGIN < base.compute:
        src = (f"published for {base.counted.name}" if base.counted is not None
               and base.counted.published_compute else f"row {base.row} of this file")
        r.add("base-model", "flagged", f"Training compute {fmt(c)} FLOP is below its base model "
              f"{base.name}'s own {fmt(base.compute)} FLOP ({src}), and no Finetune compute is "
              "given: a fine-tune's total includes its base's pretraining",
              code="base-model-compute", submitted=c, recomputed=base.compute,
              ratio=c / base.compute, independent=base.counted is not None,
              arithmetic=f"{fmt(c)} / {fmt(base.compute)} = {c / base.compute:.3g}")
