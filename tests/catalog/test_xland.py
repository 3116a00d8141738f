"""The XLand agent (GOAT, Open-Ended Learning Team 2021) and the reshape kind it needed, with
the arithmetic by hand."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.curation.catalog import make_entry
from estimator.errors import SpecError

SPEC = Path(__file__).resolve().parents[2] / "archspecs" / "xland-agent.yaml"


def _reshape(inp, shape):
    return analyze(load_spec({"name": "t", "input": inp,
                              "layers": [{"kind": "reshape", "shape": shape}]}))


def test_reshape_hand_case():
    # (12,) -> (3, 4): same 12 elements, nothing computed, nothing learned
    r = _reshape({"vector": 12}, [3, 4])
    assert (r.params, r.forward_flops, r.other_flops, r.output_shape) == (0, 0, 0, (3, 4))
    # (2, 6) -> (12,): an int shape is one dim
    assert _reshape({"shape": [2, 6]}, 12).output_shape == (12,)


def test_reshape_rejects_a_different_element_count():
    with pytest.raises(SpecError, match="12 elements cannot become 10"):
        _reshape({"vector": 12}, [2, 5])


@pytest.mark.torch
def test_reshape_builds_row_major():
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_module

    m = build_module(load_spec({"name": "t", "input": {"vector": 6},
                                "layers": [{"kind": "reshape", "shape": [2, 3]}]}), "cpu")
    assert m(torch.arange(6.).reshape(1, 6)).tolist() == [[[0., 1., 2.], [3., 4., 5.]]]


def test_xland_params_per_block():
    r = analyze(load_spec(SPEC))
    rows = {row.path: row for row in r.layers}
    # torso, IMPALA residual sections on 3 x 72 x 96 (3 x 3 convs with bias):
    #   conv1 3->16: 16*3*9 + 16 = 448;  4 convs 16->16: 4 * (16*16*9 + 16) = 4 * 2,320 = 9,280
    #   conv2 16->32: 32*16*9 + 32 = 4,640;  4 convs 32->32: 4 * (32*32*9 + 32) = 4 * 9,248 = 36,992
    #   conv3 32->32: 9,248;  4 convs 32->32: 36,992           convolutions: 97,600
    #   max pools (k 3, s 2, p 1): 72x96 -> 36x48 -> 18x24 -> 9x12; fc 32*9*12 = 3,456 -> 256:
    #   3,456*256 + 256 = 884,992                              torso: 982,592
    assert rows["torso.conv1"].count.params == 448
    assert rows["torso.res1"].count.params == 9_280
    assert rows["torso.fc"].count.params == 884_992
    assert rows["torso"].count.params == 982_592
    # goal: 1,000 predicates x 256 = 256,000; option layer 3*256 = 768 -> 256: 196,864;
    # goal layer over the 3 options 768 -> 256: 196,864
    assert rows["predicate_emb"].count.params == 256_000
    assert rows["option_emb"].count.params == rows["goal_emb"].count.params == 196_864
    # LSTM 512 -> 256: 4*256*512 + 4*256*256 + 2*4*256 = 524,288 + 262,144 + 2,048 = 788,480
    assert rows["core"].count.params == 788_480
    # GOAT, one head of 256 over 8 slots of 32: q 256*256+256 = 65,792, k = v = 256*32+256 = 8,448,
    # o 65,792: 148,480
    assert rows["goat"].count.params == 148_480
    # heads: policy 768*256+256 + 256*10+10 = 196,864 + 2,570 = 199,434;
    #        value 256*256+256 + 256+1 = 65,792 + 257 = 66,049;  265,483
    assert rows["heads"].count.params == 265_483
    # 982,592 + 256,000 + 2*196,864 + 788,480 + 148,480 + 265,483 = 2,834,763
    assert r.params == r.active_params == 2_834_763
    assert r.output_shape == (13,)          # 10 logits + 3 option values


def test_xland_forward_flops_one_step():
    r = analyze(load_spec(SPEC))
    rows = {row.path: row for row in r.layers}
    # convs, 2 * outputs * MACs per output:
    #   conv1 2*(16*72*96)*27 = 5,971,968;  res1 4 * 2*(16*36*48)*144 = 31,850,496
    #   conv2 2*(32*36*48)*144 = 15,925,248; res2 4 * 2*(32*18*24)*288 = 31,850,496
    #   conv3 2*(32*18*24)*288 = 7,962,624;  res3 4 * 2*(32*9*12)*288 = 7,962,624
    #   sum 101,523,456; fc 2*3,456*256 = 1,769,472 -> torso 103,292,928
    assert rows["torso"].count.forward_flops == 103_292_928
    # LSTM one step: 2 * 4*256 * (512 + 256) = 1,572,864
    assert rows["core"].count.forward_flops == 1_572_864
    # GOAT: q 2*3*256*256 = 393,216; k = v = 2*8*32*256 = 131,072; scores + values
    # 2 * (2*3*8*256) = 24,576; o 393,216 -> 1,073,152
    assert rows["goat"].count.forward_flops == 1_073_152
    # + options 2*3*768*256 = 1,179,648 + goal 2*768*256 = 393,216
    # + heads 2*768*256 + 2*256*10 + 2*3*256*256 + 2*3*256 = 393,216 + 5,120 + 393,216 + 1,536
    #   = 793,088
    # 103,292,928 + 1,179,648 + 393,216 + 1,572,864 + 1,073,152 + 793,088 = 108,304,896
    assert r.forward_flops == 108_304_896


def test_xland_catalog_row():
    row = make_entry(SPEC).to_row()
    # (8 TPU v3 boards)(4.20e14 FLOP/s)(0.1)(32 agents)(7.3e6 s):
    # 8 * 4.2e14 = 3.36e15; * 0.1 = 3.36e14; * 32 = 1.0752e16; * 7.3e6 = 7.84896e22
    assert row["training_compute_hardware"] == pytest.approx(7.84896e22, rel=1e-12)
    assert row["published_training_compute"] == 7.8e22
    # issue 20: the published figure names where it comes from (the comment that first gave
    # it), and the note reconciles Epoch's current 2.41e22: 8 chips of 1.23e14 instead of 8
    # boards of 4.20e14 -> 8 x 1.23e14 x 0.1 x 32 x 7.3e6 = 2.2986e22
    fig = next(f for f in make_entry(SPEC).figures if f.key == "training_compute")
    assert "mTGrrX8SZJ2tQDuqz" in fig.source and "dxHQfFo2e3J3iksQa" in fig.source
    assert "2.41e22" in fig.note and "2.30e22" in fig.note
    assert 8 * 1.23e14 * 0.1 * 32 * 7.3e6 == pytest.approx(2.2986e22, rel=1e-4)
    # 2,834,763 / 3.5e6 = 0.80993...: off by more than 1%, explained in discrepancy.params
    assert row["params_ratio"] == pytest.approx(2_834_763 / 3.5e6, rel=1e-12)
    assert row["status"] == "explained discrepancy"
