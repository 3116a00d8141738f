"""The judged holdout of ``paramcount verify`` (tests/data/verify-holdout.csv): its rows are the
seeded choice of make_verify_holdout.py, every figure with a cell is judged and no empty one is,
and the scorer maps flags to the figures they concern and counts them as documented."""
from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLE = ROOT.parent / "shared" / "data" / "epoch-all-ml-systems-sample.csv"
FIGURES = {"params": "Parameters", "compute": "Training compute (FLOP)",
           "finetune": "Finetune compute (FLOP)", "hardware": "Training hardware"}
needs_sample = pytest.mark.skipif(not SAMPLE.exists(),
                                  reason=f"the shared sample {SAMPLE} is not present")


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


maker = _load("make_verify_holdout", DATA / "make_verify_holdout.py")
scorer = _load("score_verify_holdout", ROOT / "benchmarks" / "score_verify_holdout.py")


def _holdout() -> list[dict]:
    with open(DATA / "verify-holdout.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_judgements_are_from_the_allowed_set_and_every_row_has_a_reason():
    rows = _holdout()
    assert len(rows) == 100  # 60 random + 40 suspicious (8 per criterion x 5)
    assert sum(r["selection"] == "random" for r in rows) == 60
    for r in rows:
        assert r["reason"].strip(), r["row_key"]
        for f in FIGURES:
            assert r[f"{f}_judgement"] in ("correct", "error", "unknowable", ""), r["row_key"]


@needs_sample
def test_rows_are_the_seeded_choice_and_judged_exactly_where_a_cell_exists():
    assert maker.main(["--check"]) == 0
    sample = maker.read_sample(SAMPLE)
    for r in _holdout():
        row = sample[int(r["data_row"]) - 1]
        assert maker.row_key(row) == r["row_key"] and row["Model"] == r["model"]
        for f, col in FIGURES.items():
            assert bool(row[col].strip()) == bool(r[f"{f}_judgement"]), (r["row_key"], f)


def test_flags_map_to_their_figure():
    row = {"Parameters": "7e9", "Training compute (FLOP)": "4.2e22",
           "Finetune compute (FLOP)": "1", "Training hardware": "NVIDIA A100"}
    fig = scorer.figures_of
    # main's compute check on a fine-tune compares the Finetune cell: its submitted value says so
    assert fig({"code": "compute-vs-6nd", "submitted": 1.0, "message": "Training compute 1"},
               row) == ["finetune"]
    assert fig({"code": "compute-vs-6nd", "submitted": 4.2e22}, row) == ["compute"]
    assert fig({"code": "params-mismatch"}, row) == ["params"]
    assert fig({"code": "implausible-value", "message": "Finetune compute (FLOP) is 0"},
               row) == ["finetune"]
    assert fig({"code": "unknown-hardware", "message": "no entry"}, row) == ["hardware"]
    # a utilisation flag concerns the hardware and the compute figure it divided
    assert fig({"code": "suspicious-utilisation", "submitted": 1.0}, row) == ["hardware",
                                                                               "finetune"]
    assert fig({"code": "some-new-code", "message": "nothing to go on"}, row) == ["unmapped"]
    # an explicit figure on the flag wins
    assert fig({"code": "x", "figure": "Parameters"}, row) == ["params"]


def test_score_counts_tp_fp_unknowable_and_missed():
    sample = [{"Model": "A", "Publication date": "2020-01-01", "Parameters": "1e9",
               "Training compute (FLOP)": "1e21", "Finetune compute (FLOP)": "",
               "Training hardware": "NVIDIA A100"},
              {"Model": "B", "Publication date": "2021-01-01", "Parameters": "2e9",
               "Training compute (FLOP)": "2e21", "Finetune compute (FLOP)": "3",
               "Training hardware": ""}]
    holdout = [{"row_key": "A | 2020-01-01", "data_row": "1", "params_judgement": "error",
                "compute_judgement": "correct", "finetune_judgement": "",
                "hardware_judgement": "unknowable", "reason": "r"},
               {"row_key": "B | 2021-01-01", "data_row": "2", "params_judgement": "correct",
                "compute_judgement": "correct", "finetune_judgement": "error",
                "hardware_judgement": "", "reason": "r"}]
    records = [{"model": "A", "flags": [{"code": "compute-vs-6nd", "submitted": 1e21},
                                        {"code": "unknown-hardware"}]},
               {"model": "B", "flags": [{"code": "params-mismatch"},
                                        {"code": "implausible-value", "submitted": 3.0},
                                        {"code": "unit-slip", "submitted": 3.0}]}]
    s = scorer.score(records, sample, holdout)
    assert s["flags_on_holdout_rows"] == 5
    # TP: B finetune (two flags, one figure); FP: A compute, B params; unknowable: A hardware
    assert [(t["row_key"][0], t["figure"]) for t in s["tp"]] == [("B", "finetune")]
    assert sorted((t["row_key"][0], t["figure"]) for t in s["fp"]) == [("A", "compute"),
                                                                         ("B", "params")]
    assert [(t["row_key"][0], t["figure"]) for t in s["on_unknowable"]] == [("A", "hardware")]
    assert [(t["row_key"][0], t["figure"]) for t in s["missed"]] == [("A", "params")]
    assert s["precision"] == 1 / 3  # 1 TP / (1 TP + 2 FP)
    assert s["recall"] == 1 / 2     # 1 of the 2 errors judged (A params, B finetune)


def test_score_pairs_records_by_their_row_number_and_reads_code_strings():
    sample = [{"Model": m, "Publication date": "2020-01-01", "Parameters": "1e9",
               "Training compute (FLOP)": "", "Finetune compute (FLOP)": "",
               "Training hardware": ""} for m in ("A", "B")]
    holdout = [{"row_key": "B | 2020-01-01", "data_row": "2", "params_judgement": "error",
                "compute_judgement": "", "finetune_judgement": "", "hardware_judgement": "",
                "reason": "r"}]
    # only B's record, carrying its 1-based row; its flags as bare code strings
    records = [{"model": "B", "row": 2, "flags": ["params-mismatch"]}]
    s = scorer.score(records, sample, holdout)
    assert [(t["row_key"][0], t["figure"]) for t in s["tp"]] == [("B", "params")]
    assert s["precision"] == 1.0 and s["recall"] == 1.0  # 1 TP, 0 FP, 1 error judged
