"""The cross-check: analytic vs torch vs onnx vs fvcore, per layer, with verdicts.

Every archspec goes through every witness that can run it; the tests assert which witness ran
at which size, that parameters agree exactly everywhere, and that matrix FLOPs agree exactly
or differ by exactly what the witness says it cannot see.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import load_spec
from estimator.count import Count, CountResult, LayerRow
from catalog_entries import CATALOG, entry_id, load_entry
from estimator.graphs.crosscheck import compare

ROOT = Path(__file__).resolve().parents[1]

HAND = (Path(__file__).resolve().parent / "data" / "hand-transformer.yaml").read_text()


def _res(rows, total, unknown=None, source="w"):
    return CountResult("m", total, [LayerRow(p, k, c, leaf=leaf, depth=p.count(".") + 1)
                                    for p, k, c, leaf in rows],
                       source=source, unknown_ops=unknown or {})


# ------------------------------------------------------------------ compare(), no torch

def _analytic():
    # attn = q (10 params, 100 FLOPs) + sdpa (0, 40) + o (10, 100); mlp (20, 200)
    rows = [("attn", "attention", Count(20, 20, 240), False),
            ("attn.q", "part", Count(10, 10, 100), True),
            ("attn.sdpa", "part", Count(0, 0, 40), True),
            ("attn.o", "part", Count(10, 10, 100), True),
            ("mlp", "mlp", Count(20, 20, 200), True)]
    return _res(rows, Count(40, 40, 440), source="analytic")


def test_compare_exact_and_remainder_rule():
    # a witness whose module tree has no 'attn.sdpa': that row takes attn's own remainder,
    # 240 - 100 - 100 = 40 FLOPs and 20 - 10 - 10 = 0 params
    w = _res([("attn", "m", Count(20, 20, 240), False), ("attn.q", "m", Count(10, 10, 100), True),
              ("attn.o", "m", Count(10, 10, 100), True), ("mlp", "m", Count(20, 20, 200), True)],
             Count(40, 40, 440))
    cells, total = compare(_analytic(), w)
    assert {p: c.verdict for p, c in cells.items()} == {p: "ok" for p in cells}
    assert (cells["attn.sdpa"].params, cells["attn.sdpa"].forward_flops) == (0, 40)
    assert total.verdict == "ok"


def test_compare_explained_only_when_exact():
    # the witness skips SDPA: attn 240 - 40 = 200 is explained exactly; total 440 - 40 = 400
    w = _res([("attn", "m", Count(20, 20, 200), False), ("attn.q", "m", Count(10, 10, 100), True),
              ("attn.o", "m", Count(10, 10, 100), True), ("mlp", "m", Count(20, 20, 200), True)],
             Count(40, 40, 400), unknown={"aten::scaled_dot_product_attention": 1})
    cells, total = compare(_analytic(), w)
    assert cells["attn"].verdict == "explained" and "SDPA: -40 FLOP exactly" in cells["attn"].note
    assert cells["attn.sdpa"].verdict == "explained"
    assert total.verdict == "explained"
    # one FLOP more missing than SDPA accounts for: a disagreement, never "explained"
    w.total = Count(40, 40, 399)
    assert compare(_analytic(), w)[1].verdict == "differs"


def test_compare_params_are_exact():
    w = _res([("attn", "m", Count(21, 21, 240), False), ("mlp", "m", Count(20, 20, 200), True)],
             Count(41, 41, 440))
    cells, total = compare(_analytic(), w)
    assert cells["attn"].verdict == "differs" and "params 21 vs analytic 20" in cells["attn"].note
    assert cells["mlp"].verdict == "ok"
    # q, sdpa and o all lack a module: not compared ('-'), their parent row is
    assert cells["attn.q"].verdict == "-"
    assert total.verdict == "differs"


# ------------------------------------------------------------------ the real witnesses

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("fvcore")

from estimator.graphs.crosscheck import SharedRuns, check, structure_key  # noqa: E402


@pytest.mark.onnx
@pytest.mark.torch
def test_hand_spec_all_witnesses(tmp_path):
    p = tmp_path / "hand.yaml"
    p.write_text(HAND)
    r = check(p, size="full")
    assert r.ok and r.size == "full" and r.failures == []
    assert {w: run.status for w, run in r.witnesses.items()} == {
        "torch": "ran", "onnx": "ran", "fvcore": "ran"}
    # totals (see tests/test_onnx_export.py): 680 params, 5248 FLOPs; fvcore has no SDPA
    # handle: 5248 - 512 (scores 2*T*T*heads*4 = 256 and values 256) = 4736, explained
    t = r.total.cells
    assert (t["torch"].params, t["torch"].forward_flops, t["torch"].verdict) == (680, 5248, "ok")
    assert (t["onnx"].params, t["onnx"].forward_flops, t["onnx"].verdict) == (680, 5248, "ok")
    assert (t["fvcore"].params, t["fvcore"].forward_flops) == (680, 4736)
    assert t["fvcore"].verdict == "explained" and "SDPA" in t["fvcore"].note
    rows = {row.path: row for row in r.rows}
    assert rows["attn_block.attn.sdpa"].cells["onnx"].forward_flops == 512
    assert rows["mlp_block.mlp.up"].cells["fvcore"].forward_flops == 1024   # 2*4*8*16
    assert rows["head"].cells["onnx"].params == 0                           # tied
    d = r.to_dict()
    assert d["ok"] is True and d["witnesses"]["onnx"]["size"] == "full"
    assert d["full_size"] is None


@pytest.mark.onnx
@pytest.mark.torch
def test_hand_spec_reduced_records_both_sizes(tmp_path):
    p = tmp_path / "hand.yaml"
    p.write_text(HAND)
    r = check(p, max_full_params=100)
    assert r.size == "reduced" and r.overrides == {"d": 4, "ffn": 8} and r.ok
    assert "more than the 100" in r.reason
    # --size auto checks whole only up to auto_full_params (AUTO_FULL_PARAMS, 1M: no
    # full-size CPU build above it), then at the reduced: size, torch and fvcore also whole
    # on the meta device
    d = check(p, auto_full_params=600)
    assert d.size == "reduced" and "more than the 600 checked whole" in d.reason and d.ok
    assert (d.full_size["torch"].params, d.full_size["torch"].forward_flops) == (680, 5248)
    assert all(run.size == "reduced" for run in r.witnesses.values())
    # reduced: 212 params, 1600 FLOPs (tests/test_onnx_export.py); full-size totals by
    # torch and fvcore on the meta device: 680 / 5248 (fvcore 4736, explained)
    assert (r.total.cells["onnx"].params, r.total.cells["onnx"].forward_flops) == (212, 1600)
    assert (r.full_size["torch"].params, r.full_size["torch"].forward_flops) == (680, 5248)
    assert r.full_size["fvcore"].verdict == "explained"
    assert r.full_witnesses["onnx"].status == "cannot"
    assert "reduced" in r.full_witnesses["onnx"].reason


def _without_timing(d):
    """A check's JSON without what differs between two runs of the same graph: the
    seconds each witness took and whose run it was."""
    if isinstance(d, dict):
        return {k: _without_timing(v) for k, v in d.items() if k not in ("seconds", "shared_with")}
    if isinstance(d, list):
        return [_without_timing(v) for v in d]
    return d


def _reduced_key(spec):
    """The structure key of the spec at its reduced: size."""
    return structure_key(load_spec(spec, overrides=spec.reduced))


def _hand(tmp_path, name, old="", new=""):
    assert old in HAND
    p = tmp_path / f"{name}.yaml"
    p.write_text(HAND.replace("name: hand-transformer", f"name: {name}").replace(old, new))
    return p


@pytest.mark.onnx
@pytest.mark.torch
def test_identical_reduced_structures_share_the_witness_runs(tmp_path):
    shared = SharedRuns()
    a = check(_hand(tmp_path, "hand-a"), max_full_params=100, shared=shared)
    b = check(_hand(tmp_path, "hand-b"), max_full_params=100, shared=shared)
    assert a.size == b.size == "reduced" and a.ok and b.ok
    # the first ran every witness itself; the second reused those runs, and says whose
    assert a.shared_with is None
    assert all(run.shared_with is None for run in a.witnesses.values())
    owner = {"name": "hand-a", "file": str(tmp_path / "hand-a.yaml")}
    assert b.shared_with == owner
    assert {w: (run.status, run.shared_with) for w, run in b.witnesses.items()} == {
        w: ("ran", owner) for w in ("torch", "onnx", "fvcore")}
    d = b.to_dict()
    assert d["shared_with"] == owner and d["witnesses"]["onnx"]["shared_with"] == owner
    # the full size is counted for each spec, never shared: 680 params, 5248 FLOPs
    assert b.full_witnesses["torch"].shared_with is None
    assert (b.full_size["torch"].params, b.full_size["torch"].forward_flops) == (680, 5248)
    # a shared result equals the result of checking hand-b alone, field for field
    alone = check(_hand(tmp_path, "hand-b"), max_full_params=100)
    assert alone.shared_with is None
    assert _without_timing(b.to_dict()) == _without_timing(alone.to_dict())
    for w in ("torch", "onnx", "fvcore"):
        assert b.witnesses[w].result == alone.witnesses[w].result
        assert b.witnesses[w].result.name == "hand-b"
    # the text report says so
    from estimator.report.check import render_check

    text = render_check(b)
    assert "shared with hand-a" in text and "shared with" not in render_check(alone)


# Each changes the graph built at the reduced size, and none may share hand-a's runs: a
# dimension of the reduced size, the input length, a bias flag, a norm kind, tying, an
# activation (the same counts, another graph), a layer's name (another module path)
CHANGES = {
    "dimension": ("reduced: {d: 4, ffn: 8}", "reduced: {d: 4, ffn: 12}"),
    "input": ("T: 4,", "T: 5,"),
    "bias": ("activation: relu}", "activation: relu, bias: false}"),
    "norm": ("{kind: layernorm, name: ln}\n      - {kind: mlp",
             "{kind: rmsnorm, name: ln}\n      - {kind: mlp"),
    "tie": (", tie: wte}", "}"),
    "activation": ("activation: relu", "activation: gelu"),
    "name": ("name: head", "name: lm_head"),
}


@pytest.mark.onnx
@pytest.mark.torch
def test_structures_that_differ_never_share(tmp_path):
    shared = SharedRuns()
    a = check(_hand(tmp_path, "hand-a"), max_full_params=100, shared=shared)
    assert a.shared_with is None and a.ok
    key = _reduced_key(load_spec(tmp_path / "hand-a.yaml"))
    assert key == _reduced_key(load_spec(_hand(tmp_path, "hand-same")))
    for what, (old, new) in CHANGES.items():
        p = _hand(tmp_path, f"hand-{what}", old, new)
        assert _reduced_key(load_spec(p)) != key, what
        r = check(p, max_full_params=100, shared=shared)
        assert r.size == "reduced" and r.ok, what
        assert r.shared_with is None, what
        assert all(run.shared_with is None for run in r.witnesses.values()), what


def _rows(res):
    # what the check compares: parameters and forward (matrix-class) FLOPs. other_flops are
    # estimates, not compared, and may differ: on CPU SDPA is one fused kernel, on meta its
    # decomposition adds the scale and mask elementwise ops
    return {r.path: (r.count.params, r.count.forward_flops) for r in res.layers}


@pytest.mark.torch
def test_cpu_and_meta_give_the_same_counts(tmp_path):
    # the torch and fvcore witnesses run a model on CPU up to CPU_MAX_PARAMS/CPU_MAX_FLOPS
    # and on meta above: both count by shapes, so every row is the same on both devices
    # (ResNet-50 at its reduced size: convolutions, batch norms, pooling; the hand
    # transformer: embedding, attention with SDPA, tied head)
    from estimator.graphs.crosscheck import Builds, run_fvcore, run_torch

    p = tmp_path / "hand.yaml"
    p.write_text(HAND)
    r50 = load_spec(ROOT / "archspecs" / "resnet50.yaml")
    for spec in (load_spec(p), load_spec(r50, overrides=dict(r50.reduced))):
        builds = Builds()
        meta, cpu = (run_torch(spec, "full", builds, device) for device in ("meta", "cpu"))
        assert (meta.status, cpu.status) == ("ran", "ran"), (meta.reason, cpu.reason)
        assert (meta.reason, cpu.reason) == ("meta device", "CPU, real tensors")
        assert _rows(meta.result) == _rows(cpu.result) and len(_rows(cpu.result)) > 10
        assert (meta.result.total.params, meta.result.total.forward_flops) == \
            (cpu.result.total.params, cpu.result.total.forward_flops)
        fv_cpu = run_fvcore(spec, "full", builds=builds, device="cpu")
        assert fv_cpu.status == "ran" and fv_cpu.reason.startswith("CPU, real tensors")
        fv_meta = run_fvcore(spec, "full", builds=builds, device="meta")
        assert fv_meta.status == "ran"   # on meta, or its CPU fallback for convolutions
        assert _rows(fv_meta.result) == _rows(fv_cpu.result)
    # ResNet-50 reduced (classes=10, w=8): 376,722 params, 153,543,680 forward FLOPs
    assert (cpu.result.total.params, cpu.result.total.forward_flops) == (376_722, 153_543_680)


@pytest.mark.onnx
@pytest.mark.torch
def test_a_check_on_cpu_never_loads_the_meta_kernels(tmp_path):
    # a spec within the CPU limits is checked by all four witnesses without torch's Python
    # meta kernels, whose first call imports torch._dynamo (about 1x `import torch` of CPU)
    import subprocess
    import sys

    p = tmp_path / "hand.yaml"
    p.write_text(HAND)
    code = ("import sys; from estimator.graphs.crosscheck import check; "
            f"r = check({str(p)!r}, max_full_params=100); "
            "print(r.ok, r.size, sorted(w for w, x in r.witnesses.items() if x.status == 'ran'),"
            " sorted(r.full_size), 'torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split("\n")[-2]
    # the table at the reduced size, the full size by torch and fvcore (5,248 FLOPs, on CPU)
    assert out == "True reduced ['fvcore', 'onnx', 'torch'] ['fvcore', 'torch'] False"


@pytest.mark.onnx
@pytest.mark.torch
def test_a_witness_that_cannot_run_says_why(tmp_path):
    p = tmp_path / "hand.yaml"
    p.write_text(HAND)
    r = check(p, witnesses=("torch",))
    assert r.witnesses["onnx"].status == "cannot" and r.witnesses["onnx"].reason == "not requested"
    assert r.total.cells["onnx"].verdict == "-" and r.ok


# The catalog: every entry (tests/catalog_entries.py) through every witness. In the default
# suite each is checked at its reduced: size by all four witnesses (ONNX export and
# onnxruntime on a small CPU build) and whole on the meta device by torch (exact parameters
# and FLOPs); the full-size runs of every witness (fvcore whole on meta, real weights on CPU
# for the ONNX export and fvcore's fallback) are opt-in: python -m pytest -m full_size.
# fvcore has no handle for SDPA or LSTM: "explained" there.
EXPECTED_FVCORE = {
    "alexnet": "ok", "resnet50": "ok", "transformer-base": "explained", "vgg16": "ok",
    "gpt2": "explained", "gpt3-175b": "explained", "mixtral-8x7b": "explained",
    "lstm-seq2seq": "explained",
}
# Full-size fvcore runs that cannot happen, and why: torch's meta kernel of convolution cannot
# be traced (torch.jit.trace: "cond must be a bool"), and above FVCORE_CPU_MAX_PARAMS the CPU
# fallback is refused. The torch witness still checks these at full size, exactly.
FULL_FVCORE_CANNOT = {"whisper-large"}


# Entries whose reduced size is the same model (Llama-2-7B and -13B at their reduced: size)
# share the witness runs at that size: each witness ran once on that graph, for the first
# such entry, and the later ones say whose run they reuse. The full size is each entry's own.
# Only what a later entry's assertions read is kept of each check (the whole results of
# 272 checks, full-size rows included, would stay alive to the end of the file).
SHARED = SharedRuns()
CHECKED = {}    # system name -> (its catalog entry, table size, {witness: shared_with})


def _checked(entry):
    r = check(load_entry(entry), full_size_witnesses=("torch",), shared=SHARED)
    CHECKED[r.name] = (entry, r.size, {w: run.shared_with for w, run in r.witnesses.items()})
    return r


@pytest.mark.onnx
@pytest.mark.torch
@pytest.mark.parametrize("entry", CATALOG, ids=entry_id)
def test_every_catalog_entry_through_every_witness(entry):
    r = _checked(entry)
    name = entry_id(entry)
    # every witness ran, at the table's size: for this entry, or (shared) for an entry
    # checked before whose reduced size is the identical graph, whose own run it was
    for w, run in r.witnesses.items():
        assert run.status == "ran", f"{name}: {w} could not run: {run.reason}"
        assert run.size == r.size
        if run.shared_with is not None:
            first, size, shared = CHECKED[run.shared_with["name"]]
            assert first != entry and shared[w] is None   # that entry's own run
            assert r.size == size == "reduced"
            assert _reduced_key(load_entry(first)) == _reduced_key(load_entry(entry))
    # parameters agree exactly on every row every witness has, and in total
    for row in r.rows:
        for w, c in row.cells.items():
            if c.params is not None:
                assert c.params == row.analytic.params, f"{name} {row.path} {w}: {c.note}"
    for w, c in r.total.cells.items():
        assert c.params == r.analytic.params
    # matrix FLOPs: torch and onnx count the same operators -> exact
    assert r.total.cells["torch"].forward_flops == r.analytic.forward_flops
    assert r.total.cells["onnx"].forward_flops == r.analytic.forward_flops
    assert r.total.cells["fvcore"].verdict == EXPECTED_FVCORE.get(
        name, r.total.cells["fvcore"].verdict)
    assert r.total.cells["fvcore"].verdict in ("ok", "explained")
    assert r.ok, r.failures
    if r.size == "reduced":
        # the entry as published, whole on the meta device: torch exact
        assert r.full_size["torch"].params == r.analytic_full.params
        assert r.full_size["torch"].forward_flops == r.analytic_full.forward_flops
        assert r.full_witnesses["onnx"].status == "cannot"
        assert "fvcore" not in r.full_witnesses   # opt-in: test_every_catalog_entry_whole


@pytest.mark.full_size
@pytest.mark.onnx
@pytest.mark.torch
@pytest.mark.parametrize("entry", CATALOG, ids=entry_id)
def test_every_catalog_entry_whole(entry):
    """Opt-in (python -m pytest -m full_size): every witness at full size, as
    ``paramcount check --size full``: real weights on CPU for the ONNX export (up to
    MAX_FULL_PARAMS) and for fvcore where its meta trace fails (up to 300M parameters)."""
    from estimator.graphs.crosscheck import MAX_FULL_PARAMS

    r = check(load_entry(entry), size="full")
    name = entry_id(entry)
    assert r.size == "full" and r.ok, r.failures
    assert r.total.cells["torch"].params == r.analytic.params
    assert r.total.cells["torch"].forward_flops == r.analytic.forward_flops
    if r.analytic.params <= MAX_FULL_PARAMS:
        assert r.total.cells["onnx"].params == r.analytic.params
        assert r.total.cells["onnx"].forward_flops == r.analytic.forward_flops
    else:
        assert r.witnesses["onnx"].status == "cannot"
    if name in FULL_FVCORE_CANNOT:
        run = r.witnesses["fvcore"]
        assert run.status == "cannot" and "too many to materialise on CPU" in run.reason
    else:
        assert r.total.cells["fvcore"].params == r.analytic.params
        assert r.total.cells["fvcore"].verdict in ("ok", "explained")


@pytest.mark.full_size
@pytest.mark.onnx
@pytest.mark.torch
def test_published_sizes_seen_by_every_witness():
    # GPT-3 175B at full size on the meta device: 174,604,259,328 parameters by torch and
    # fvcore alike (the analytic figure); AlexNet: 60,965,224 by all four witnesses.
    if not (ROOT / "archspecs" / "gpt3-175b.yaml").exists():
        pytest.skip("no gpt3-175b archspec")
    g = check(ROOT / "archspecs" / "gpt3-175b.yaml")
    assert g.analytic_full.params == g.full_size["torch"].params == g.full_size["fvcore"].params
    a = check(ROOT / "archspecs" / "alexnet.yaml", size="full")
    assert {c.params for c in a.total.cells.values()} == {60_965_224}
    assert a.total.cells["onnx"].forward_flops == 1_448_813_632
