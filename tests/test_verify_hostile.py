"""paramcount verify on hostile submissions (issue 19): paths named in rows, files that are not
files, malformed CSV, formula injection, terminal escapes, writes onto the input. Each case: one
line on stderr and exit 2 (or a flagged row), no content quoted, the input unchanged."""
from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import pytest

from estimator import verify

ROOT = Path(__file__).resolve().parents[1]
HEADER = "Model,Parameters,Spec\n"


def one_line_exit_2(result):
    code, out, err = result
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    return err


# ----------------------------------------------------------------- paths named in a row

def test_spec_outside_the_submission_folder_is_refused_without_probing(tmp_path):
    sub = tmp_path / "submission"
    sub.mkdir()
    secret = tmp_path / "secret.yaml"
    secret.write_text("TOP-SECRET-LINE: 1\n")
    rows = [["A", "1e6", str(secret)],                 # an outside file that exists
            ["B", "1e6", str(tmp_path / "absent.yaml")],  # an outside file that does not
            ["C", "1e6", "../secret.yaml"],            # relative, climbing out
            ["D", "1e6", "/etc/passwd"]]
    p = sub / "s.csv"
    with open(p, "w", newline="") as fh:
        csv.writer(fh).writerows([["Model", "Parameters", "Spec"], *rows])
    recs = verify(p)
    msgs = [r.flags[0].message for r in recs]
    assert [r.codes for r in recs] == [["unreadable-spec"]] * 4
    # the same rule for an outside path that exists and one that does not: nothing to probe
    assert all("outside the folders it may name" in m for m in msgs)
    assert not any("TOP-SECRET" in m or "root:" in m or "no such" in m for m in msgs)


def test_spec_inside_must_be_a_regular_small_file(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(5 * 1024 * 1024)       # sparse: 5 MiB over the 4 MiB spec limit
    bad = tmp_path / "bad.yaml"
    bad.write_text("secret: [unclosed\n")
    p = tmp_path / "s.csv"
    p.write_text(HEADER + "A,1e6,spec.yaml\nB,1e6,big.yaml\nC,1e6,bad.yaml\n")
    start = time.monotonic()
    recs = verify(p)
    assert time.monotonic() - start < 5                # the FIFO never blocks
    assert [r.codes for r in recs] == [["unreadable-spec"]] * 3
    assert "not a regular file" in recs[0].flags[0].message
    assert "over the limit" in recs[1].flags[0].message
    assert "secret" not in recs[2].flags[0].message and "cannot be counted" in recs[2].flags[0].message


def test_specs_dir_option_allows_another_folder(tmp_path, cli):
    p = tmp_path / "s.csv"
    p.write_text("Model,Parameters,Spec\nmy resnet,25.6M,resnet50.yaml\n")
    assert verify(p)[0].codes == ["unreadable-spec"]
    code, out, _ = cli("verify", p, "--specs-dir", ROOT / "archspecs", "--format", "json")
    rec = json.loads(out)["records"][0]
    assert (code, rec["verdict"]) == (0, "verified")


# ---------------------------------------------------------------- files that are not files

def test_dev_zero_fifo_and_huge_files_refused_at_once(tmp_path, cli):
    err = one_line_exit_2(cli("verify", "/dev/zero"))
    assert "not a regular file" in err
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    start = time.monotonic()
    err = one_line_exit_2(cli("verify", fifo))
    assert "not a regular file" in err and time.monotonic() - start < 5
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:
        fh.truncate(300 * 1024 * 1024)      # sparse 300 MB
    start = time.monotonic()
    err = one_line_exit_2(cli("verify", huge))
    assert "over the limit" in err and time.monotonic() - start < 5


# --------------------------------------------------------------------------- malformed CSV

def test_duplicate_headers_refused(tmp_path, cli):
    p = tmp_path / "d.csv"
    p.write_text("Model,Parameters,Parameters\nGPT-3 175B,175B,1\n")
    err = one_line_exit_2(cli("verify", p))
    assert "'Parameters' appears twice (columns 2 and 3)" in err


def test_unterminated_quote_is_malformed_with_its_line(tmp_path, cli):
    p = tmp_path / "q.csv"
    p.write_text('Model,Parameters\nGPT-3 175B,175B\n"AlexNet,60M\nResNet-50,25.6M\nVGG-16,138M\n')
    err = one_line_exit_2(cli("verify", p))
    assert f"{p}:3: malformed CSV: a quoted cell opens on this line and is never closed" in err


def test_utf16_with_bom_is_read(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes("Model,Parameters\nGPT-3 175B,175B\n".encode("utf-16"))   # BOM + UTF-16 LE
    recs = verify(p)
    assert [(r.model, r.verdict) for r in recs] == [("GPT-3 175B", "verified")]


def test_underflow_is_implausible_not_zero():
    rec = verify([{"Model": "X", "Parameters": "1e-400"}])[0]
    assert rec.codes == ["implausible-value"] and "underflows to 0" in rec.flags[0].message


# ------------------------------------------------------------------------------ outputs

def test_output_onto_the_input_through_links_refused(tmp_path, cli):
    src = tmp_path / "in.csv"
    src.write_text("Model,Parameters\nGPT-3 175B,175B\n")
    before = src.read_bytes()
    hard = tmp_path / "hard.json"
    os.link(src, hard)
    soft = tmp_path / "soft.json"
    soft.symlink_to(src)
    for target in (hard, soft, src):
        err = one_line_exit_2(cli("verify", src, "-o", target))
        assert "would overwrite the input" in err
    assert src.read_bytes() == before


def test_csv_report_neutralises_formulas(tmp_path, cli):
    src = tmp_path / "in.csv"
    src.write_text('Model,Parameters\n"=HYPERLINK(""http://x"",""y"")",1e6\n@SUM(A1),2e6\n')
    code, out, _ = cli("verify", src, "--format", "csv")
    cells = list(csv.reader(io.StringIO(out)))
    models = [row[2] for row in cells[1:] if row]
    assert models == ["'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(A1)"]
    report = tmp_path / "report.csv"
    assert cli("verify", src, "-o", report)[0] == 0
    assert not any(row[2].startswith(("=", "@")) for row in csv.reader(open(report)) if row)


def test_terminal_escapes_are_shown_escaped(tmp_path, cli):
    src = tmp_path / "in.csv"
    src.write_text("Model,Parameters\nGPT-3 175B,175B\nAlexNet,60M\nResNet-50,25.6M\n"
                   "\x1b]0;pwned\x07Evil\x1b[2J,1.5e6\n")
    code, out, _ = cli("verify", src, "--only", "all")
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07Evil\\x1b[2J" in out


# ---------------------------------------------------------------- one rule, said per row

def test_one_utilisation_range_for_verify_train_and_compute():
    from estimator.costs.compute import SUSPICIOUS_HIGH, judge_utilisation
    from estimator.units import Interval

    # 0.78 used to be suspicious in verify (0.75) and plausible in train/compute (0.8)
    assert SUSPICIOUS_HIGH == 0.8 and judge_utilisation(Interval.of(0.78))[0] == "plausible"
    # H100 bf16 989.4e12 x 1000 chips x 1000 h x 3600 = 3.56184e24; x 0.78 = 2.778e24
    rec = verify([{"Model": "X", "Training compute (FLOP)": str(0.78 * 3.56184e24),
                   "Training hardware": "H100", "Training time (hours)": "1000",
                   "Hardware quantity": "1000"}])[0]
    assert (rec.verdict, rec.codes) == ("verified", [])


def test_only_all_says_which_checks_ran_per_row(cli):
    code, out, _ = cli("verify", ROOT / "examples" / "submissions-epoch-sample.csv", "--only", "all")
    block = out.split("  4 (line 5)")[1].split("\n  5 (line 6)")[0]   # GPT-2 small: params only
    assert "params: FLAGGED:" in block
    assert "hardware: not run: the hardware check needs" in block
    assert "compute: not run: the compute check needs Training compute" in block
    first = out.split("  1 (line 2)")[1].split("\n  2 (line 3)")[0]
    assert "params: ok (independent):" in first and "compute: plausible:" in first
