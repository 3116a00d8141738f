"""Spec -> torch module builds that are only counted: no initial values drawn or written,
rotary tables computed once per shape, and the full-size route of a counted-only build."""
from __future__ import annotations

import gc

import pytest

torch = pytest.importorskip("torch")

from estimator.analytic import analyze, load_spec  # noqa: E402
from estimator.graphs.torch_build import _skip_init, build_module, example_inputs  # noqa: E402
from estimator.graphs.torch_count import count_module  # noqa: E402

# an embedding-heavy model: a V x 16 table (V = 1,000: 16,000 params), a 16 -> 16 LSTM (4
# gates x 16 x (16 + 16) weights + 2 x 64 biases = 2,176) and a 16 -> 10 head (170): 18,346
# params; reduced: V = 50
EMBED_HEAVY = {
    "name": "embed-heavy", "inputs": {"ids": {"tokens": 5}}, "vars": {"V": 1000},
    "layers": [{"kind": "embedding", "vocab": "V", "dim": 16},
               {"kind": "lstm", "hidden": 16},
               {"kind": "linear", "out": 10}],
    "reduced": {"V": 50},
}


def test_skipped_init_leaves_the_tensor_as_it_was():
    # the counted-only build's mode: the init functions that linear, convolution, embedding
    # and LSTM layers draw their weights with write nothing (a CPU build's weights stay
    # unwritten memory); every other call runs as usual
    t = torch.full((3, 4), 7.0)
    with _skip_init(torch):
        out = torch.nn.init.normal_(t, std=0.02)
        torch.nn.init.kaiming_uniform_(t)
        torch.nn.init.uniform_(t)
        torch.nn.init.constant_(t, 0.5)
        doubled = t * 2
    assert out is t and torch.equal(t, torch.full((3, 4), 7.0))
    assert torch.equal(doubled, torch.full((3, 4), 14.0))


def test_a_counted_only_build_counts_as_an_initialised_one():
    spec = load_spec(EMBED_HEAVY)
    counts = []
    for init in (True, False):
        m = build_module(spec, device="cpu", init=init)
        r = count_module(m, example_inputs(spec, device="cpu"), device="real")
        counts.append((r.params, r.forward_flops))
    # params 16,000 + 2,176 + 170 = 18,346; forward FLOPs: the LSTM 2 x 5 x 2,048 weights
    # = 20,480, the head 2 x 5 x 160 = 1,600 -> 22,080 (the embedding lookup is free)
    assert counts == [(18_346, 22_080), (18_346, 22_080)]
    assert (analyze(spec).params, analyze(spec).forward_flops) == (18_346, 22_080)


def test_rope_tables_computed_once_per_shape_each_layer_its_own_copy():
    from estimator.layers.attention import rope_tables

    cos_a, sin_a = rope_tables(6, 4)
    cos_b, sin_b = rope_tables(6, 4)
    assert cos_a is not cos_b and cos_a.data_ptr() != cos_b.data_ptr()
    assert torch.equal(cos_a, cos_b) and torch.equal(sin_a, sin_b)
    # position 5, frequency pair 1: angle 5 x 10000^(-2/4) = 5 / 100 = 0.05, in columns 1
    # and 3 (the halves repeat: RoFormer's rotate-half layout)
    assert cos_a.shape == (6, 4)
    assert abs(cos_a[5, 1].item() - torch.cos(torch.tensor(0.05)).item()) < 1e-7
    assert abs(sin_a[5, 3].item() - torch.sin(torch.tensor(0.05)).item()) < 1e-7
    with torch.device("meta"):
        cos_m, _ = rope_tables(6, 4)
    assert cos_m.device.type == "meta" and cos_m.shape == (6, 4)


def test_the_collector_runs_again_after_a_count_and_after_a_failed_one():
    spec = load_spec(EMBED_HEAVY)
    m = build_module(spec, device="meta")
    assert gc.isenabled()
    count_module(m, example_inputs(spec, device="meta"))
    assert gc.isenabled()
    with pytest.raises(Exception):
        count_module(m, (torch.zeros(1, 7, dtype=torch.float32),))   # floats into an embedding
    assert gc.isenabled()


def test_device_for_a_counted_only_full_size_build():
    from estimator.graphs.crosscheck import device_for

    lstm = analyze(load_spec("archspecs/lstm-seq2seq.yaml"))
    # 384,144,000 params > CPU_MAX_PARAMS (100M): meta for a build with initial values; a
    # counted-only build (never written) on CPU: at most 1B params and 10 GFLOPs
    # (8,640,000,000 forward FLOPs)
    assert (lstm.params, lstm.forward_flops) == (384_144_000, 8_640_000_000)
    assert (device_for(lstm), device_for(lstm, unwritten=True)) == ("meta", "cpu")
    gpt2 = analyze(load_spec("archspecs/gpt2.yaml"))   # 291.6 GFLOPs: meta either way
    assert (device_for(gpt2), device_for(gpt2, unwritten=True)) == ("meta", "meta")


def test_a_check_runs_a_counted_only_full_size_build_on_cpu(monkeypatch):
    # above CPU_MAX_PARAMS (lowered here to 1,000) the full size, a build only counted, runs
    # on CPU by torch and fvcore both (fvcore whole, where the meta device ran it before),
    # exactly as the analytic count: 18,346 params, 22,080 FLOPs (fvcore skips the LSTM's
    # 20,480: explained)
    pytest.importorskip("fvcore")
    from estimator.graphs import crosscheck

    monkeypatch.setattr(crosscheck, "CPU_MAX_PARAMS", 1_000)
    r = crosscheck.check(load_spec(EMBED_HEAVY), witnesses=("torch", "fvcore"),
                         auto_full_params=100)
    assert r.size == "reduced" and r.ok
    assert r.full_witnesses["torch"].reason == "CPU, real tensors"
    assert r.full_witnesses["fvcore"].reason.startswith("CPU, real tensors")
    torch_cell, fv_cell = r.full_size["torch"], r.full_size["fvcore"]
    assert (torch_cell.params, torch_cell.forward_flops, torch_cell.verdict) == \
        (18_346, 22_080, "ok")
    assert (fv_cell.params, fv_cell.forward_flops, fv_cell.verdict) == \
        (18_346, 1_600, "explained")


def test_fvcore_counts_a_layer_whose_output_the_spec_discards():
    # layer a's output is read by nothing (b takes `from: x`): torch.jit.trace would prune it,
    # weights and FLOPs; fvcore's trace keeps every layer output (expose_layer_outputs).
    # a: 8 x 16 weights + 16 biases = 144 params, 2 x 8 x 16 = 256 FLOPs; b: 8 x 4 + 4 = 36,
    # 2 x 8 x 4 = 64
    pytest.importorskip("fvcore")
    from estimator.graphs.fvcore_count import count_fvcore

    spec = load_spec({"name": "dead-end", "inputs": {"x": {"shape": [8]}},
                      "layers": [{"kind": "linear", "name": "a", "out": 16},
                                 {"kind": "linear", "name": "b", "out": 4, "from": "x"}]})
    for device in ("cpu", "meta"):
        m = build_module(spec, device=device)
        r = count_fvcore(m, example_inputs(spec, device=device))
        rows = {row.path: (row.count.params, row.count.forward_flops) for row in r.layers}
        assert rows == {"a": (144, 256), "b": (36, 64)}, device
        assert (r.params, r.forward_flops) == (180, 320)
        assert "forward" not in m.__dict__   # the extra outputs are undone
