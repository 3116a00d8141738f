"""``verify``: check submitted parameter and compute figures, row by row, as curators do.

The package is the pipeline, one file per stage:

* reading: :mod:`.columns` (which column holds which field), :mod:`.reading` (the file, as
  untrusted bytes), :mod:`.cells` (numbers from messy cells, figures stated in notes);
* matching: :mod:`.matching` (catalog entries by name, alias, post-training suffix,
  organisation + size; specs a row names; base models in the catalog and in the same file;
  hardware names), each resolved once per run;
* checks: :mod:`.checks` (one unit per check, each adding records with their arithmetic);
* verdicts and summary: :mod:`.records` (verified / consistent / flagged / not-checkable);
* :mod:`.pipeline`: :func:`verify`, which runs them.

The library returns records; ``report/verify.py`` formats them and ``cli/curation.py`` prints.
"""
from __future__ import annotations

from .columns import COLUMNS, EXPECTED_COLUMNS
from .pipeline import verify
from .reading import read_rows
from .records import STATUSES, VERDICTS, Check, Flag, Record, Records

# Every flag code, with what it means (stable: reports, scripts and tests rely on them).
CODES = {
    "impossible-utilisation": "the hardware cannot do the submitted compute in the time given, "
                              "even at its best dense peak",
    "suspicious-utilisation": "implied utilisation outside the plausible range "
                              "(estimator.costs.compute.SUSPICIOUS_LOW / SUSPICIOUS_HIGH)",
    "utilisation-mismatch": "the stated utilisation (MFU) disagrees with the implied one by more than 2x",
    "board-as-chips": "the hardware figures fit if the quantity counts boards rather than chips "
                      "(or chips rather than boards)",
    "chip-hours-mismatch": "Training chip-hours disagree with Hardware quantity x Training time "
                           "by more than 2x",
    "compute-vs-6nd": "training compute differs from 6·N·D x epochs by more than a factor 2",
    "compute-vs-counting": "training compute differs from 3 x counted forward FLOPs x examples "
                           "(or tokens) by more than a factor 2",
    "compute-outside-bounds": "training compute outside the row's own lower / upper bound",
    "implausible-passes": "with Epochs blank, the compute implies below 1/100 of a pass over the "
                          "dataset or above 10,000 passes",
    "params-mismatch": "parameters differ from the matched spec's count by more than 1 %",
    "base-model-mismatch": "a fine-tune's parameters differ from its base model's, and the row "
                           "states no change to the architecture",
    "base-model-compute": "a fine-tune's total training compute is below its base model's own, "
                          "with no fine-tune compute given",
    "unit-slip": "a figure is off by about 10^3, 10^6 or 10^9 from the recomputed one",
    "moe-total-as-active": "an MoE's total parameters were used where active parameters belong",
    "moe-active-as-total": "an MoE's active parameters were given where the total belongs",
    "implausible-value": "a figure that cannot be real (zero, negative, a single digit of FLOP, "
                         "an underflow, less than one chip, less than one forward pass)",
    "unknown-hardware": "a hardware name the table lacks that nearly matches an entry (misspelt?)",
    "malformed-cell": "a cell that is not a number where a number belongs",
    "malformed-row": "a row that could not be read (bad JSON line, broken quoting)",
    "notes-contradict-cell": "a figure the row's own notes state contradicts the cell they "
                             "annotate (Training time notes' days x 24 vs Training time (hours), "
                             "beyond a factor 2)",
    "unreadable-spec": "the spec or config the row names cannot be read, is outside the allowed "
                       "folders, or cannot be counted",
}

__all__ = ["verify", "read_rows", "CODES", "COLUMNS", "EXPECTED_COLUMNS", "VERDICTS", "STATUSES",
           "Check", "Flag", "Record", "Records"]
