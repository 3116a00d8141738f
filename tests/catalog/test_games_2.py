"""AlphaGo Fan, MuZero and OpenAI Five: exact counts of the networks the papers describe."""
from __future__ import annotations

from pathlib import Path

from estimator.analytic import analyze, load_spec
from estimator.curation import catalog as cat

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name):
    return analyze(load_spec(ARCH / name))


def test_alphago_fan():
    r = count("alphago-fan.yaml")
    # policy: 5x5 conv 48 -> 192 (230,400 + 192), eleven 3x3 convs 192 -> 192 (331,968 each),
    # a 1x1 filter without bias (192) and one bias per point (361)
    assert r.layer("policy").count.params == 230_592 + 11 * 331_968 + 192 + 361 == 3_882_793
    # value: 5x5 conv over 49 planes (235,200 + 192), the same 3x3 tower, a 1x1 filter with bias
    # (193), fc 361 -> 256 (92,672), output 257
    assert r.layer("value").count.params == 235_392 + 11 * 331_968 + 193 + 92_672 + 257 == 3_980_162
    assert r.params == 7_862_955
    assert r.layer("policy.position_bias").count.params == 19 * 19
    # multiply-adds per position: 19^2 * (48*25*192 + 11*192*9*192) + 361 * 192 = 1,400,696,064
    assert r.layer("policy").count.forward_flops == 2 * (361 * (48 * 25 * 192 + 11 * 192 * 9 * 192) + 361 * 192)
    assert cat.make_entry(ARCH / "alphago-fan.yaml").status == "not published"


def test_muzero():
    r = count("muzero.yaml")
    # representation: 3x3 conv 17 -> 256 (39,168) + BN 512, 16 blocks of two 3x3 convs 256 -> 256
    # (589,824) + BN 512 each: 16 * 1,180,672 = 18,890,752
    assert r.layer("representation").count.params == 39_168 + 512 + 18_890_752
    # dynamics reads the state and the action plane: 257 * 9 * 256 = 592,128
    assert r.layer("dynamics").count.params == 592_128 + 512 + 18_890_752
    # prediction: policy 1x1 256 -> 2 (512) + BN 4 + fc 722 -> 362 (261,726); value 256 + 2 +
    # 361 * 256 + 256 + 257
    assert r.layer("prediction").count.params == 512 + 4 + 261_726 + 256 + 2 + 92_672 + 257
    assert r.params == 38_769_253


def test_openai_five():
    r = count("openai-five.yaml")
    # one LSTM layer, 4 gates x 4096 x (4096 input + 4096 recurrent) + two bias vectors 2 * 4 * 4096
    assert r.params == 4 * 4096 * 8192 + 2 * 4 * 4096 == 134_250_496
    # one step: 2 FLOPs per weight of both matrices
    assert r.forward_flops == 2 * 4 * 4096 * 8192
    e = cat.make_entry(ARCH / "openai-five.yaml")
    assert e.status == "explained discrepancy" and e.published_params == 159e6


def test_alphastar_td_gammon_a3c():
    a = count("alphastar.yaml")
    # entity embedding 3,585 x 256 + 256; 3 transformer layers of 789,760; summary 256^2 + 256;
    # LSTM 3 x 384: 4*384*(1024 + 384) + 3,072 and twice 4*384*(384 + 384) + 3,072
    assert a.params == 918_016 + 3 * 789_760 + 65_792 + 2_165_760 + 2 * 1_182_720 == 7_884_288
    assert cat.make_entry(ARCH / "alphastar.yaml").status == "explained discrepancy"
    t = count("td-gammon-0.yaml")
    assert t.params == 198 * 40 + 40 + 40 * 4 + 4 == 8_124
    g = count("a3c-lstm.yaml")
    # conv 8x8 4 -> 16 (4,112), conv 4x4 16 -> 32 (8,224), fc 32*9*9 -> 256 (663,808), LSTM 256
    # (4*256*512 + 2,048), policy 256*18 + 18, value 257
    assert g.params == 4_112 + 8_224 + 663_808 + 526_336 + 4_626 + 257 == 1_207_363
