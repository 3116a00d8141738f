"""``paramcount model PACKAGE.MODULE:FACTORY --input ...``: output, JSON, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TESTS = Path(__file__).parent


class Run:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run(cli):
    """The CLI in-process, run from the tests folder (where zoo.py lives)."""
    return lambda *args, cwd=TESTS: Run(*cli(*args, cwd=cwd))


def test_console_script_one_line_error():
    p = subprocess.run([sys.executable, "-c", "from estimator.cli import main; main()", "model",
                        "zoo:resnet18", "--input", "1x4x224x224"],
                       capture_output=True, text=True, cwd=TESTS, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("module 'conv1' (Conv2d(3, 64") and p.stderr.count("\n") == 1


def test_model_json_resnet18(run):
    p = run("model", "zoo:resnet18", "--input", "1x3x224x224", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["params"] == 11_689_512  # torchvision's published count
    assert d["macs"] == 1_814_073_344  # torchvision: 1.81 GFLOPS (GMACs)
    assert d["forward_flops"] == 2 * 1_814_073_344 and d["active_params"] == d["params"]
    assert {"name", "params", "active_params", "forward_flops", "layers"} <= set(d)
    assert d["layers"][0]["path"] == "conv1"


def test_model_kwargs_and_table(run):
    p = run("model", "zoo:resnet18", "--input", "1x3x224x224", "--kwarg", "num_classes=10",
            "--depth", "1")
    assert p.returncode == 0, p.stderr
    # fc shrinks from 512*1000 + 1000 to 512*10 + 10: 11,689,512 - 513,000 + 5,130
    assert "11,181,642" in p.stdout and "layer4" in p.stdout
    assert "layer4.0" not in p.stdout  # --depth 1


def test_model_token_inputs_by_name(run, tmp_path):
    (tmp_path / "tinylm.py").write_text(
        "import torch\n"
        "class LM(torch.nn.Module):\n"
        "    def __init__(self, vocab=50, d=8):\n"
        "        super().__init__()\n"
        "        self.emb = torch.nn.Embedding(vocab, d)\n"
        "        self.head = torch.nn.Linear(d, vocab, bias=False)\n"
        "    def forward(self, input_ids):\n"
        "        return self.head(self.emb(input_ids))\n")
    p = run("model", "tinylm:LM", "--input", "input_ids=1x10", "--kwarg", "vocab=20", "--json",
            cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    # 20*8 + 8*20 = 320 params; 2 x 10 tokens x 8 x 20 = 3,200 FLOPs, 320 per token
    assert (d["params"], d["forward_flops"], d["tokens"]) == (320, 3_200, 10)
    assert d["per_token"]["forward_flops"] == 320


@pytest.mark.parametrize("args,message", [
    (["model", "zoo:resnet18", "--input", "1x4x224x224"],
     "module 'conv1' (Conv2d(3, 64"),
    (["model", "zoo:nosuch", "--input", "1x3"], "no attribute 'nosuch'"),
    (["model", "nosuchpkg.mod:f", "--input", "1x3"], "cannot import module 'nosuchpkg.mod'"),
    (["model", "zoo:resnet18", "--input", "1xAx3"], "1xAx3"),
    (["model", "zoo:resnet18"], "--input"),
    (["model", "zoo:PUBLISHED", "--input", "1x3"], "not callable"),
    (["model", "zoo:resnet18", "--input", "1x3x224x224", "--kwarg", "nope=1"], "nope"),
])
def test_model_bad_input_is_one_line_exit_2(run, args, message):
    p = run(*args)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_model_data_dependent_suggests_real(run, tmp_path):
    (tmp_path / "branchy.py").write_text(
        "import torch\n"
        "class B(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.l = torch.nn.Linear(4, 4)\n"
        "    def forward(self, x):\n"
        "        return self.l(x) if x.sum() >= 0 else x\n")
    p = run("model", "branchy:B", "--input", "2x4", cwd=tmp_path)
    assert p.returncode == 2 and "depends on data values" in p.stderr and "--real" in p.stderr
    p = run("model", "branchy:B", "--input", "2x4", "--real", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["forward_flops"] == 2 * 2 * 4 * 4  # zeros: sum >= 0 -> linear


LAZY_AND_DETECTOR = (
    "import torch\n"
    "from torch import nn\n"
    "def lazy():\n"
    "    return nn.Sequential(nn.LazyLinear(4), nn.ReLU())\n"
    "def lazyconv():\n"
    "    return nn.Sequential(nn.LazyConv2d(4, 3))\n"
    "class Det(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.body = nn.Conv2d(3, 8, 3, padding=1)\n"
    "    def forward(self, images, scale=1.0):\n"
    "        return torch.stack([self.body(im[None]).mean() for im in images]) * scale\n"
)


@pytest.mark.parametrize("args", [
    ["nets:lazy", "--input", "2x3"],                      # valid input
    ["nets:lazy", "--input", "2x3", "--real"],            # valid input, real tensors
    ["nets:lazy", "--input", "2x3x8x8"],                  # input the layer would accept too
    ["nets:lazyconv", "--input", "1x3x8x8", "--real"],
    ["nets:lazyconv", "--input", "1x5"],                  # invalid input
])
def test_lazy_modules_are_one_line_exit_2(run, tmp_path, args):
    (tmp_path / "nets.py").write_text(LAZY_AND_DETECTOR)
    p = run("model", *args, cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert "module '0' (Lazy" in p.stderr and "uninitialized lazy parameters" in p.stderr


def test_input_list_for_detection_models(run, tmp_path):
    (tmp_path / "nets.py").write_text(LAZY_AND_DETECTOR)
    p = run("model", "nets:Det", "--input-list", "3x8x8,3x8x12", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    # conv 3->8, 3x3, padding 1 on 8x8 and 8x12 images: (64 + 96) x 8 x 27 = 34,560 MACs
    assert d["forward_flops"] == 2 * 34_560 and d["batch"] == 2
    assert d["per_example"]["forward_flops"] == 34_560
    # by keyword, and in the text the batch is stated with per-example figures
    p = run("model", "nets:Det", "--input-list", "images=3x8x8,3x8x12", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "forward pass for a batch of 2 examples" in p.stdout
    line = next(ln for ln in p.stdout.splitlines() if "forward FLOPs per example" in ln)
    assert "(batch 2)" in line and line.split()[-1] == "34,560"  # a whole number, no ".0"
    for bad, msg in ((["--input-list", "3x8x8,,3x8x8"], "separated by commas"),
                     (["--input-list", "3x8xA"], "3x8xA"),
                     (["--input", "x=1x2", "--input-list", "3x8x8"], "all positional")):
        p = run("model", "nets:Det", *bad, cwd=tmp_path)
        assert p.returncode == 2 and msg in p.stderr and "Traceback" not in p.stderr


def test_model_states_the_real_batch(run):
    p = run("model", "zoo:resnet18", "--input", "2x3x64x64", "--json")
    d = json.loads(p.stdout)
    assert d["batch"] == 2 and d["per_example"]["forward_flops"] == d["forward_flops"] / 2
    p = run("model", "zoo:resnet18", "--input", "2x3x64x64")
    assert "batch of 2 examples" in p.stdout and "batch 1" not in p.stdout
    p = run("model", "zoo:resnet18", "--input", "1x3x64x64")
    assert "forward pass for one example, batch 1" in p.stdout
    assert "per example" not in p.stdout
