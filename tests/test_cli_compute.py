"""paramcount hardware / compute / train from the command line: output, JSON, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


ARCH = Path(__file__).resolve().parent.parent / "archspecs"


def test_xland_line(cli):
    code, out, err = cli("compute", "--hardware", "TPU v3-8", "--chips", "8",
                         "--utilisation", "0.1", "--runs", "32", "--seconds", "7.3e6")
    assert code == 0 and err == ""
    # (8)(4.2e14)(0.1)(32)(7.3e6) = 7.84896e22
    assert "(8 boards)(4.20e14 FLOP/s)(0.1 utilisation)(32 runs)(7.3e6 s) = 7.8e22 FLOP" in out
    assert "BOARD of 4 chips" in out


def test_compute_json(cli):
    code, out, _ = cli("compute", "--hardware", "V100", "--gpu-days", "256", "--json")
    assert code == 0
    d = json.loads(out)
    # 256 x 86400 x 1.25e14 x 0.3 = 8.2944e20
    assert d["flops"] == pytest.approx(8.2944e20)
    assert d["low"] == d["high"] == d["flops"]
    assert any("utilisation 0.3 (default" in a for a in d["assumptions"])
    assert d["hardware"]["precision"] == "fp16"


def test_compute_range(cli):
    code, out, _ = cli("compute", "--hardware", "tpu-v3", "--chips", "8", "--hours",
                       "2000", "--utilisation", "0.3-0.5")
    # 8 x 1.23e14 x 7.2e6 = 7.0848e21; x 0.3 = 2.1e21, x 0.5 = 3.5e21, central x sqrt(.15) = 2.7e21
    assert code == 0
    assert "= 2.1e21-3.5e21 FLOP (central 2.7e21)" in out
    assert "low 2.1e21 / central 2.7e21 (geometric mean) / high 3.5e21 FLOP" in out


def test_train_gpt3(cli):
    code, out, _ = cli("train", ARCH / "gpt3-175b.yaml", "--tokens", "300e9")
    assert code == 0
    # 6 x 1.746e11 x 3e11 = 3.1e23; 3 x 7.348e14 x 1.46e8 = 3.2e23; ratio 1.027
    assert "6·N·D: 6 x 1.746e11 x 3e11 tokens = 3.1e23 FLOP" in out
    assert "(3)(7.348e14 FLOP/forward)(1.46e8 sequences) = 3.2e23 FLOP" in out
    assert "/ 6·N·D = 1.027" in out


def test_train_alexnet_json(cli):
    code, out, _ = cli("train", ARCH / "alexnet.yaml", "--examples", "1.2e6",
                       "--epochs", "90", "--json")
    assert code == 0
    d = json.loads(out)
    # 1.2e6 x 90 x 3 x 1,448,813,632 = 4.69415616768e17
    assert d["flops"] == pytest.approx(4.69415616768e17)
    assert d["counting"]["six_nd"] is None


def test_train_both_methods_verdicts(cli):
    code, out, _ = cli("train", ARCH / "alexnet.yaml", "--examples", "1.2e6",
                       "--epochs", "90", "--hardware", "GTX 580", "--chips", "2", "--days", "5-6")
    assert code == 0
    assert "implied utilisation 0.286-0.344: PLAUSIBLE" in out
    # GPT-3 in one V100-day: implied 3.229e23 / 1.08e19 = 2.99e4 -> impossible, exit 1
    code, out, err = cli("train", ARCH / "gpt3-175b.yaml", "--tokens", "300e9",
                         "--hardware", "V100", "--gpu-days", "1", "--json")
    assert code == 1
    assert json.loads(out)["verdict"] == "impossible"
    assert "above 1" in err and err.count("\n") == 1


def test_hardware_list_and_detail(cli):
    code, out, _ = cli("hardware")
    assert code == 0 and "nvidia-h100-sxm" in out and "google-tpu-v3-8" in out
    code, out, _ = cli("hardware", "H100 SXM")
    assert code == 0 and "989.4   <- default" in out and "source:" in out
    code, out, _ = cli("hardware", "TITAN X", "--json")
    ids = [r["id"] for r in json.loads(out)]
    assert "nvidia-gtx-titan-x" in ids and "nvidia-titan-x-pascal" in ids
    code, out, _ = cli("hardware", "gtx 1080 ti", "--json")
    assert json.loads(out)[0]["default_precision"] == "fp32"


@pytest.mark.parametrize("args, needle", [
    (["hardware", "H1OO"], "closest: nvidia-h100-sxm"),
    (["compute", "--hardware", "V1000", "--days", "1"], "closest: nvidia-v100-sxm2"),
    (["compute", "--hardware", "GTX 1080 Ti", "--days", "1", "--precision", "bf16"],
     "it has: fp64, fp32, fp16"),
    (["compute", "--hardware", "V100", "--days", "0"], "must be positive"),
    (["compute", "--hardware", "V100", "--chips", "-4", "--days", "1"], "must be positive"),
    (["compute", "--hardware", "V100", "--days", "1", "--utilisation", "1.2"], "at most 1"),
    (["compute", "--hardware", "V100", "--days", "eighty"], "cannot read --days"),
    (["compute", "--hardware", "V100", "--days", "3-"], "cannot read --days"),
    (["compute", "--hardware", "V100"], "needs a time"),
    (["compute", "--days", "3"], "needs --hardware"),
    (["compute"], "nothing to estimate"),
    (["train", ARCH / "alexnet.yaml"], "needs what training saw"),
    (["train", ARCH / "alexnet.yaml", "--tokens", "1e9"], "--examples"),
])
def test_bad_input_exit_2_one_line(cli, args, needle):
    code, out, err = cli(*args)
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_subprocess_entry_point():
    p = subprocess.run([sys.executable, "-m", "estimator", "compute", "--hardware", "TPU v3-8",
                        "--chips", "8", "--utilisation", "0.1", "--runs", "32", "--seconds", "7.3e6",
                        "--json"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["flops"] == pytest.approx(7.84896e22)
    p = subprocess.run([sys.executable, "-m", "estimator", "compute", "--hardware", "nope",
                        "--days", "1"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == "" and p.stderr.count("\n") == 1
