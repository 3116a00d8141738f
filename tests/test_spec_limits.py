"""The spec loader is no way to exhaust the machine (issue 13): repeats of identical layers
are walked once and multiplied, YAML aliases and nesting and expression values have limits,
and every one of these inputs is one line on stderr with exit 2, quickly."""
from __future__ import annotations

import resource
import time

import pytest

from estimator.analytic import analyze, load_spec, load_spec_text, walk
from estimator.errors import SpecError


def linear_stack(repeat: int) -> dict:
    return {"name": "t", "input": {"shape": [8, 16]},
            "layers": [{"kind": "linear", "name": "fc", "out": 16, "repeat": repeat}]}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("n", [1000, 10**6, 10**9])
def test_a_repeat_counts_one_copy_and_multiplies(n):
    before = _peak_mb()
    t0 = time.perf_counter()
    r = analyze(load_spec(linear_stack(n)))
    seconds = time.perf_counter() - t0
    # one linear 16*16 + 16 = 272 params; FLOPs 2*8*16*16 = 4,096 per copy
    assert r.params == 272 * n
    assert r.forward_flops == 4096 * n
    # a copy far down the stack is still there under its own path
    assert r.layer(f"fc.{n - 1}").count.params == 272
    assert seconds < 0.5 and _peak_mb() - before < 50


def test_rows_of_a_huge_repeat_stay_collapsed_with_their_copies():
    r = analyze(load_spec(linear_stack(10**9)))
    # the group row, then one row standing for all 10**9 identical copies
    assert [(row.path, row.kind, row.copies) for row in r.layers] == [
        ("fc", "linear x1000000000", 1), ("fc.0", "linear", 10**9)]
    assert any("stay collapsed" in n for n in r.notes)
    assert r.to_dict()["layers"][1]["copies"] == 10**9


def test_expanded_rows_equal_a_walk_of_every_copy():
    """The collapsed walk, expanded, gives exactly the rows of walking each copy: sharing,
    a tie into a copy that was never walked, and a first copy that changes the shape."""
    spec = load_spec({"name": "t", "input": {"tokens": 8}, "layers": [
        {"kind": "embedding", "name": "emb", "vocab": 50, "dim": 16},
        {"kind": "sequential", "name": "blocks", "repeat": 5, "shared": True,
         "layers": [{"kind": "linear", "out": 16}, "relu"]},
        {"kind": "sequential", "name": "more", "repeat": 4,
         "layers": [{"kind": "linear", "out": 32}, {"kind": "linear", "out": 16}]},
        {"kind": "linear", "name": "head", "out": 32, "tie": "more.3.0"},
        {"kind": "linear", "name": "grow", "out": 24, "repeat": 3}]})
    w = walk(spec)
    rows, total = w.rows(w.alias)
    r = analyze(spec)
    assert r.layers == rows and r.total == total
    # emb 50*16 = 800; blocks (shared) 16*16+16 = 272 once; more 4 x (16*32+32 + 32*16+16)
    # = 4 x 1,072 = 4,288; head: weight tied to more.3.0, bias 32; grow (after head's 32
    # features) 32*24+24 = 792, then 2 x (24*24+24) = 1,200:
    # 800 + 272 + 4,288 + 32 + 792 + 1,200 = 7,384
    assert r.params == 7384
    assert r.layer("head").note == "tied to more.3.0.weight"
    assert [row.copies for row in r.collapsed if row.path.startswith("more.")][:1] == [4]


def test_a_thousand_layers_count_in_well_under_a_second():
    layers = [{"kind": "linear", "name": f"l{i}", "out": 16} for i in range(1000)]
    t0 = time.perf_counter()
    r = analyze(load_spec({"name": "t", "input": {"shape": [8, 16]}, "layers": layers}))
    assert time.perf_counter() - t0 < 1.0
    assert r.params == 272 * 1000


def test_shared_blocks_resolve_in_linear_time():
    # 9,600 shared copies with a tie inside: quadratic scans took seconds here
    spec = load_spec({"name": "t", "input": {"shape": [8, 16]}, "layers": [
        {"kind": "sequential", "name": "blocks", "repeat": 9600, "shared": True,
         "layers": [{"kind": "linear", "out": 16}, {"kind": "linear", "out": 16, "tie": "blocks.0.0"}]}]})
    t0 = time.perf_counter()
    r = analyze(spec)
    assert time.perf_counter() - t0 < 2.0
    # 272 + a bias of 16 (the weight is tied); FLOPs 9,600 x 2 x 4,096
    assert (r.params, r.forward_flops) == (288, 9600 * 2 * 4096)


def test_distinct_layers_have_a_limit(monkeypatch):
    import estimator.analytic

    monkeypatch.setattr(estimator.analytic, "MAX_LAYERS", 1000)
    # each copy grows the image (kernel 3, padding 2: +2 per side), so no copy repeats one
    spec = load_spec({"name": "t", "input": {"image": [1, 4, 4]}, "layers": [
        {"kind": "conv2d", "out": 1, "kernel": 3, "padding": 2, "repeat": 10**9}]})
    with pytest.raises(SpecError, match="more than 1,000 distinct layers"):
        analyze(spec)


BOMB = "name: bomb\ninput: {shape: [8, 16]}\na: &a [relu, relu, relu, relu, relu, relu, relu, relu, relu]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")) + \
    "layers: [{kind: sequential, layers: *i}]\n"


def test_yaml_alias_bomb_is_refused_quickly_with_bounded_memory():
    before = _peak_mb()
    t0 = time.perf_counter()
    with pytest.raises(SpecError, match="aliases .* more than 1,000,000 nodes"):
        load_spec_text(BOMB)
    assert time.perf_counter() - t0 < 1.0 and _peak_mb() - before < 50


def test_aliases_below_the_limit_still_work():
    text = "name: t\ninput: {shape: [8, 16]}\nlayers: [&b {kind: linear, out: 16}, *b, *b]\n"
    # three linear layers 16 -> 16: 3 x 272
    assert analyze(load_spec_text(text)).params == 816


@pytest.mark.parametrize("text", [
    "name: x\ninput: {shape: [4]}\nlayers: " + "[" * 500 + "]" * 500 + "\n",
    "name: x\ninput: {shape: [4, 8]}\nlayers:\n" + "".join(
        "    " * i + "  - kind: sequential\n" + "    " * i + "    layers:\n" for i in range(200))
    + "    " * 200 + "  - relu\n",
], ids=["yaml-500-deep", "200-nested-sequential"])
def test_deep_nesting_is_one_spec_error(text):
    with pytest.raises(SpecError, match="nested more than 100 levels deep"):
        load_spec_text(text)


def test_vars_squaring_each_other_are_refused():
    text = "name: x\ninput: {shape: [4, 8]}\nvars:\n  a0: 1000000\n" + "".join(
        f"  a{i}: a{i - 1} * a{i - 1}\n" for i in range(1, 60)) + "layers: [relu]\n"
    t0 = time.perf_counter()
    # a1 = 1e12, a2 = 1e24 >= 2**63: refused at a2 (the file's line 6)
    with pytest.raises(SpecError, match=r":6: vars\.a2: .*too large.*2\*\*63"):
        load_spec_text(text, "x.yaml")
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("out", ["1e308", "100000000000000000000000000", "'2**62 * 4'"])
def test_huge_sizes_are_refused(out):
    with pytest.raises(SpecError, match=r"layers\[0\]\.out: .*too large"):
        load_spec_text(f"name: x\ninput: {{shape: [4, 8]}}\nlayers:\n  - {{kind: linear, out: {out}}}\n")


def test_totals_past_float_range_are_refused():
    text = "name: x\ninput: {shape: [4, 8]}\nlayers:\n"
    ind = "  "
    for _ in range(30):  # 30 nested repeats of 4e18 multiply past 1e300
        text += f"{ind}- kind: sequential\n{ind}  repeat: 4000000000000000000\n{ind}  layers:\n"
        ind += "    "
    text += ind + "- {kind: linear, out: 8}\n"
    with pytest.raises(SpecError, match="exceed 1e\\+300"):
        analyze(load_spec_text(text))


def test_yaml_is_parsed_by_libyaml_and_keeps_lines():
    yaml = pytest.importorskip("yaml")
    from estimator.spec.yamlload import _Loader

    if getattr(yaml, "__with_libyaml__", False):
        assert issubclass(_Loader, yaml.CSafeLoader)
    raw = load_spec_text("name: x\ninput: {shape: [4, 8]}\nlayers:\n  - relu\n  - {kind: linear, out: 4}\n").raw
    assert (raw.lines["layers"], raw["layers"].lines) == (3, [4, 5])


def test_a_megabyte_spec_loads_in_seconds(tmp_path):
    lines = ["name: big", "input: {shape: [8, 16]}", "layers:"]
    lines += [f"  - {{kind: linear, name: l{i}, out: 16, bias: true}}" for i in range(20_000)]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    t0 = time.process_time()
    r = analyze(load_spec(path))
    assert time.process_time() - t0 < 5
    assert r.params == 272 * 20_000


def test_long_notes_are_clipped_in_the_text_report():
    from estimator.report.text import render

    r = analyze(load_spec({"name": "t", "input": {"shape": [8, 16]}, "notes": ["x" * 1_000_000],
                           "layers": ["relu"]}))
    text = render(r)
    assert len(text) < 5000 and "(+999,700 characters; --json has them all)" in text
    assert r.to_dict()["notes"] == ["x" * 1_000_000]


@pytest.mark.parametrize("args, message", [
    (["compute", "--hardware", "V100", "--chips", "1.5", "--days", "1"], "--chips must be a whole number"),
    (["archspecs/alexnet.yaml", "--depth", "-1"], "--depth"),
])
def test_bad_numbers_on_the_command_line_are_one_line(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2 and message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_cli_limits_are_one_line(cli, tmp_path):
    p = tmp_path / "bomb.yaml"
    p.write_text(BOMB)
    code, out, err = cli(p)
    assert code == 2 and err.count("\n") == 1 and "aliases" in err
    p.write_text("name: x\ninput: {shape: [4, 8]}\nlayers:\n  - {kind: linear, out: 1e308}\n")
    code, out, err = cli(p)
    assert code == 2 and f"{p}:4: layers[0].out" in err and "too large" in err
