"""The checks: one unit per check, each adding its own records (with their arithmetic) to the
row. They run in this order; adding a check means adding one unit here and its tests.

* :mod:`.values`: figures that cannot be real (zero, negative, a single digit of FLOP, an
  underflow, less than one chip, a compute below one forward pass);
* :mod:`.params`: Parameters against a count (the catalog spec, a spec or config the row
  names), and an MoE's active/total slip;
* :mod:`.base_model`: a fine-tune against its base model (the catalog, or its row in the file);
* :mod:`.hardware`: the hardware method (chips or chip-hours x dense peak at the row's
  numerical format x time) -> the implied utilisation;
* :mod:`.compute`: the training compute against its bounds, 6·N·D or 3 x forward x examples
  (with epochs), or the implied passes over the dataset (without);
* :mod:`.notes`: a figure the row's own notes state against the cell it annotates (the days
  of ``Training time notes`` against ``Training time (hours)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from . import base_model, compute, hardware, notes, params, values


@dataclass
class Context:
    """What the checks of one row share: the count it was matched to, its hardware, the
    base model found, and the run's resolvers."""

    counted: Any = None              # Counted (a catalog entry or a spec the row names)
    parts: list = field(default_factory=list)
    hardware_problem: Optional[str] = None
    hardware_code: Optional[str] = None
    table: Any = None
    base: Any = None                 # base_model.Base, when found


UNITS = (values.run, params.run, base_model.run, hardware.run, compute.run, notes.run)
