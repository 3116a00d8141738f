"""Recommendation systems of the catalog beyond DLRM (NeuMF), and the elementwise-product join
of ``parallel`` they need: exact counts, the arithmetic in comments.

(The torch cross-check of every spec runs in tests/test_archspecs.py.)
"""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.errors import SpecError

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def _product_spec(dims=(3, 3)):
    # two id inputs, one embedding each (5 x a and 7 x b rows), joined by the elementwise product
    return {"name": "t", "inputs": {"u": {"tokens": 1}, "i": {"tokens": 1}},
            "layers": [{"kind": "parallel", "name": "gmf", "join": "product", "branches": {
                "u": [{"kind": "embedding", "name": "e", "from": "u", "vocab": 5, "dim": dims[0]}],
                "i": [{"kind": "embedding", "name": "e", "from": "i", "vocab": 7, "dim": dims[1]}]}}]}


def test_product_join_hand_case():
    r = analyze(load_spec(_product_spec()))
    # params 5*3 + 7*3 = 36; the product is elementwise: 0 matrix FLOPs, 1 x 3 = 3 multiplies
    assert (r.params, r.forward_flops, r.other_flops, r.output_shape) == (36, 0, 3, (1, 3))


def test_product_join_needs_equal_shapes():
    with pytest.raises(SpecError, match="product join needs equal branch shapes"):
        analyze(load_spec(_product_spec((3, 4))))


@pytest.mark.torch
def test_product_join_matches_torch():
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_module
    from torchcheck import assert_spec_matches_torch

    spec = load_spec(_product_spec())
    assert_spec_matches_torch(spec, analyze(spec))
    m = build_module(spec, "cpu")
    u, i = torch.tensor([[2]]), torch.tensor([[6]])
    with torch.no_grad():
        y = m(u, i)
    # the join is the product of the two rows looked up
    assert torch.equal(y, m.gmf.u.e.weight[2:3][None] * m.gmf.i.e.weight[6:7][None])


def test_neumf_pinterest():
    r = analyze(load_spec(ARCH / "neumf.yaml"))
    rows = {row.path: row for row in r.layers}
    # Table 1: Pinterest 55,187 users + 9,916 items = 65,103 rows per table
    # GMF tables 8 wide: 65,103 * 8 = 520,824; MLP tables 16 wide: 65,103 * 16 = 1,041,648
    assert rows["gmf"].count.params == 520_824
    assert rows["mlp_embed"].count.params == 1_041_648
    # MLP 32 -> 32 -> 16 -> 8 with biases: 32*32 + 32 + 32*16 + 16 + 16*8 + 8 = 1,720
    assert rows["mlp"].count.params == 1_056 + 528 + 136 == 1_720
    # output h over [8 GMF; 8 MLP] = 16 features, with the Keras Dense bias: 17
    assert rows["prediction"].count.params == 17
    assert r.params == 520_824 + 1_041_648 + 1_720 + 17 == 1_564_209
    assert r.total.by_type["embedding"] == 65_103 * 24 == 1_562_472
    # forward FLOPs: 2 x weights of the four linear layers (1,024 + 512 + 128 + 16) = 3,360
    assert r.forward_flops == 2 * (1_024 + 512 + 128 + 16) == 3_360
    # the GMF product: 8 multiplies; biases 32 + 16 + 8 + 1; ReLUs 56; sigmoid 1
    assert r.other_flops == 8 + 57 + 56 + 1 == 122
    # the authors' README configuration (--layers [64,32,16,8]: 32-wide MLP embeddings):
    # + 65,103 * 16 = 1,041,648 embedding rows and 32 more inputs to layer1 (32 * 32 = 1,024)
    big = analyze(load_spec(ARCH / "neumf.yaml", {"mlp_embed": "32"}))
    assert big.params == 1_564_209 + 1_041_648 + 1_024 == 2_606_881
