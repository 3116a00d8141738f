"""CLI habits users expect, and saying what was counted (issue 13): --version, -h, readable
usage lines, a hint for a mistyped command, a spec on stdin, schema --json, --set on check
and in headers and errors, collapsed repeats in the table, progress only on a terminal."""
from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GPT2 = ROOT / "archspecs" / "gpt2.yaml"
ALEXNET = ROOT / "archspecs" / "alexnet.yaml"


def test_version(cli):
    import estimator

    code, out, err = cli("--version")
    assert code == 0 and out.startswith(f"paramcount {estimator.__version__} (python 3.")


@pytest.mark.parametrize("args", [["-h"], ["count", "-h"], ["model", "-h"], ["compute", "-h"],
                                  ["check", "-h"], ["train", "-h"], ["onnx", "-h"]])
def test_short_help_and_readable_usage(cli, args):
    code, out, err = cli(*args)
    assert code == 0 and out.startswith("Usage: paramcount")
    # no typer type labels like <list[str]>, <int> or <Path>
    assert not re.search(r"<[a-zA-Z_\[\]|, ]+>", out), out


def test_count_usage_names_its_argument(cli):
    code, out, err = cli("count", "--help")
    assert "Usage: paramcount count [OPTIONS] {SPECS}..." in out
    assert "--depth INTEGER" in out and "--set TEXT" in out


def test_a_mistyped_command_gets_a_hint(cli, tmp_path):
    code, out, err = cli("chek", "x.yaml", cwd=tmp_path)
    assert code == 2
    assert err == "paramcount: 'chek' is neither a command nor a file (did you mean `check`?)\n"


def test_a_file_named_like_a_typo_is_still_counted(cli, tmp_path):
    (tmp_path / "chek").write_text(ALEXNET.read_text())
    code, out, err = cli("chek", "--json", cwd=tmp_path)
    assert code == 0 and json.loads(out)["params"] == 60_965_224


def test_spec_from_stdin(cli, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(ALEXNET.read_text()))
    code, out, err = cli("-", "--json")
    assert code == 0 and json.loads(out)["params"] == 60_965_224  # AlexNet, as from the file


def test_bad_spec_from_stdin_names_stdin(cli, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("name: x\ninput: {shape: [4]}\nlayers: [relu, relux]\n"))
    code, out, err = cli("-")
    assert code == 2 and err.startswith("<stdin>:3: layers[1].kind: unknown layer kind 'relux'")


def test_schema_accepts_json(cli):
    code, out, err = cli("schema", "--json")
    assert code == 0 and json.loads(out)["title"] == "paramcount spec"


def test_overrides_are_in_the_header_and_published_figures_not_compared(cli):
    code, out, err = cli(GPT2, "--set", "layers=2")
    assert code == 0
    assert "modified by --set: layers=2" in out
    assert "not compared: these figures are for the published model, and the model counted is " \
           "modified by --set layers=2" in out
    code, out, err = cli(GPT2, "--set", "layers=2", "--json")
    (row,) = json.loads(out)["published_check"]
    # 2 of 12 blocks: 124,439,808 - 10 x 7,087,872 = 53,561,088 counted, no ratio
    assert (row["counted"], row["ratio"], row["compared"]) == (53_561_088, None, False)
    code, out, err = cli(GPT2, "--json")
    assert json.loads(out)["published_check"][0]["ratio"] == 1.0


def test_an_error_caused_by_an_override_names_it(cli):
    code, out, err = cli(GPT2, "--set", "layers=0")
    assert code == 2
    assert err.startswith("--set layers=0: ") and "(at " in err and "layers[2].repeat" in err
    code, out, err = cli(GPT2, "--set", "layers=3", "--set", "d_model=100")
    assert err.startswith("--set d_model=100: heads=12 does not divide d_model=100")


def test_check_takes_set(cli):
    pytest.importorskip("torch")
    code, out, err = cli("check", ALEXNET, "--set", "classes=10", "--only", "torch", "--json",
                         "--size", "full")
    d = json.loads(out)
    # the last layer 4096 -> 10 instead of 1000: 60,965,224 - 4,096*990 - 990 = 56,909,194,
    # and the torch build of the modified spec agrees
    assert d["total"]["analytic"]["params"] == d["total"]["torch"]["params"] == 56_909_194


def test_repeats_collapse_in_the_table_and_expand_on_request(cli):
    code, out, err = cli(GPT2)
    lines = out.splitlines()
    # one row stands for the 12 identical blocks; its figures are per copy
    (row,) = [ln for ln in lines if ln.strip().startswith("0-11 (x12)")]
    assert "7.09M" in row and "all 12: 85.1M params" in row
    assert not any(ln.strip().startswith("11 ") for ln in lines)
    code, out, err = cli(GPT2, "--expand")
    assert sum(1 for ln in out.splitlines() if re.match(r"^  \d+ +sequential", ln)) == 12


def test_progress_only_on_a_terminal():
    from estimator.cli.common import progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet, loud = io.StringIO(), Tty()
    with progress("counting big.yaml", delay=0.0, stream=quiet):
        time.sleep(0.3)
    with progress("counting big.yaml", delay=0.0, stream=loud):
        time.sleep(0.3)
    assert quiet.getvalue() == "" and "counting big.yaml" in loud.getvalue()
    fast = Tty()
    with progress("counting small.yaml", delay=5.0, stream=fast):
        pass  # done before the delay: nothing shown
    assert "counting" not in fast.getvalue()


def test_bad_shapes_and_counts_are_one_line(cli):
    pytest.importorskip("torch")
    code, out, err = cli("model", "torch.nn:Linear", "-k", "in_features=4", "-k", "out_features=4",
                         "--input", "1x3x16x16x")
    assert code == 2 and err == ("input shape '1x3x16x16x': expected sizes like 1x3x224x224 "
                                 "(optionally :dtype, e.g. 1x128:int64)\n")
    code, out, err = cli("model", "torch.nn:Linear", "-k", "in_features=4", "-k", "out_features=4",
                         "--input", "1x4", "--top-k", "-1")
    assert code == 2 and "--top-k" in err and len(err.splitlines()) == 1
