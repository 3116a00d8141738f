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
  parameters.
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
                      r"\btwo\b|\bthree\b|ensemble|combin|consists of|in total|backbone",
                      re.I)


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
    where = (f"the count of {base.counted.name}" if base.counted is not None
             else f"row {base.row} of this file")
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
            else:
                r.add("base-model", "flagged", f"Parameters {fmt(p)} differ from its base model "
                      f"{base.name} ({fmt(base.params)}, {where}) by {abs(ratio - 1):.1%}, and "
                      "the row states no change to the architecture", code="base-model-mismatch",
                      **nums)
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
