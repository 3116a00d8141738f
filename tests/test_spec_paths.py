"""Relative layer paths (docs/spec-language.md, "Paths"; estimator/spec/paths.py): ``.NAME``
in the current repeat copy, ``^.NAME`` in the previous one (copy 0: the repeat's
``initial:``), ``G.-k`` a copy counted from the end. A block written once with them counts
exactly as the same blocks written out with absolute paths, the torch build wires each copy
to the tensors it names, identical copies still collapse but copies whose ``^.NAME`` reads
differ do not, and a path that cannot be read is one line naming file, line and key."""
from __future__ import annotations

import json

import pytest

from estimator.analytic import analyze, load_spec, load_spec_text, walk
from estimator.errors import SpecError
from estimator.spec.paths import Copy, PathError, resolve


# ------------------------------------------------------------------ resolve(), pure strings

def _counts(prefix):
    # the walked repeats of these tests: blocks has 3 copies, one (no repeat) is itself
    return {"blocks": 3, "blocks.1.inner": 2, "one": 1}.get(prefix)


C3 = Copy("blocks", "blocks.2", 2, {"m": "m0"})
C0 = Copy("blocks", "blocks.0", 0, {"m": "m0"})


@pytest.mark.parametrize("path,copy,want", [
    (".row.ln", C3, "blocks.2.row.ln"),
    ("^.m", C3, "blocks.1.m"),
    ("^.m", C0, "m0"),                                       # copy 0 reads initial:
    ("blocks.-1.m", None, "blocks.2.m"),                     # 3 copies: -1 is copy 2
    ("blocks.-3.m", None, "blocks.0.m"),
    ("blocks.1.inner.-1", None, "blocks.1.inner.1"),
    ("one.-1.x", None, "one.x"),                             # no numbered copies: itself
    (".inner.-2", Copy("blocks", "blocks.1", 1), "blocks.1.inner.0"),
    ("plain.path", None, "plain.path"),
    ("input", C3, "input"),                                  # absolute inside a copy
    ("^.m", Copy("blocks", "blocks", 0, {"m": "m0"}), "m0"),  # repeat: 1
    (".x", Copy("blocks", "blocks", 0), "blocks.x"),
])
def test_resolve(path, copy, want):
    assert resolve(path, copy, _counts) == want


@pytest.mark.parametrize("path,copy,words", [
    (".x", None, "in no repeat"),
    ("^.x", None, "in no repeat"),
    ("^.x", C0, "copy 0 of 'blocks' has no previous copy; give 'blocks' initial: {x: PATH}"),
    ("^x", C3, "written ^.NAME"),
    ("^", C3, "written ^.NAME"),
    (".", C3, "an empty name"),
    ("..x", C3, "an empty name"),
    (".a..b", C3, "an empty name"),
    (".a b", C3, "'a b'"),
    ("^.m", Copy("blocks", "blocks.1", 1, shared=True), "shared: true"),
    ("blocks.-4.m", None, "'blocks' has 3 copies, so there is no copy -4"),
    ("one.-2", None, "'one' has 1 copy, so there is no copy -2"),
    ("blocks.-0.m", None, "-1, -2, ..."),
    ("blocks.-x", None, "-1, -2, ..."),
    ("later.-1", None, "'later' is not an earlier layer"),
])
def test_resolve_refuses(path, copy, words):
    with pytest.raises(PathError) as err:
        resolve(path, copy, _counts)
    assert words in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------- a two-stream block, written once and out

def two_stream(n: int, relative: bool, d: int = 8, e: int = 6) -> dict:
    """n blocks carrying two streams: m_i = Linear(m_{i-1}), z_i = Linear(z_{i-1}), then an
    attention from m_i over z_i; a head reads the last block's z. ``relative``: one block
    under ``repeat: n``; else the n blocks written out with absolute paths."""
    def block(prev, here):
        return [{"kind": "linear", "name": "m", "from": prev("m"), "out": d},
                {"kind": "linear", "name": "z", "from": prev("z"), "out": e},
                {"kind": "attention", "name": "mix", "from": here("m"), "memory": here("z"),
                 "heads": 2, "bias": False}]

    inputs = {"m0": {"shape": [4, d]}, "z0": {"shape": [4, e]}}
    if relative:
        group = {"kind": "sequential", "name": "blocks", "repeat": "n",
                 "initial": {"m": "m0", "z": "z0"},
                 "layers": block(lambda k: f"^.{k}", lambda k: f".{k}")}
        head_from = "blocks.-1.z"
    else:
        def at(i):
            return "blocks" if n == 1 else f"blocks.{i}"
        copies = [block(lambda k, i=i: f"{at(i - 1)}.{k}" if i else f"{k}0",
                        lambda k, i=i: f"{at(i)}.{k}") for i in range(n)]
        group = {"kind": "sequential", "name": "blocks",
                 "layers": copies[0] if n == 1 else
                 [{"kind": "sequential", "layers": c} for c in copies]}
        head_from = f"{at(n - 1)}.z"
    return {"name": "two streams", "inputs": inputs, "vars": {"n": n},
            "layers": [group, {"kind": "linear", "name": "head", "from": head_from, "out": 2}]}


def _rows(result):
    return {r.path: (r.count.params, r.count.forward_flops, r.count.other_flops, r.output_shape)
            for r in result.layers}


def test_a_block_written_once_counts_as_the_blocks_written_out():
    s = load_spec(two_stream(3, relative=True))
    r = analyze(s)
    # per block: m 8*8+8 = 72, z 6*6+6 = 42, mix q and o 8*8 each, k and v 6*8 each = 224
    #   -> 338 params; FLOPs m 2*4*8*8 = 512, z 2*4*6*6 = 288, mix q 512 + k 384 + v 384
    #   + o 512 + scores and values 2*(2*4*4*8) = 512 -> 2304: 3104 per block
    # head 6*2+2 = 14 params, 2*4*6*2 = 96 FLOPs
    assert r.params == 3 * 338 + 14 == 1028
    assert r.forward_flops == 3 * 3104 + 96 == 9408
    out = analyze(load_spec(two_stream(3, relative=False)))
    assert (out.params, out.forward_flops, out.other_flops) == (r.params, r.forward_flops,
                                                                r.other_flops)
    # the same rows, path for path; only the group row's kind says it is a repeat
    assert _rows(r) == _rows(out)
    assert r.layer("blocks").kind == "sequential x3" and out.layer("blocks").kind == "sequential"
    assert r.layer("blocks.1.mix").count.forward_flops == 2304


def test_relative_paths_reach_the_torch_build():
    pytest.importorskip("torch")
    from torchcheck import assert_spec_matches_torch

    s = load_spec(two_stream(3, relative=True))
    assert_spec_matches_torch(s, analyze(s))


def test_each_copy_reads_the_tensors_its_paths_name():
    # not only the shapes: copy 1's m is Linear_1(copy 0's m), its mix attends over copy 1's
    # z, and the head reads copy 2's z (real tensors on CPU)
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_module, example_inputs

    s = load_spec(two_stream(3, relative=True))
    module = build_module(s, "cpu")
    m0, z0 = example_inputs(s, "cpu")
    env = {"m0": m0, "z0": z0}
    with torch.no_grad():
        y = module.run(m0, env)
        blocks = module.blocks
        torch.testing.assert_close(env["blocks.0.m"], blocks._modules["0"].m(m0))
        torch.testing.assert_close(env["blocks.1.m"], blocks._modules["1"].m(env["blocks.0.m"]))
        torch.testing.assert_close(env["blocks.2.z"], blocks._modules["2"].z(env["blocks.1.z"]))
        torch.testing.assert_close(y, module.head(env["blocks.2.z"]))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_any_block_count_including_one(n):
    # repeat: 1 numbers no copies: .m is blocks.m, blocks.-1.z is blocks.z, ^.m reads initial
    r = analyze(load_spec(two_stream(n, relative=True)))
    assert (r.params, r.forward_flops) == (n * 338 + 14, n * 3104 + 96)
    assert _rows(r) == _rows(analyze(load_spec(two_stream(n, relative=False))))


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 7), st.integers(1, 4).map(lambda k: 2 * k), st.integers(1, 9))
def test_written_once_or_out_the_counts_are_the_same(n, d, e):
    # whatever the block count and widths (d even: 2 heads), every row and total agree
    once, out = (analyze(load_spec(two_stream(n, rel, d, e))) for rel in (True, False))
    assert _rows(once) == _rows(out)
    assert (once.params, once.forward_flops, once.other_flops) == \
        (out.params, out.forward_flops, out.other_flops)


# ------------------------------------------------------------- collapsing identical copies

def memory_chain(repeat) -> dict:
    """Each copy attends over the previous copy's output; copy 0 over a 6-token memory."""
    return {"name": "chain", "inputs": {"x": {"shape": [4, 8]}, "mem": {"shape": [6, 8]}},
            "layers": [{"kind": "sequential", "name": "blocks", "repeat": repeat,
                        "initial": {"out": "mem"},
                        "layers": [{"kind": "attention", "name": "att", "heads": 2,
                                    "memory": "^.out", "bias": False},
                                   {"kind": "linear", "name": "out", "out": 8, "bias": False}]}]}


def test_copies_whose_previous_reads_differ_are_not_collapsed():
    # every copy's input is (4, 8), but copy 0 attends over 6 memory tokens, the others over 4:
    # copy 0: q 2*4*8*8 = 512, k and v 2*6*8*8 = 768 each, o 512, scores and values
    #   2*(2*4*6*8) = 768 -> 3328, + out 2*4*8*8 = 512 -> 3840
    # copy r >= 1: k and v 512 each, scores and values 2*(2*4*4*8) = 512 -> 2560 + 512 = 3072
    r = analyze(load_spec(memory_chain(3)))
    assert r.params == 3 * (4 * 64 + 64) == 960
    assert r.forward_flops == 3840 + 2 * 3072 == 9984
    # a billion copies still walk two (copy 2 reads what copy 1 read)
    w = walk(load_spec(memory_chain(10**9)), expand=False)
    assert [n.path for n in w.nodes.values() if n.path.count(".") == 1] == ["blocks.0", "blocks.1"]
    assert analyze(load_spec(memory_chain(10**9)), expand=False).forward_flops == \
        3840 + (10**9 - 1) * 3072
    pytest.importorskip("torch")
    from torchcheck import assert_spec_matches_torch

    s = load_spec(memory_chain(3))
    assert_spec_matches_torch(s, analyze(s))


def test_alphafold_is_written_as_repeats():
    # 48 Evoformer blocks and 4 extra MSA blocks from one block each; the reduced size sets 2
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "archspecs" / "alphafold-2.yaml"
    s = load_spec(path)
    assert s.vars["evo_blocks"] == 48 and s.reduced["evo_blocks"] == 2
    r = analyze(s, expand=False)
    assert r.layer("evoformer").kind == "sequential x48"
    assert r.layer("extra_msa").kind == "sequential x4"
    assert r.params == 93_227_918 and r.forward_flops == 61_765_575_868_416
    small = analyze(load_spec(path, overrides=s.reduced))
    assert [x.path for x in small.layers if x.path.count(".") == 1 and
            x.path.startswith("evoformer.")] == ["evoformer.0", "evoformer.1"]


# ------------------------------------------------------------------------------ bad input

def _spec(block_layers, repeat=2, extra="", after=""):
    return ("name: x\ninputs: {a: {shape: [4, 8]}, b: {shape: [4, 8]}}\nlayers:\n"
            f"  - kind: sequential\n    name: blocks\n    repeat: {repeat}\n{extra}"
            "    layers:\n" + "".join(f"      - {lay}\n" for lay in block_layers) + after)


BAD = {
    # name: (file text, line, key path, words the message must contain)
    "dot_outside_repeat": ("name: x\ninput: {shape: [4, 8]}\nlayers:\n  - {kind: linear, name: a, out: 8}\n"
                           "  - {kind: linear, from: .a, out: 8}\n", 5, "layers[1].from", "in no repeat"),
    "no_initial": (_spec(["{kind: linear, name: m, from: ^.m, out: 8}"]), 8,
                   "layers[0].layers[0].from", "give 'blocks' initial: {m: PATH}"),
    "malformed_prev": (_spec(["{kind: linear, name: m, from: ^m, out: 8}"]), 8,
                       "layers[0].layers[0].from", "written ^.NAME"),
    "empty_name": (_spec(["{kind: linear, name: m, out: 8}", "{kind: linear, from: .m..x, out: 8}"]), 9,
                   "layers[0].layers[1].from", "an empty name"),
    "missing_in_copy": (_spec(["{kind: linear, name: m, out: 8}", "{kind: linear, from: .mm, out: 8}"]), 9,
                        "layers[0].layers[1].from", "'from: .mm (blocks.0.mm)' is not an input or an earlier layer (did you mean 'blocks.0.m'?)"),
    "missing_memory": (_spec(["{kind: attention, name: att, heads: 2, memory: ^.zz}"], extra="    initial: {zz: b}\n"),
                       9, "layers[0].layers[0].memory", "memory: '^.zz (blocks.0.zz)' is not an input or an earlier layer"),
    "initial_without_repeat": ("name: x\ninput: {shape: [4, 8]}\nlayers:\n  - kind: sequential\n"
                               "    initial: {m: input}\n    layers: [relu]\n", 5, "layers[0].initial",
                               "this layer has no repeat:"),
    "initial_never_read": (_spec(["{kind: linear, name: m, from: ^.m, out: 8}"],
                                 extra="    initial: {m: a, mm: b}\n"), 7, "layers[0].initial.mm",
                           "initial: no layer of the copies reads ^.mm (did you mean 'm'?)"),
    "initial_reads_outside": (_spec(["relu"], extra="    initial: {m: .x}\n"), 7,
                              "layers[0].initial.m", "in no repeat"),
    "past_the_end": (_spec(["{kind: linear, name: m, out: 8}"], repeat=3,
                           after="  - {kind: linear, from: blocks.-4.m, out: 8}\n"), 9,
                     "layers[1].from", "'blocks' has 3 copies, so there is no copy -4"),
    "minus_zero": (_spec(["{kind: linear, name: m, out: 8}"],
                         after="  - {kind: linear, from: blocks.-0.m, out: 8}\n"), 9,
                   "layers[1].from", "-1, -2, ..."),
    "prev_in_shared": (_spec(["{kind: linear, name: m, from: ^.m, out: 8}"],
                             extra="    shared: true\n    initial: {m: a}\n"), 10,
                       "layers[0].layers[0].from", "shared: true"),
    "dangling_relative_tie": (_spec(["{kind: linear, name: m, out: 8}", "{kind: linear, out: 8, tie: .n}"]), 9,
                              "layers[0].layers[1].tie", "tie target '.n (blocks.0.n)' is not a layer"),
    "dangling_relative_share": (_spec(["{kind: linear, name: m, out: 8}", "{kind: linear, out: 8, share: .n}"]), 9,
                                "layers[0].layers[1].share", "share target '.n (blocks.0.n)' is not a layer path"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_path_is_one_line_exit_2(case, cli, tmp_path):
    text, line, key, words = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    code, out, err = cli(path)
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"{path}:{line}: {key}: "), err
    assert words in err, err
    assert path.read_text() == text  # never modified


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["^.m", ".m", "b.-1.m", "b.-2.m", "b.-3.m", "b.0.m", "a", "^.x", "^",
                        ".", "b.-1", "^.m.-1"]) | st.text(alphabet=".^-0123456789abm_ ", max_size=12),
       st.sampled_from(["from", "memory", "share", "tie", "initial"]))
def test_any_path_is_a_count_or_one_spec_error(path, key):
    # whatever path a key holds, in a repeat or after it, the answer is a count or one line
    lay = ({"kind": "attention", "heads": 2, key: path} if key == "memory"
           else {"kind": "linear", "out": 8} if key == "initial"
           else {"kind": "linear", "out": 8, key: path})
    doc = {"name": "x", "inputs": {"a": {"shape": [4, 8]}},
           "layers": [{"kind": "sequential", "name": "b", "repeat": 2,
                       "initial": {"m": path if key == "initial" else "a"},
                       "layers": [{"kind": "linear", "name": "m", "from": "^.m", "out": 8}, lay]},
                      {"kind": "linear", "out": 8, "from": path if key == "from" else "b"}]}
    try:
        analyze(load_spec_text(json.dumps(doc), "fuzz.yaml"))
    except SpecError as err:
        assert "\n" not in str(err)


def test_the_schema_knows_initial():
    from estimator.spec.schema import json_schema

    initial = json_schema()["$defs"]["Layer_sequential"]["properties"]["initial"]
    assert "^.NAME" in initial["description"]
    assert {"type": "string"} in [initial.get("additionalProperties")] + [
        b.get("additionalProperties") for b in initial.get("anyOf", [])]
