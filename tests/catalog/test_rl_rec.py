"""Catalog specs for games/RL and recommender systems, and the two recommender layer kinds,
with the arithmetic by hand."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec

SPECS = Path(__file__).resolve().parents[2] / "archspecs"


def _count(name, **overrides):
    return analyze(load_spec(SPECS / name, overrides or None))


def _rows(r):
    return {row.path: row for row in r.layers}


# ------------------------------------------------------------------------- layer kinds

def _one(layer, inp, inputs=None):
    spec = {"name": "t", "layers": [layer]}
    spec.update({"inputs": inputs} if inputs else {"input": inp})
    return analyze(load_spec(spec))


def test_embedding_bag_hand_case():
    # table 1000 x 16 = 16,000 params; a bag of 7 ids summed: 0 matrix FLOPs, 7*16 = 112 adds
    r = _one({"kind": "embedding_bag", "vocab": 1000, "dim": 16}, {"tokens": 7})
    assert (r.params, r.forward_flops, r.other_flops, r.output_shape) == (16000, 0, 112, (16,))
    assert r.total.by_type == {"embedding": 16000}
    # mean pooling adds the 16 divides: 112 + 16 = 128
    r = _one({"kind": "embedding_bag", "vocab": 1000, "dim": 16, "mode": "mean"}, {"tokens": 7})
    assert r.other_flops == 128


def test_dot_interaction_hand_case():
    # a (4,) dense vector and two (4,) embeddings: F = 3, T is 3 x 4;
    # Z = T T^T: 2*3*3*4 = 72 FLOPs; out 4 + 3*2/2 = 7 (itself: 4 + 3*4/2 = 10)
    inputs = {"x": {"vector": 4}, "a": {"tokens": 2}, "b": {"tokens": 1}}
    layers = [{"kind": "embedding_bag", "name": "ea", "from": "a", "vocab": 10, "dim": 4},
              {"kind": "embedding_bag", "name": "eb", "from": "b", "vocab": 20, "dim": 4},
              {"kind": "dot_interaction", "name": "i", "from": "x", "features": ["ea", "eb"]}]
    r = analyze(load_spec({"name": "t", "inputs": inputs, "layers": layers}))
    # params 10*4 + 20*4 = 120; other: bag adds 2*4 + 1*4 = 12
    assert (r.params, r.forward_flops, r.other_flops, r.output_shape) == (120, 72, 12, (7,))
    layers[2]["itself"] = True
    r = analyze(load_spec({"name": "t", "inputs": inputs, "layers": layers}))
    assert r.output_shape == (10,) and r.forward_flops == 72


def test_dot_interaction_rejects_mismatched_widths():
    from estimator.errors import SpecError

    inputs = {"x": {"vector": 4}, "a": {"tokens": 1}}
    layers = [{"kind": "embedding_bag", "name": "ea", "from": "a", "vocab": 10, "dim": 5},
              {"kind": "dot_interaction", "from": "x", "features": ["ea"]}]
    with pytest.raises(SpecError, match="same width"):
        analyze(load_spec({"name": "t", "inputs": inputs, "layers": layers}))


@pytest.mark.torch
def test_dot_interaction_values_match_dlrm_formula():
    """The built module gives the dense vector and the dot products below the diagonal,
    in DLRM's order (row i, column j < i)."""
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_module

    spec = load_spec({"name": "t", "inputs": {"x": {"vector": 3}, "y": {"vector": 3},
                                              "z": {"vector": 3}},
                      "layers": [{"kind": "dot_interaction", "features": ["y", "z"]}]})
    m = build_module(spec, "cpu")
    x, y, z = torch.tensor([[1., 2, 3]]), torch.tensor([[0., 1, 0]]), torch.tensor([[2., 0, 1]])
    # <y,x> = 2, <z,x> = 2 + 3 = 5, <z,y> = 0
    assert m(x, y, z).tolist() == [[1., 2., 3., 2., 5., 0.]]


# -------------------------------------------------------------------------------- DQN

def test_dqn():
    r = _count("dqn.yaml")
    rows = _rows(r)
    # conv1 4->32 8x8 s4: 84 -> (84-8)/4+1 = 20; 32*4*64 + 32 = 8,224
    # conv2 32->64 4x4 s2: 20 -> 9; 64*32*16 + 64 = 32,832
    # conv3 64->64 3x3 s1: 9 -> 7; 64*64*9 + 64 = 36,928
    # fc 3136 -> 512: 3136*512 + 512 = 1,606,144; q 512 -> 18: 9,234
    assert rows["conv1"].count.params == 8224 and rows["conv3"].output_shape == (64, 7, 7)
    assert rows["fc"].count.params == 1606144
    assert r.params == 8224 + 32832 + 36928 + 1606144 + 9234 == 1693362
    assert r.total.by_type == {"conv": 77984, "dense": 1615378}
    # FLOPs 2*32*400*256 + 2*64*81*512 + 2*64*49*576 + 2*3136*512 + 2*512*18
    assert r.forward_flops == 6553600 + 5308416 + 3612672 + 3211264 + 18432 == 18704384
    # 4 actions: 1,693,362 - 14*513 = 1,686,180
    assert _count("dqn.yaml", actions=4).params == 1686180


# ------------------------------------------------------------------------ AlphaGo Zero

# residual block: 2 convs 256*256*9 = 589,824 each + 2 BN (256 scale + 256 shift) = 1,180,672
BLOCK = 2 * 589824 + 2 * 512
# conv block 17*256*9 + BN 512 = 39,680; policy head conv 256*2 + BN 4 + fc 722*362 + 362
# = 262,242; value head conv 256 + BN 2 + fc 361*256 + 256 + fc 256 + 1 = 93,187
AGZ_FIXED = 39680 + 262242 + 93187


def test_alphago_zero_40_blocks():
    r = _count("alphago-zero.yaml")
    assert r.params == AGZ_FIXED + 39 * BLOCK == 46441317
    assert _rows(r)["heads"].output_shape == (363,)  # 362 move logits + 1 value
    assert r.total.by_type["conv"] == 17 * 256 * 9 + 78 * 589824 + 256 * 2 + 256 == 46046208
    # per 19x19 position: 3x3 conv 256->256 = 2*361*256*256*9 = 425,852,928 (78 of them);
    # first conv 2*361*17*256*9 = 28,279,296; heads: policy conv 2*361*256*2 = 369,664,
    # fc 2*722*362 = 522,728; value conv 184,832, fc 2*361*256 = 184,832, fc 512
    assert r.forward_flops == (78 * 425852928 + 28279296 + 369664 + 522728 + 184832 + 184832
                               + 512) == 33246070248
    # self-play 29e6 x 200 x 1600 = 9.28e12 passes x forward = 3.085e23; + 3 x 6.3488e9
    # training positions: 3.09e23, 0.907 of the 3.41e23 estimate (explained in discrepancy)
    total = 9.28e12 * r.forward_flops + 3 * 6.3488e9 * r.forward_flops
    assert total == pytest.approx(3.0915e23, rel=1e-4)
    spec = load_spec(SPECS / "alphago-zero.yaml")
    assert spec.provenance["training"]["generation_passes"] == 29e6 * 200 * 1600
    assert "training_compute" in spec.provenance["discrepancy"]


def test_alphago_zero_20_blocks():
    r = _count("alphago-zero-20b.yaml")
    assert r.params == AGZ_FIXED + 19 * BLOCK == 22827877
    assert r.forward_flops == 38 * 425852928 + 28279296 + 369664 + 522728 + 184832 + 184832 + 512
    spec = load_spec(SPECS / "alphago-zero-20b.yaml")
    assert spec.provenance["training"]["examples"] == 700000 * 2048
    assert spec.provenance["training"]["generation_passes"] == 4.9e6 * 200 * 1600


# --------------------------------------------------------------------------- AlphaZero

def test_alphazero_chess():
    r = _count("alphazero.yaml")
    # first conv 119*256*9 = 274,176 + BN 512; 19 blocks; policy conv 589,824 + BN 512 +
    # final 1x1 conv 73*256 + 73 = 18,761; value conv 256 + BN 2 + fc 64*256 + 256 + fc 257
    assert r.params == (274176 + 512 + 19 * BLOCK + 589824 + 512 + 18761 + 256 + 2 + 16640
                        + 257) == 23333708
    assert r.output_shape == (8 * 8 * 73 + 1,)
    # on 8x8: 3x3 conv 256->256 = 2*64*256*256*9 = 75,497,472 (38 in the body + 1 in the
    # policy head); first 2*64*119*256*9 = 35,094,528; final 2*64*256*73 = 2,392,064;
    # value conv 32,768 + fc 32,768 + fc 512
    assert r.forward_flops == 39 * 75497472 + 35094528 + 2392064 + 32768 + 32768 + 512 \
        == 2981954048
    t = load_spec(SPECS / "alphazero.yaml").provenance["training"]
    assert (t["examples"], t["chips"], t["hours"]) == (700000 * 4096, 5000, 9)


def test_alphazero_training_compute_covers_self_play():
    """Issue 20: counting the 700,000 training steps alone (3 x 2,981,954,048 x 2,867,200,000
    = 2.565e19) leaves out self-play, whose size the paper does not give: the spec says so
    (training.excludes) and the catalog's figure is the hardware method, which covers the
    self-play TPUs: 5,000 x 92e12 (TPU v1 int8) x 0.3 x 9 x 3,600 s = 4.4712e21."""
    from estimator.curation.catalog import make_entry

    e = make_entry(SPECS / "alphazero.yaml")
    assert "self-play" in e.training["excludes"]
    row = e.to_row()
    assert row["training_compute_method"] == "hardware method"
    assert row["training_compute"] == pytest.approx(5000 * 92e12 * 0.3 * 9 * 3600, rel=1e-9)
    assert row["training_compute_counting"] == pytest.approx(3 * 2_981_954_048 * 2_867_200_000,
                                                             rel=1e-12)


# -------------------------------------------------------------------------------- DLRM

TABLES = [39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63, 38532951, 2953546, 403346,
          10, 2208, 11938, 155, 4, 976, 14, 39979771, 25641295, 39664984, 585935, 12972, 108, 36]


def test_dlrm_mlperf():
    r = _count("dlrm-mlperf.yaml")
    rows = _rows(r)
    assert sum(TABLES) == 187767399
    # embeddings 187,767,399 x 128 = 24,034,227,072
    # bottom 13*512+512 + 512*256+256 + 256*128+128 = 171,392
    # top (128 + 27*26/2 = 479) 479*1024+1024 + 1024*1024+1024 + 1024*512+512 + 512*256+256
    #     + 256+1 = 2,197,505
    assert rows["emb0"].count.params == 39884406 * 128
    assert rows["bot"].count.params == 171392 and rows["top"].count.params == 2197505
    assert rows["interact"].output_shape == (479,)
    assert r.params == 24034227072 + 171392 + 2197505 == 24036595969
    assert r.total.by_type == {"embedding": 24034227072, "dense": 2368897}
    # FLOPs: 2 x MLP weights 2*(171,392 - 896 biases) + 2*(2,197,505 - 2,817 biases)
    # + interaction 2*27*27*128 = 186,624; lookups 0
    assert rows["interact"].count.forward_flops == 186624
    assert r.forward_flops == 2 * 170496 + 2 * 2194688 + 186624 == 4916992
    # other: 26 bags x 128 adds = 3,328 among the rest
    assert sum(rows[f"emb{i}"].count.other_flops for i in range(26)) == 26 * 128
