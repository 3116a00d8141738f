"""Hostile input (issue 19): specs, configs, graphs and command-line values made to break
paramcount. Each case gives one line on stderr and exit 2 (or the right result), writes no
file besides the output it was asked for, leaves its input unchanged, and finishes within a
time and memory bound (the cases that could hang or exhaust memory run in a subprocess under
RLIMIT_AS and a timeout; the rest in-process through ``estimator.cli.main``).

Not here: ``paramcount verify`` (tests/test_verify_input.py) and the analytic count of a
Hugging Face config (tests/test_hf_config.py).
"""
from __future__ import annotations

import csv
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

REPO = Path(__file__).resolve().parent.parent
ARCH = REPO / "archspecs"

TINY = """\
name: {name}
citation: {citation}
{extra}input: {{shape: [4]}}
layers:
  - {{kind: linear, name: fc, out: 4}}
"""


def tiny(tmp_path, name="Tiny", citation="a test spec", extra="year: 2020\ndomain: vision\n",
         file="tiny.yaml") -> Path:
    p = tmp_path / file
    p.write_text(TINY.format(name=json.dumps(name), citation=json.dumps(citation), extra=extra))
    return p


def one_line(err: str) -> str:
    """The single stderr line of a refused input (no traceback, nothing else)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def listing(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes (links as their target's name)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(folder))] = "-> " + os.readlink(p)
        elif p.is_file():
            out[str(p.relative_to(folder))] = p.read_bytes()
    return out


def bounded(args, *, cwd, seconds=30, mb=1536, stdin=None, code=None):
    """``paramcount ARGS`` in a subprocess limited to ``mb`` MiB of address space and
    ``seconds`` of wall time; returns (exit code, stdout, stderr, seconds)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))

    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(REPO))}
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "estimator", *map(str, args)]
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=seconds,
                       preexec_fn=limit, env=env, stdin=stdin)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


# ------------------------------------------------------------------------- security

def test_catalog_csv_neutralises_formulas_and_keeps_numbers(cli, tmp_path):
    spec = tiny(tmp_path, name='=HYPERLINK("http://evil","click")', citation="@SUM(A1)")
    before = listing(tmp_path)
    code, out, err = cli("catalog", "--csv", spec)
    assert code == 0, err
    row = list(csv.DictReader(io.StringIO(out)))[0]
    assert row["name"] == '\'=HYPERLINK("http://evil","click")' and row["citation"] == "'@SUM(A1)"
    # linear 4 -> 4 with bias: 4*4 + 4 = 20 params, a number cell (not neutralised)
    assert row["params"] == "20"
    assert listing(tmp_path) == before


def test_catalog_csv_writes_whole_floats_as_integers(cli):
    code, out, err = cli("catalog", "--csv", ARCH / "alexnet.yaml")
    assert code == 0, err
    row = list(csv.DictReader(io.StringIO(out)))[0]
    # AlexNet's published 60M parameters (Krizhevsky et al. 2012, section 3.5): 60000000, not 60000000.0
    assert row["published_params"] == "60000000"


ESC = "evil\x1b]0;pwned\x07\x1b[2J"


@pytest.mark.parametrize("args", [("catalog", "{spec}"), ("catalog", "{spec}", "Evil"),
                                  ("{spec}",)])
def test_terminal_escapes_are_shown_escaped(cli, tmp_path, args):
    spec = tiny(tmp_path, name="Evil " + ESC, citation="cite " + ESC)
    code, out, err = cli(*[str(spec) if a == "{spec}" else a for a in args])
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out


@pytest.mark.parametrize("link", ["symlink", "hardlink", "same"])
def test_catalog_html_never_writes_onto_its_input(cli, tmp_path, link):
    pytest.importorskip("plotly")
    spec = tiny(tmp_path, file="spec.html" if link == "same" else "tiny.yaml")
    target = tmp_path / "page.html"
    if link == "symlink":
        target.symlink_to(spec.name)
    elif link == "hardlink":
        os.link(spec, target)
    else:
        target = spec
    before = listing(tmp_path)
    code, out, err = cli("catalog", "--html", target, spec)
    assert code == 2 and "would overwrite the input" in one_line(err)
    assert listing(tmp_path) == before


def test_catalog_plot_never_writes_onto_its_input(cli, tmp_path):
    pytest.importorskip("matplotlib")
    spec = tiny(tmp_path)
    (tmp_path / "p.png").symlink_to(spec.name)
    before = listing(tmp_path)
    code, out, err = cli("catalog", "--plot", tmp_path / "p.png", spec)
    assert code == 2 and "would overwrite the input" in one_line(err)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("option,name,extra", [("--html", "missing/page.html", "plotly"),
                                               ("--html", "missing", "plotly"),
                                               ("--plot", "missing/p.png", "matplotlib")])
def test_a_missing_output_folder_is_one_line_for_every_option(cli, tmp_path, option, name, extra):
    pytest.importorskip(extra)
    spec = tiny(tmp_path)
    before = listing(tmp_path)
    code, out, err = cli("catalog", option, tmp_path / name, spec)
    assert code == 2 and "does not exist" in one_line(err)
    assert listing(tmp_path) == before and not (tmp_path / "missing").exists()


def test_export_refuses_an_output_onto_its_input_and_a_missing_folder(cli, tmp_path):
    spec = tmp_path / "net.onnx"   # a spec under an .onnx name: -o net.onnx would replace it
    spec.write_text((REPO / "tests" / "data" / "llama-tiny.yaml").read_text())
    before = listing(tmp_path)
    code, out, err = cli("export", spec, "-o", spec)
    assert code == 2 and "would overwrite the input" in one_line(err)
    code, out, err = cli("export", spec, "-o", tmp_path / "nowhere" / "x.onnx")
    assert code == 2 and "does not exist" in one_line(err)
    assert listing(tmp_path) == before


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_html_to_dev_full_names_that_path_and_the_reason(cli, tmp_path):
    pytest.importorskip("plotly")
    code, out, err = cli("catalog", "--html", "/dev/full", tiny(tmp_path))
    line = one_line(err)
    assert code == 2 and line.startswith("/dev/full: ") and "No space left" in line


def test_markdown_escapes_spec_text(cli, tmp_path):
    spec = tiny(tmp_path, name="<img src=x onerror=alert(1)>", citation="<script>alert(1)</script>")
    for option in ("--markdown", "--page"):
        code, out, err = cli("catalog", option, spec)
        assert code == 0, err
        assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out or "&lt;script>" in out


def test_markdown_links_point_at_the_specs_from_here(cli, tmp_path):
    tiny(tmp_path)
    code, out, err = cli("catalog", "--markdown", "tiny.yaml", cwd=tmp_path)
    assert code == 0, err
    assert "[Tiny](tiny.yaml)" in out  # docs/catalog.md keeps ../archspecs/ (it lives in docs/)


# --------------------------------------------------------------- hangs and exhaustion

HOSTILE_EXPRESSIONS = ["round(5, -1000000000)", "round(5.5, 1000000000)", "round(7, -31)",
                       "2 ** 63", "10 ** 10 ** 9", "0.5 ** -100", "0 ** -1", "9 ** 9 ** 9",
                       "min(3)", "abs(1, 2)", "round(5, 2.5)", "int(1e300)", "1e300 * 1e300",
                       "(-8) ** 0.5"]


@pytest.mark.parametrize("text", HOSTILE_EXPRESSIONS)
def test_every_expression_operation_is_bounded(text):
    from estimator.spec.expr import ExprError, evaluate

    t0 = time.perf_counter()
    with pytest.raises(ExprError):
        evaluate(text, {})
    assert time.perf_counter() - t0 < 0.1


def test_bounded_operations_still_compute():
    from estimator.spec.expr import evaluate

    assert evaluate("round(5, -1)", {}) == 0          # round half to even: 5 -> 0
    assert evaluate("round(2.567, 2)", {}) == 2.57
    assert evaluate("2 ** 62", {}) == 4611686018427387904
    assert evaluate("1 ** 1000000000", {}) == 1     # |base| 1: any exponent
    assert evaluate("max(1, 7, 3)", {}) == 7


_ints = st.one_of(st.integers(-10**12, 10**12), st.integers(-2**70, 2**70))
_nums = st.one_of(_ints, st.floats(allow_nan=False, allow_infinity=False, width=64))


@st.composite
def expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return repr(draw(_nums))
    kind = draw(st.sampled_from(["op", "round", "fn", "minmax"]))
    a, b = draw(expressions(depth=depth - 1)), draw(expressions(depth=depth - 1))
    if kind == "op":
        return f"({a}) {draw(st.sampled_from(['+', '-', '*', '/', '//', '%', '**']))} ({b})"
    if kind == "round":
        return f"round({a}, {draw(st.integers(-10**10, 10**10))})"
    if kind == "fn":
        return f"{draw(st.sampled_from(['ceil', 'floor', 'int', 'abs', 'round']))}({a})"
    return f"{draw(st.sampled_from(['min', 'max']))}({a}, {b})"


@settings(max_examples=300, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_any_generated_expression_is_a_bounded_number_or_one_expr_error(text):
    from estimator.spec.expr import ExprError, evaluate

    try:
        v = evaluate(text, {})
    except ExprError as err:
        assert "\n" not in str(err)
        return
    assert isinstance(v, (int, float)) and abs(v) < 2 ** 63


@pytest.mark.parametrize("where", ["spec", "--set"])
def test_round_with_a_huge_digit_count_is_one_line_quickly(tmp_path, where):
    spec = tmp_path / "r.yaml"
    d = "round(5, -1000000000)" if where == "spec" else "4"
    spec.write_text(f"name: r\ninput: {{shape: [4]}}\nvars: {{d: '{d}'}}\n"
                    "layers:\n  - {kind: linear, out: d}\n")
    args = [spec] + (["--set", "d=round(5, -1000000000)"] if where == "--set" else [])
    code, out, err, seconds = bounded(args, cwd=tmp_path, seconds=20)
    assert code == 2 and "round" in one_line(err) and seconds < 20


def test_a_50_mb_spec_fails_fast_with_little_memory(tmp_path):
    spec = tmp_path / "huge.yaml"
    with spec.open("w") as fh:
        fh.write("name: huge\ninput: {shape: [8, 16]}\nlayers:\n")
        fh.writelines(f"  - {{kind: linear, name: l{i}, out: 16}}\n" for i in range(1_200_000))
    assert spec.stat().st_size > 50e6
    code, out, err, seconds = bounded([spec], cwd=tmp_path, seconds=20, mb=768)
    assert code == 2 and "over the limit of 16,777,216 bytes" in one_line(err)


def test_the_layer_limit_applies_while_loading(tmp_path):
    """130,000 one-word layers (1.2 MB): refused while the parser streams, before a tree."""
    spec = tmp_path / "many.yaml"
    spec.write_text("name: many\ninput: {shape: [4]}\nlayers:\n" + "  - relu\n" * 130_000)
    code, out, err, seconds = bounded([spec], cwd=tmp_path, seconds=20, mb=768)
    assert code == 2 and "more than 100,000 layers (the limit)" in one_line(err)
    assert seconds < 15


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "folder"])
def test_specs_must_be_regular_files(tmp_path, kind):
    p = tmp_path / "s.yaml"
    if kind == "dev-zero":
        p.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(p)
    else:
        p.mkdir()
    code, out, err, seconds = bounded([p], cwd=tmp_path, seconds=20, mb=768)
    want = "this is a folder, not a spec file" if kind == "folder" else \
        "not a regular file (a device, FIFO or socket)"
    assert code == 2 and want in one_line(err), err


def test_a_5001_digit_integer_in_a_spec_is_one_line(cli, tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text("name: d\ninput: {shape: [4]}\nvars:\n  d: " + "9" * 5001
                 + "\nlayers:\n  - {kind: linear, out: 4}\n")
    code, out, err = cli(p)
    assert code == 2 and "d.yaml:4: " in one_line(err) and "4,300 digits" in err


# ---------------------------------------------------------------- Hugging Face configs

GPT2 = {"model_type": "gpt2", "n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 100,
        "n_positions": 64}


@pytest.mark.parametrize("change,message", [
    ({"n_embd": -64}, "n_embd: -64 is outside 1 to 16,777,216"),
    ({"n_head": 0}, "n_head: 0 is outside 1"),
    ({"n_embd": "64"}, 'n_embd: expected a whole number, got "64"'),
    ({"n_embd": 64.5}, "n_embd: expected a whole number, got 64.5"),
    ({"n_layer": True}, "n_layer: expected a whole number, got true"),
    ({"n_layer": None}, "n_layer: expected a whole number, got null"),
    ({"n_embd": 10**12}, "n_embd: 1,000,000,000,000 is outside 1 to 16,777,216"),
    ({"n_layer": 100_000}, "n_layer: 100,000 is outside 1 to 512"),
    ({"n_layer": 10**9}, "n_layer: 1,000,000,000 is outside 1 to 512"),
    ({"text_config": {"hidden_size": -1}}, "text_config.hidden_size: -1 is outside"),
    # a list under a layers key holds layer indices (0 first; [] and [0] are Qwen-MoE's own)
    ({"mlp_only_layers": [0, -1]}, "mlp_only_layers: -1 is outside 0 to 512"),
    ({"mlp_only_layers": ["0"]}, 'mlp_only_layers: expected a whole number, got "0"'),
    ({"architectures": [5]}, "architectures: expected a list of class names"),
    ({"model_type": 5}, "model_type: expected the name of a model type, got 5"),
])
def test_bad_config_values_are_one_line_before_torch(cli, tmp_path, change, message):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({**GPT2, **change}))
    if any(v in (10**5, 10**9, 10**12) for v in change.values()):  # these ran for minutes
        code, out, err, seconds = bounded(["model", p], cwd=tmp_path, seconds=60)
    else:
        code, out, err = cli("model", p)
    assert code == 2 and message in one_line(err), err


@pytest.mark.parametrize("kind", ["5001-digits", "dev-zero", "missing"])
def test_unreadable_configs_are_one_line_without_importing_torch(tmp_path, kind):
    p = tmp_path / "config.json"
    if kind == "5001-digits":
        p.write_text('{"model_type": "gpt2", "n_embd": ' + "9" * 5001 + "}")
    elif kind == "dev-zero":
        p.symlink_to("/dev/zero")
    code = ("import sys\nfrom estimator.cli import main\ntry:\n    main(['model', 'config.json'])\n"
            "except SystemExit as e:\n    print(e.code, 'torch' in sys.modules)\n")
    rc, out, err, seconds = bounded(None, cwd=tmp_path, seconds=30, mb=1024, code=code)
    assert out.split() == ["2", "False"], (out, err)
    line = one_line(err)
    assert {"5001-digits": "4,300 digits", "dev-zero": "not a regular file",
            "missing": "no such config file"}[kind] in line


def test_only_model_classes_are_built_from_architectures():
    transformers = pytest.importorskip("transformers")
    from estimator.graphs.hf_config import model_classes

    config = transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10,
                                     architectures=["Trainer", "pipeline", "AutoModel",
                                                    "GPT2LMHeadModel", "os", "__import__"])
    assert [name for name, _ in model_classes(config)] == ["GPT2LMHeadModel"]


# ------------------------------------------------------------ command-line numbers

@pytest.mark.parametrize("args", [
    ["memory", "--params", "nan"], ["memory", "--params", "inf"], ["memory", "--params", "1e400"],
    ["plan", "--budget", "inf"], ["plan", "--budget", "1e400"], ["plan", "--params", "inf"],
    ["plan", "--params", "1e400"], ["plan", "--tokens", "inf"], ["plan", "--tokens", "1e400"],
    ["train", str(ARCH / "gpt2.yaml"), "--tokens", "1e9", "--backward-ratio", "inf"],
    ["train", str(ARCH / "gpt2.yaml"), "--tokens", "1e9", "--backward-ratio", "1e400"],
])
def test_non_finite_numbers_are_one_line(cli, args):
    code, out, err = cli(*args)
    assert code == 2 and "is not a finite number" in one_line(err) and not out


@pytest.mark.parametrize("args,message", [
    (["--params", "1e300"], "is compute-optimal at a budget"),
    (["--tokens", "1e300"], "is compute-optimal at a budget"),
    (["--budget", "1e300"], "lies outside 1 to 1e+40 FLOP"),
])
def test_plan_refuses_budgets_outside_the_solved_range(cli, args, message):
    code, out, err = cli("plan", *args)
    assert code == 2 and message in one_line(err)


@pytest.mark.parametrize("args,message", [
    (["--params", "-1"], "--params must be a number of parameters from 1"),
    ([str(ARCH / "gpt2.yaml"), "--tp", "5"], "12 attention heads do not split evenly over 5"),
    ([str(ARCH / "gpt2.yaml"), "--pp", "13"], "12 layers do not split evenly into 13"),
    ([str(ARCH / "gpt2.yaml"), "--pp", "5"], "12 layers do not split evenly into 5"),
])
def test_memory_refuses_layouts_that_cannot_exist(cli, args, message):
    code, out, err = cli("memory", *args)
    assert code == 2 and message in one_line(err)


def test_memory_still_splits_layouts_that_exist(cli):
    code, out, err = cli("memory", ARCH / "gpt2.yaml", "--tp", "4", "--pp", "4", "--json")
    assert code == 0, err
    f = json.loads(out)["formula"]
    # 12 heads / 4 and 12 layers / 4 split evenly; weights 124,439,808 x 2 bytes / (4 x 4)
    assert (f["tp"], f["pp"], f["weights"]) == (4, 4, 124_439_808 * 2 / 16)


def test_memory_measure_refuses_a_step_that_cannot_finish(tmp_path):
    code, out, err, seconds = bounded(["memory", ARCH / "gpt2.yaml", "--measure", "--seq",
                                       "100000000"], cwd=tmp_path, seconds=30)
    assert code == 2 and "over the limit of 1,048,576" in one_line(err)


# ------------------------------------------------------------------------- the plot

def test_plot_with_nothing_to_plot_is_one_line(cli, tmp_path):
    pytest.importorskip("matplotlib")
    spec = tiny(tmp_path, extra="")  # no year
    before = listing(tmp_path)
    code, out, err = cli("catalog", "--plot", tmp_path / "p.png", spec)
    assert code == 2 and "nothing to plot" in one_line(err)
    assert listing(tmp_path) == before


def test_plot_of_systems_without_training_compute_is_drawn(cli, tmp_path):
    pytest.importorskip("matplotlib")
    spec = tiny(tmp_path)  # a year, parameters, no training compute
    code, out, err = cli("catalog", "--plot", tmp_path / "p.png", spec)
    assert code == 0, err
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(listing(tmp_path)) == {"tiny.yaml", "p.png"}


def test_plot_labels_never_overlap():
    pytest.importorskip("matplotlib")
    from estimator.curation.catalog import load_catalog
    from estimator.report.catalog import plot_bytes

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig, data = plot_bytes([e.to_row() for e in load_catalog()], "png")
    canvas = FigureCanvasAgg(fig)  # the figure as saved, drawn again to measure its labels
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
        assert boxes
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_extras_are_checked_before_the_catalog_loads(cli, tmp_path, monkeypatch):
    import importlib.util

    from estimator.curation import catalog as cat

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("plotly", "matplotlib") else real(name, *a))

    def no_load(*a, **k):
        raise AssertionError("the catalog was loaded before the extra was checked")

    monkeypatch.setattr(cat, "load_catalog", no_load)
    for option, name, module in (("--html", "x.html", "plotly"), ("--plot", "x.png", "matplotlib")):
        code, out, err = cli("catalog", option, tmp_path / name, tiny(tmp_path))
        assert code == 2 and f"this needs '{module}'" in one_line(err)


def test_install_hints_fit_a_source_checkout():
    from estimator.errors import DependencyError, install_hint, require

    # this test runs from a checkout (pyproject.toml beside the package): the clone's command
    assert install_hint("torch") == f"pip install -e '.[torch]' (in {REPO})"
    with pytest.raises(DependencyError, match=r"pip install -e '\.\[torch\]'"):
        require("no_such_module_paramcount", "torch")


# ------------------------------------------------------------------------ torch rows

def test_every_torch_row_covers_its_subtree_and_repeats_collapse():
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_count import count_module
    from estimator.report.text import render

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList(torch.nn.Linear(4, 4) for _ in range(3))

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return x

    r = count_module(Net(), "1x4")
    rows = {row.path: row for row in r.layers}
    # each Linear(4, 4) on 1 x 4: 2 * 4 * 4 = 32 FLOPs; the ModuleList (never called) covers 3
    assert rows["blocks.0"].count.forward_flops == 32
    assert rows["blocks"].count.forward_flops == 96
    text = render(r)
    assert "0-2 (x3)" in text and "\n    1 " not in text
    # a batch of 2: 192 FLOPs, 96 per example, written as the whole number it is
    line = next(ln for ln in render(count_module(Net(), "2x4")).splitlines()
                if ln.startswith("forward FLOPs per example"))
    assert line.split()[-1] == "96"


# ------------------------------------------------------------------------------ ONNX

def _onnx_model(nodes, inputs, outputs, inits=()):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return onnx, helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_onnx_graph_with_a_cycle_is_refused(cli, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T, helper as h

    x, y = (h.make_tensor_value_info(n, T.FLOAT, [1, 4]) for n in "xy")
    _, m = _onnx_model([h.make_node("Add", ["x", "b"], ["a"]), h.make_node("Relu", ["a"], ["b"]),
                        h.make_node("Relu", ["b"], ["y"])], [x], [y])
    onnx.save(m, tmp_path / "cycle.onnx")
    code, out, err = cli(tmp_path / "cycle.onnx")
    assert code == 2 and "on a cycle" in one_line(err)


def test_onnx_initializer_without_its_data_is_refused(cli, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T, helper as h

    w = T()
    w.name, w.data_type = "W", T.FLOAT
    w.dims.extend([1_000_000, 1_000_000])
    _, m = _onnx_model([h.make_node("MatMul", ["x", "W"], ["y"])],
                       [h.make_tensor_value_info("x", T.FLOAT, [1, 1_000_000])],
                       [h.make_tensor_value_info("y", T.FLOAT, [1, 1_000_000])], [w])
    onnx.save(m, tmp_path / "huge.onnx")
    code, out, err = cli(tmp_path / "huge.onnx")
    assert code == 2 and "declares 1,000,000,000,000 elements" in one_line(err)


def test_onnx_rows_follow_the_graph(cli, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T, helper as h

    x, y = (h.make_tensor_value_info(n, T.FLOAT, [1, 4]) for n in "xy")
    _, m = _onnx_model([h.make_node("Relu", ["x"], ["a"], name="/conv1/Relu"),
                        h.make_node("Relu", ["a"], ["y"], name="/0/Relu")], [x], [y])
    onnx.save(m, tmp_path / "order.onnx")
    code, out, err = cli(tmp_path / "order.onnx", "--json")
    assert code == 0, err
    assert [row["path"] for row in json.loads(out)["layers"]] == ["conv1", "0"]


# ------------------------------------------------------------------------ the limits page

def test_docs_limits_states_every_limit():
    from estimator.graphs import hf_config
    from estimator.spec import expr, limits

    text = (REPO / "docs" / "limits.md").read_text()
    for figure in (f"{limits.MAX_SPEC_BYTES:,}", f"{limits.MAX_YAML_NODES:,}",
                   f"{limits.MAX_LAYERS:,}", f"{hf_config.MAX_CONFIG_LAYERS:,}",
                   f"{hf_config.MAX_CONFIG_SIZE:,}", f"{hf_config.MAX_CONFIG_BYTES:,}",
                   f"{expr.MAX_ROUND_DIGITS}", "1,048,576", "1e40"):
        assert figure in text, figure
    for rule in ("Paths named inside inputs", "Outputs"):
        assert rule in text


def test_check_only_says_the_others_were_skipped(cli, tmp_path):
    pytest.importorskip("torch")
    code, out, err = cli("check", tiny(tmp_path), "--only", "torch")
    assert code == 0, err
    assert "  onnx: skipped (not requested)" in out and "  fvcore: skipped (not requested)" in out
    assert "cannot run: not requested" not in out
