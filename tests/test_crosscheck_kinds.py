"""Registry-driven: every layer kind's EXAMPLE goes through all four witnesses.

Parameters agree exactly everywhere; torch and onnx count the same matrix-class operators
as the formulas (exact FLOPs); fvcore is exact or differs by exactly the operators it has
no handle for (SDPA, LSTM/GRU/RNN). A witness that cannot run must say why, and only the
cases listed in CANNOT may.
"""
from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("fvcore")

from estimator.analytic import load_spec  # noqa: E402
from estimator.graphs.crosscheck import check  # noqa: E402
from estimator.layers.registry import REGISTRY, load_all  # noqa: E402

load_all()
KINDS = sorted(k for k, cls in REGISTRY.items() if cls.EXAMPLE)

# fvcore's blind spots: FLOPs it skips, each difference explained exactly in the row
FVCORE_EXPLAINED = {"attention", "lstm", "gru", "rnn"}
# ONNX has no adaptive max pooling whose output size does not divide the input (9 -> 2)
CANNOT = {("adaptive_maxpool", "onnx"): "adaptive_max_pool2d"}

pytestmark = [pytest.mark.onnx, pytest.mark.torch]


def test_every_kind_has_an_example():
    assert len(KINDS) == len(REGISTRY) and "attention" in KINDS and "moe" in KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_kind_through_every_witness(kind):
    ex = REGISTRY[kind].EXAMPLE
    spec = load_spec({"name": f"example-{kind}", "input": ex["input"], "layers": [ex["layer"]]})
    r = check(spec)
    assert r.size == "full"
    for w, run in r.witnesses.items():
        if (kind, w) in CANNOT:
            assert run.status == "cannot" and CANNOT[(kind, w)] in run.reason
            continue
        assert run.status == "ran", f"{w}: {run.reason}"
        c = r.total.cells[w]
        assert c.params == r.analytic.params, c.note
        if w == "fvcore" and kind in FVCORE_EXPLAINED:
            assert c.verdict == "explained" and c.forward_flops < r.analytic.forward_flops
        else:
            assert c.forward_flops == r.analytic.forward_flops, c.note
    assert r.ok, r.failures
