"""Reading, part 1: which column holds which field.

Canonical fields and the column names they go by (normalised: lower case, letters and digits
only). Epoch AI's "Notable AI Models" / "All ML Systems" export names come first. An exact
(normalised) name wins over one read without its parenthesised unit ('Training compute (FLOP)'
is also 'Training compute'); when two headers name the same field, the first wins and the other
is listed among the ignored columns (a stated rule). Two headers spelt the same are refused:
which of them a reader should trust cannot be known (:func:`map_columns`).
"""
from __future__ import annotations

import re
from typing import Iterable

from ...errors import InputError
from ...safety import printable

COLUMNS: dict[str, tuple[str, ...]] = {
    "model": ("model", "system", "modelname", "systemname", "name"),
    "organisation": ("organization", "organisation", "org", "developer"),
    "domain": ("domain", "domains", "modality"),
    "date": ("publicationdate", "date", "releasedate", "year"),
    "params": ("parameters", "params", "parametercount", "numberofparameters", "nparams",
               "totalparameters", "totalparams"),
    "active_params": ("activeparameters", "activeparams", "parametersactive"),
    "compute": ("trainingcomputeflop", "trainingcompute", "trainingflop", "trainingflops",
                "computeflop", "compute", "flop", "flops"),
    "compute_low": ("trainingcomputelowerbound", "computelowerbound", "computelow"),
    "compute_high": ("trainingcomputeupperbound", "computeupperbound", "computehigh"),
    "method": ("trainingcomputeestimationmethod", "computeestimationmethod", "estimationmethod"),
    "dataset": ("trainingdatasetsizedatapoints", "trainingdatasetsize", "datasetsizedatapoints",
                "datasetsize", "trainingtokens", "tokens", "datapoints"),
    "epochs": ("epochs", "numberofepochs", "epoch"),
    "hours": ("trainingtimehours", "trainingtime", "traininghours", "timehours", "hours"),
    "chip_hours": ("trainingchiphours", "chiphours", "gpuhours", "trainingchiphour"),
    "hardware": ("traininghardware", "hardware", "accelerator", "accelerators", "chip", "gpu"),
    "quantity": ("hardwarequantity", "quantity", "numberofchips", "chips", "numchips", "chipcount",
                 "numberofgpus", "gpus", "numgpus"),
    "utilisation": ("hardwareutilizationmfu", "hardwareutilisationmfu", "hardwareutilization",
                    "hardwareutilisation", "mfu", "utilization", "utilisation"),
    "precision": ("numericalformat", "precision", "numberformat"),
    "base_model": ("basemodel", "finetunedfrom", "base"),
    "finetune_compute": ("finetunecomputeflop", "finetunecompute", "finetuningcomputeflop",
                         "finetuningcompute"),
    "spec": ("spec", "archspec", "specpath", "config", "configjson", "hfconfig"),
    # notes columns: read for figures the cells leave out, always shown as read from notes
    "params_notes": ("parametersnotes", "paramsnotes"),
    "compute_notes": ("trainingcomputenotes", "computenotes"),
    "dataset_notes": ("datasetsizenotes",),
    "data_notes": ("trainingdatasetnotes",),
    "finetune_notes": ("finetunecomputenotes",),
    "time_notes": ("trainingtimenotes",),
}
# The fields a file must have at least one of to be a submission file.
RECOGNISED = ("model", "params", "compute", "hardware")
# The Epoch column names, as the error for an unrecognisable file lists them.
EXPECTED_COLUMNS = ("Model", "Domain", "Publication date", "Parameters", "Training compute (FLOP)",
                    "Training dataset size (datapoints)", "Epochs", "Training time (hours)",
                    "Training hardware", "Hardware quantity", "Hardware utilization (MFU)",
                    "Base model", "Finetune compute (FLOP)", "Spec")
NOTES = ("params_notes", "compute_notes", "dataset_notes", "finetune_notes", "time_notes")


def key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


def duplicate_headers(headers: list[str]) -> list[tuple[str, int, int]]:
    """(header, first column, repeated column), 1-based, for headers spelt the same twice."""
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers, start=1):
        k = h.strip()
        if not k:
            continue
        if k in seen:
            out.append((k, seen[k], i))
        else:
            seen[k] = i
    return out


def map_columns(headers: Iterable[str], *, file: str | None = None) -> tuple[dict[str, str], list[str]]:
    """(field -> header, ignored headers). Raises InputError on a header spelt twice."""
    headers = list(headers)
    dups = duplicate_headers(headers)
    if dups:
        h, a, b = dups[0]
        raise InputError(f"the column {printable(h)!r} appears twice (columns {a} and {b}): "
                         "rename or remove one, since which of them holds the figure cannot be "
                         "known", file=file, line=1)
    exact = {syn: f for f, syns in COLUMNS.items() for syn in syns}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    loose: list[tuple[str, str]] = []
    for h in headers:
        f = exact.get(key(h))
        if f and f not in mapping:
            mapping[f] = h
        else:
            loose.append((h, key(re.sub(r"\(.*?\)|\[.*?\]", "", h))))
    for h, k in loose:
        f = exact.get(k)
        if f and f not in mapping:
            mapping[f] = h
        elif h not in mapping.values():
            ignored.append(h)
    return mapping, ignored
