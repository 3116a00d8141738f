"""The spec CLI: `paramcount SPEC`, --json, --depth, comparisons, kinds, schema, and bad input.

Bad input must give exit code 2 and exactly one line on stderr naming file, line and key
path, with nothing on stdout and no traceback. Most run the real console entry point in a
subprocess, as a user would; the table of bad specs runs in-process (one start-up, not 18).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
ALEXNET = str(ROOT / "archspecs" / "alexnet.yaml")


def run(*args, cwd=None):
    p = subprocess.run([sys.executable, "-m", "estimator", *map(str, args)],
                       capture_output=True, text=True, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def test_count_prints_breakdown():
    code, out, err = run(ALEXNET)
    assert code == 0, err
    assert err == ""
    # 60,965,224 params -> 61.0M; 1,448,813,632 FLOPs -> 1.45 GFLOP; 724,406,816 MACs -> 724 MMAC
    assert "61.0M" in out and "60,965,224" in out
    assert "1.45 GFLOP" in out and "724,406,816" in out
    assert "conv2" in out and "256 x 27 x 27" in out  # conv2's output shape
    assert "Krizhevsky" in out


def test_json_has_the_contract_keys():
    code, out, err = run(ALEXNET, "--json")
    assert code == 0, err
    d = json.loads(out)  # stdout holds only JSON
    for key in ("name", "params", "active_params", "forward_flops", "macs", "other_flops", "layers"):
        assert key in d
    assert d["params"] == 60_965_224 and d["macs"] == 724_406_816
    conv2 = next(r for r in d["layers"] if r["path"] == "conv2")
    # 256*48*5*5 + 256 = 307,456; 2 * 27*27*256 * 1200 = 447,897,600 FLOPs
    assert conv2 == {**conv2, "kind": "conv2d", "params": 307_456, "forward_flops": 447_897_600,
                     "output_shape": [256, 27, 27]}


def test_depth_collapses_tree():
    code, out, _ = run(ROOT / "archspecs" / "resnet50.yaml", "--json", "--depth", "1")
    d = json.loads(out)
    assert {r["depth"] for r in d["layers"]} == {1}
    assert [r["path"] for r in d["layers"]][:5] == ["conv1", "bn1", "2", "maxpool", "layer1"]
    code, out, _ = run(ROOT / "archspecs" / "resnet50.yaml", "--json", "--depth", "2")
    assert max(r["depth"] for r in json.loads(out)["layers"]) == 2


def test_several_specs_compare_side_by_side():
    code, out, err = run(ALEXNET, ROOT / "archspecs" / "vgg16.yaml")
    assert code == 0, err
    assert "AlexNet" in out and "VGG-16" in out
    assert "61.0M" in out and "138M" in out


def test_set_overrides_a_variable():
    code, out, _ = run(ALEXNET, "--json", "--set", "classes=10")
    # fc8 shrinks from 4096*1000 + 1000 to 4096*10 + 10: 60,965,224 - 4,097,000 + 40,970
    assert json.loads(out)["params"] == 60_965_224 - 4_097_000 + 40_970


def test_count_subcommand_reaches_a_file_named_like_a_command(tmp_path):
    spec = (ROOT / "archspecs" / "alexnet.yaml").read_text()
    (tmp_path / "kinds").write_text(spec)
    code, out, err = run("count", "kinds", "--json", cwd=tmp_path)
    assert code == 0, err
    assert json.loads(out)["params"] == 60_965_224
    code, out, _ = run("kinds", cwd=tmp_path)  # the subcommand itself still works
    assert code == 0 and "conv2d" in out


def test_kinds_and_schema():
    code, out, _ = run("kinds", "--json")
    kinds = {k["kind"]: k for k in json.loads(out)}
    assert "moe" in kinds and any(k["key"] == "top_k" for k in kinds["moe"]["keys"])
    code, out, _ = run("schema")
    schema = json.loads(out)
    layer_kinds = {d["properties"]["kind"]["const"] for name, d in schema["$defs"].items()
                   if name.startswith("Layer_")}
    assert layer_kinds == set(kinds)
    assert "conv2d" in schema["$defs"]["Layer"]["anyOf"][0]["enum"]


def test_schema_validates_archspecs():
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    code, out, _ = run("schema")
    schema = json.loads(out)
    # one validator, the schema checked once (jsonschema.validate re-checks and rebuilds it
    # on every call: 0.6 s per spec for this 133 KB schema)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    # libyaml's safe loader where installed (the pure-Python one was half this test's time)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted((ROOT / "archspecs").glob("*.yaml")):
        # as JSON data (an unquoted YAML date, `date: 2018-10-11`, is the text an editor sees)
        data = yaml.load(path.read_text(), Loader=loader)
        validator.validate(json.loads(json.dumps(data, default=str)))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"name": "x", "input": {"tokens": 4},
                            "layers": [{"kind": "linear", "outt": 3}]})
    # as the loader: padding may be 0 (a Sizes0), a kernel may not (a Sizes), in a list too
    conv = {"name": "x", "input": {"shape": [3, 8, 8]}, "layers": [{"kind": "conv2d", "out": 4}]}
    for layer, valid in (({"kernel": 1, "padding": 0}, True), ({"kernel": 1, "padding": [0, 0]}, True),
                         ({"kernel": 0}, False), ({"kernel": [3, 0]}, False)):
        spec = dict(conv, layers=[dict(conv["layers"][0], **layer)])
        assert validator.is_valid(spec) is valid, layer
        if valid:
            assert analyze(load_spec(spec)).params == 3 * 4 + 4  # 1x1 conv: 3 x 4 weights + 4 biases
        else:
            with pytest.raises(SpecError):
                load_spec(spec)


def test_analytic_path_never_imports_torch():
    code = ("import sys; from estimator.cli import main\n"
            "try:\n    main([%r, '--json'])\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "assert 'onnx' not in sys.modules\n"
            "assert 'numpy' not in sys.modules\n" % ALEXNET)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_input_file_is_not_modified(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text((ROOT / "archspecs" / "alexnet.yaml").read_text())
    before = path.read_bytes(), path.stat().st_mtime_ns
    run(path, "--json")
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


# --------------------------------------------------------------------------- bad input

HEAD = "name: x\ninput: {image: [3, 8, 8]}\nlayers:\n"
SEQ = "name: x\ninput: {shape: [4, 10]}\n"

BAD = {
    # name: (file text, expected line, expected key path, words the message must contain)
    "malformed_yaml": (HEAD + "  - {kind: conv2d, out: 4, kernel: 3\n", 5, None, "malformed YAML"),
    "unknown_kind": (HEAD + "  - {kind: conv2, out: 4, kernel: 3}\n", 4, "layers[0].kind",
                     "did you mean 'conv2d'"),
    "unknown_key": (HEAD + "  - {kind: conv2d, out: 4, kernal: 3}\n", 4, "layers[0].kernal",
                    "did you mean 'kernel'"),
    "wrong_type": (HEAD + "  - {kind: conv2d, out: 4, kernel: 3, bias: maybe}\n", 4,
                   "layers[0].bias", "boolean"),
    "zero_size": (HEAD + "  - {kind: conv2d, out: 0, kernel: 3}\n", 4, "layers[0].out",
                  "greater than 0"),
    "negative_size": (HEAD + "  - {kind: linear, out: -5}\n", 4, "layers[0].out", "greater than 0"),
    "residual_mismatch": (HEAD + "  - kind: residual\n    layers: [{kind: conv2d, out: 4, kernel: 3, padding: 1}]\n",
                          4, "layers[0]", "shapes must match"),
    "kernel_too_large": (HEAD + "  - {kind: conv2d, out: 4, kernel: 11}\n", 4, "layers[0]",
                         "larger than the padded input"),
    "heads_not_dividing": (SEQ + "layers:\n  - {kind: attention, heads: 3}\n", 4, "layers[0]",
                           "does not divide d_model=10"),
    "unknown_variable": (SEQ + "vars: {d: 8}\nlayers:\n  - {kind: linear, out: 4 * d_model}\n", 5,
                         "layers[0].out", "unknown variable 'd_model'"),
    "division_by_zero": (SEQ + "vars: {d: 8, z: 0}\nlayers:\n  - {kind: linear, out: d // z}\n", 5,
                         "layers[0].out", "division by zero"),
    "dangling_tie": ("name: x\ninput: {tokens: 4}\nlayers:\n  - {kind: embedding, name: emb, vocab: 10, dim: 8}\n"
                     "  - {kind: linear, out: 10, tie: embd}\n", 5, "layers[1].tie", "did you mean 'emb'"),
    "cyclic_tie": ("name: x\ninput: {shape: [4, 8]}\nlayers:\n  - {kind: linear, name: a, out: 8, tie: b}\n"
                   "  - {kind: linear, name: b, out: 8, tie: a}\n", 4, "layers[0].tie", "cycle"),
    "cyclic_variables": ("name: x\ninput: {shape: [4, 8]}\nvars: {a: b + 1, b: a + 1}\nlayers: [relu]\n",
                         3, "vars.a", "cycle"),
    "empty_file": ("", None, None, "empty file"),
    "object_tag": ("name: !!python/object/apply:os.system ['echo hi']\ninput: {shape: [4, 8]}\nlayers: [relu]\n",
                   1, None, "not allowed"),
    "code_in_expression": (SEQ + "layers:\n  - {kind: linear, out: \"__import__('os').getcwd()\"}\n", 4,
                           "layers[0].out", "not allowed"),
    "duplicate_key": ("name: x\ninput: {shape: [4, 8]}\nlayers: [relu]\nlayers: [tanh]\n", 4, None,
                      "duplicate key 'layers'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.filterwarnings("error")  # a warning would be a second line on a user's stderr
def test_bad_input_one_line_exit_2(case, tmp_path, cli):
    """In-process (the ``cli`` fixture: ``main`` as the console script calls it, its exit
    code and both streams), so 18 cases pay one start-up, not 18; a traceback would be an
    exception here, and the console script's own one-line errors are the subprocess tests
    around this one."""
    text, line, key, words = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    code, out, err = cli(path)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    where = f"{path}:{line}:" if line else f"{path}:"
    assert err.startswith(where), err
    if key:
        assert f": {key}: " in err, err
    assert words in err, err
    assert path.read_text() == text  # never modified


def test_missing_file_and_directory(tmp_path):
    code, out, err = run(tmp_path / "nope.yaml")
    assert (code, out) == (2, "") and err == f"{tmp_path / 'nope.yaml'}: no such file\n"
    code, out, err = run("count", tmp_path)
    assert (code, out) == (2, "") and err == f"{tmp_path}: this is a folder, not a spec file\n"


def test_bad_option_is_exit_2_one_line():
    code, out, err = run(ALEXNET, "--depth", "many")
    assert code == 2 and out == "" and err.count("\n") == 1
    code, out, err = run(ALEXNET, "--set", "classes")
    assert code == 2 and "NAME=EXPR" in err
    code, out, err = run(ALEXNET, "--set", "clases=10")
    assert code == 2 and "did you mean 'classes'" in err
