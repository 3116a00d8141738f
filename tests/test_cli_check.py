"""`paramcount check`, `paramcount export` and `paramcount onnx`: output, JSON, exit codes.

Exit codes (DESIGN.md): 0 agreement, 1 a witness disagrees, 2 bad input with one line on
stderr, no traceback and nothing written.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("fvcore")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from estimator.graphs import crosscheck  # noqa: E402
from estimator.count import Count  # noqa: E402

pytestmark = [pytest.mark.onnx, pytest.mark.torch]

SPEC = """
name: cli-mlp
citation: a hand-made test spec
input: {vector: 8}
vars: {h: 16}
reduced: {h: 4}
layers:
  - {kind: linear, name: fc1, out: h}
  - relu
  - {kind: linear, name: fc2, out: 3}
"""
# params: fc1 8*16+16 = 144, fc2 16*3+3 = 51 -> 195
# FLOPs:  fc1 2*8*16 = 256, fc2 2*16*3 = 96 -> 352 (every witness counts both Linear layers)


@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "mlp.yaml"
    p.write_text(SPEC)
    return p


def test_check_table_and_exit_0(spec, cli):
    code, out, err = cli("check", str(spec))
    assert code == 0, err
    head = next(line for line in out.splitlines() if line.startswith("layer"))
    for col in ("analytic (full)", "torch (full)", "onnx (full)", "fvcore (full)", "verdict"):
        assert col in head
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert total.count("195 / 352 ok") == 3
    assert "verdict: AGREE" in out


def test_check_json(spec, cli):
    code, out, err = cli("check", str(spec), "--json")
    assert code == 0
    d = json.loads(out)
    assert d["ok"] is True and d["size"] == "full" and d["failures"] == []
    assert d["total"]["analytic"] == {"params": 195, "forward_flops": 352}
    for w in ("torch", "onnx", "fvcore"):
        assert d["witnesses"][w]["status"] == "ran" and d["witnesses"][w]["size"] == "full"
        assert d["total"][w] == {"params": 195, "forward_flops": 352, "verdict": "ok"}
    fc1 = next(r for r in d["layers"] if r["path"] == "fc1")
    assert fc1["onnx"] == {"params": 144, "forward_flops": 256, "verdict": "ok"}


def test_check_reduced_size_is_stated(spec, cli, monkeypatch):
    monkeypatch.setattr(crosscheck, "MAX_FULL_PARAMS", 100)
    code, out, _ = cli("check", str(spec))
    assert code == 0
    assert "size: REDUCED (h=4)" in out
    # reduced: fc1 8*4+4 = 36, fc2 4*3+3 = 15 -> 51 params; 2*8*4 + 2*4*3 = 88 FLOPs
    assert "51 / 88 ok" in out
    assert "full size (195 params, 352 forward FLOPs analytic)" in out


def test_check_disagreement_exits_1(spec, cli, monkeypatch):
    real = crosscheck.run_torch

    def lying_torch(s, size, *shared):
        run_ = real(s, size, *shared)
        r = run_.result
        r.total = Count(r.total.params + 1, r.total.active_params, r.total.forward_flops)
        return run_

    monkeypatch.setattr(crosscheck, "run_torch", lying_torch)
    code, out, _ = cli("check", str(spec))
    assert code == 1
    assert "DIFF" in out and "DISAGREE" in out and "total: torch" in out


@pytest.mark.parametrize("hostile", ["\x1b[2J\x1b]0;owned\x07", "\u202etxt.exe", "a\rb"])
def test_check_table_prints_no_control_character_from_the_spec(tmp_path, cli, hostile):
    # the spec's name and its file name reach the report's head (and a shared table's
    # owner line): every control character is shown as an escape, the check still agrees
    folder = tmp_path / f"d{hostile}"
    folder.mkdir()
    p = folder / "mlp.yaml"
    p.write_text(SPEC.replace("name: cli-mlp", f"name: {json.dumps('x' + hostile)}"))
    code, out, err = cli("check", str(p))
    assert code == 0, err
    assert not [c for c in out if (ord(c) < 0x20 and c != "\n") or c in "\x7f\u202e"]
    from estimator.safety import printable

    assert out.splitlines()[0] == printable("x" + hostile) + (
        ": cross-check, parameters / forward FLOPs per layer")
    assert f"spec: {printable(str(p))}" in out


def test_check_bad_input_exit_2(tmp_path, cli):
    code, out, err = cli("check", str(tmp_path / "missing.yaml"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    code, out, err = cli("check", str(tmp_path / "x.yaml"), "--only", "tensorflow")
    assert code == 2 and "unknown witness" in err


def test_export_then_count(spec, tmp_path, cli):
    out_path = tmp_path / "m.onnx"
    code, out, err = cli("export", str(spec), "-o", str(out_path))
    assert code == 0, err
    assert out_path.is_file() and "output 1x3 = the spec's declared output" in out
    code, out, err = cli("onnx", str(out_path), "--json")
    assert code == 0
    d = json.loads(out)
    assert (d["params"], d["forward_flops"]) == (195, 352)


def test_export_refusal_writes_nothing(spec, tmp_path, cli):
    code, out, err = cli("export", str(spec), "-o", str(tmp_path / "m.pb"))
    assert code == 2 and out == "" and "must end in .onnx" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.yaml"]


# -------------------------------------------------------------- bad ONNX input, exit 2

def _graph(tmp_path, nodes, inp_dims, name="g.onnx", opsets=(("", 17),)):
    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "W")
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                                     inp_dims)],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    p = tmp_path / name
    onnx.save(m, str(p))
    return p


def _one_line_exit_2(cli, argv, *needles):
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0]


def test_onnx_bad_inputs(tmp_path, cli):
    mm = helper.make_node("MatMul", ["X", "W"], ["Y"], name="/fc/MatMul")
    good = _graph(tmp_path, [mm], ["batch", 4])
    # symbolic dim without a shape; then given: 2*(3*4)*4 = 96 FLOPs
    _one_line_exit_2(cli, ["onnx", str(good)], "'X'", "batch")
    code, out, _ = cli("onnx", str(good), "--input", "batch=3", "--json")
    assert code == 0 and json.loads(out)["forward_flops"] == 96
    code, out, _ = cli("onnx", str(good), "--input", "X=3x4", "--json")
    assert code == 0 and json.loads(out)["forward_flops"] == 96
    # truncated file and a file of another format
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(good.read_bytes()[:40])
    _one_line_exit_2(cli, ["onnx", str(cut), "--input", "batch=1"], "cut.onnx")
    txt = tmp_path / "notes.onnx"
    txt.write_text("hello, I am not a graph\n")
    _one_line_exit_2(cli, ["onnx", str(txt)], "notes.onnx")
    # an op without a FLOP formula: refused at the command line (listed with --allow-unknown)
    odd = _graph(tmp_path, [helper.make_node("Warp", ["X"], ["Y"], domain="com.example",
                                             name="/w/Warp")], [1, 4], "odd.onnx",
                 (("", 17), ("com.example", 1)))
    _one_line_exit_2(cli, ["onnx", str(odd)], "com.example:Warp x1")
    code, out, _ = cli("onnx", str(odd), "--allow-unknown", "--json")
    assert code == 0 and json.loads(out)["unknown_ops"] == {"com.example:Warp": 1}
    # external data pointing outside the model's folder
    from onnx.external_data_helper import convert_model_to_external_data

    m = onnx.load(str(good))
    convert_model_to_external_data(m, all_tensors_to_one_file=True, location="w.bin",
                                   size_threshold=0)
    sub = tmp_path / "sub"
    sub.mkdir()
    onnx.save(m, str(sub / "ext.onnx"))
    m = onnx.load(str(sub / "ext.onnx"), load_external_data=False)
    for e in m.graph.initializer[0].external_data:
        if e.key == "location":
            e.value = "../../etc/passwd"
    onnx.save(m, str(sub / "ext.onnx"))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    _one_line_exit_2(cli, ["onnx", str(sub / "ext.onnx"), "--input", "batch=1"],
                     "outside the model's folder")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before   # nothing written


def test_onnx_sizes_must_be_positive_and_the_batch_is_stated(tmp_path, cli):
    mm = helper.make_node("MatMul", ["X", "W"], ["Y"], name="/fc/MatMul")
    good = _graph(tmp_path, [mm], ["N", 4])
    for value in ("N=0", "N=-1", "X=0x4", "X=-1x4"):
        _one_line_exit_2(cli, ["onnx", str(good), "--input", value], "positive")
    bad = _graph(tmp_path, [helper.make_node("MatMul", ["X", "W"], ["Y"], name="/fc/MatMul")],
                 [2, 5], "bad.onnx")    # 2x5 @ 4x4
    _one_line_exit_2(cli, ["onnx", str(bad)], "bad.onnx", "invalid graph")
    code, out, _ = cli("onnx", str(good), "--input", "N=3")
    # MatMul 2 * (3*4) * 4 = 96 FLOPs for the batch of 3, 32 per example
    assert code == 0 and "forward pass for a batch of 3 examples" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("forward FLOPs per example"))
    assert "(batch 3)" in line and line.split()[-1] == "32"  # a whole number, no ".0"


def test_export_writes_what_was_asked_and_a_reduced_export_says_so(spec, tmp_path, cli,
                                                                    monkeypatch):
    from estimator.graphs import onnx_export

    monkeypatch.setattr(onnx_export, "MAX_FULL_PARAMS", 100)   # 195 params is "large" here
    out_path = tmp_path / "m.onnx"
    code, out, err = cli("export", str(spec), "-o", str(out_path), "--json")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert (d["size"], d["params"]) == ("full", 195)           # the spec as written
    code, out, _ = cli("onnx", str(out_path), "--json")
    assert json.loads(out)["params"] == 195
    for size in ("reduced", "auto"):
        code, out, err = cli("export", str(spec), "-o", str(out_path), "--size", size)
        assert code == 0 and "size: reduced" in out
        # reduced: h=4 -> fc1 8*4+4 = 36, fc2 4*3+3 = 15 -> 51 params
        assert err.startswith(f"WARNING: {out_path} holds a REDUCED model (h=4): 51 "
                              "parameters, not the 195 of the spec as written")


# ------------------------------------------- a check that compared nothing is not a pass

@pytest.mark.parametrize("missing,only", [(("torch", "onnx", "fvcore"), None),   # torch-free
                                          (("onnx",), "onnx"), (("onnxruntime",), "onnx"),
                                          (("fvcore",), "fvcore")])
def test_check_with_no_witness_is_not_a_pass(spec, cli, monkeypatch, missing, only):
    import sys

    for mod in missing:   # as if not installed: find_spec() is None and import fails
        monkeypatch.setitem(sys.modules, mod, None)
    args = ["check", str(spec)] + (["--only", only] if only else [])
    code, out, err = cli(*args)
    assert code == 2, out
    assert "verdict: NOT CHECKED: only the analytic count ran" in out and "AGREE" not in out
    line = err.strip()
    assert len(err.strip().splitlines()) == 1 and line.startswith("NOT CHECKED")
    extra = {"torch": "torch", "onnx": "onnx", "onnxruntime": "onnx", "fvcore": "fvcore"}
    for mod in missing:
        assert f"{mod} is not installed (pip install 'paramcount[{extra[mod]}]')" in line
    # the rows compared nothing: no row says ok
    assert not any(r.endswith(" ok") for r in out.splitlines() if r.startswith("fc"))
    code, out, _ = cli(*args, "--json")
    d = json.loads(out)
    assert code == 2 and (d["ok"], d["verdict"], d["witnesses_ran"]) == \
        (False, "not checked", ["analytic"])
    assert {r["verdict"] for r in d["layers"]} == {"-"}


def test_one_witness_is_enough_and_the_others_are_named(spec, cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "fvcore", None)
    code, out, err = cli("check", str(spec))
    assert code == 0, err
    assert "verdict: AGREE: torch, onnx agree with the analytic count (not compared: fvcore)" \
        in out
    assert "fvcore: cannot run: fvcore is not installed (pip install 'paramcount[fvcore]')" \
        in out


def test_padding_same_conv_is_explained_not_a_disagreement(tmp_path, cli):
    p = tmp_path / "same.yaml"
    p.write_text("name: same-conv\ncitation: a hand-made test spec\n"
                 "input: {image: [3, 8, 8]}\nlayers:\n"
                 "  - {kind: conv2d, name: c1, out: 4, kernel: 3, padding: same}\n"
                 "  - relu\n"
                 "  - {kind: conv2d, name: c2, out: 4, kernel: 3, padding: 1}\n")
    code, out, err = cli("check", str(p), "--only", "torch,fvcore", "--json")
    assert code == 0, out
    d = json.loads(out)
    c1 = next(r for r in d["layers"] if r["path"] == "c1")
    # c1: 8*8 positions x 4 out x 3*3*3 = 6,912 MACs = 13,824 FLOPs that fvcore cannot see
    # (aten::_convolution_mode); c2: 8*8 x 4 x 4*3*3 = 9,216 MACs = 18,432 FLOPs, seen
    assert c1["analytic"]["forward_flops"] == 13_824
    assert c1["fvcore"] == {"params": 112, "forward_flops": 0, "verdict": "explained",
                            "note": "skips conv with padding 'same' (_convolution_mode): "
                                    "-13.8 kFLOP exactly"}
    assert d["total"]["fvcore"]["forward_flops"] == 18_432
    assert d["total"]["fvcore"]["verdict"] == "explained" and d["verdict"] == "agree"
