"""Mixture-of-experts catalog: GShard 600B, Switch-Base, Switch-C, DeepSeek-V3, DeepSeek-V2-Lite,
and the rooms they need (mla; moe's sigmoid scoring and score bias). Exact figures, with the
arithmetic in the comments."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name, **kw):
    return analyze(load_spec(ARCH / name), **kw)


def one_layer(layer, shape):
    return load_spec({"name": "case", "input": {"shape": list(shape)}, "layers": [layer]})


MLA = {"kind": "mla", "heads": 2, "q_lora_rank": 8, "kv_lora_rank": 6, "qk_nope_dim": 4,
       "qk_rope_dim": 2, "v_head_dim": 3}


# ------------------------------------------------------------------------------ mla room

def test_mla_hand_case():
    r = analyze(one_layer(MLA, (6, 16)))
    # d 16, h 2, d'_c 8, d_c 6, n 4, r 2, v 3, T 6:
    # q_a 8*16 = 128, q_norm 8, q_b (2*(4+2) = 12)*8 = 96, kv_a (6+2)*16 = 128, kv_norm 6,
    # kv_b (2*(4+3) = 14)*6 = 84, o 16*(2*3) = 96 -> 546
    assert r.params == r.active_params == 546
    # FLOPs: q_a 2*6*16*8 = 1536, q_b 2*6*8*12 = 1152, kv_a 2*6*16*8 = 1536, kv_b 2*6*6*14 = 1008,
    # scores 2*6*6*2*(4+2) = 864, values 2*6*6*2*3 = 432, o 2*6*6*16 = 1152 -> 7680
    assert r.forward_flops == 7680
    # other: q_norm (3+1)*6*8 = 192, kv_norm (3+1)*6*6 = 144, softmax+scale (3+1)*2*6*6 = 288,
    # rotary 3*(6*2*2 + 6*2) = 108 -> 732
    assert r.other_flops == 732
    assert r.output_shape == (6, 16)
    assert r.params_by_type == {"attention": 532, "norm": 14}
    assert r.layer("0.kv_b").count.params == 84


def test_mla_without_query_compression_and_causal_half():
    layer = {**MLA, "q_lora_rank": None}
    full = analyze(one_layer(layer, (6, 16)))
    # q projects directly: 12*16 = 192 replaces q_a + q_norm + q_b (232): 546 - 232 + 192 = 506
    assert full.params == 506
    # q FLOPs 2*6*16*12 = 2304 replace 1536 + 1152: 7680 - 2688 + 2304 = 7296
    assert full.forward_flops == 7296
    half = analyze(one_layer(layer, (6, 16)), causal="half")
    # the score and value products (864 + 432 = 1296) halve
    assert full.forward_flops - half.forward_flops == 648


def test_mla_rejects_odd_rotary_width():
    from estimator.errors import SpecError

    with pytest.raises(SpecError, match="qk_rope_dim must be even"):
        analyze(one_layer({**MLA, "qk_rope_dim": 3}, (6, 16)))


@pytest.mark.torch
def test_mla_torch_module_runs_causally():
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_module

    spec = one_layer(MLA, (6, 16))
    m = build_module(spec, "cpu")
    assert {n for n, _ in m.named_parameters()} == {
        "0.q_a.weight", "0.q_norm.weight", "0.q_b.weight", "0.kv_a.weight", "0.kv_norm.weight",
        "0.kv_b.weight", "0.o.weight"}
    x = torch.randn(1, 6, 16)
    with torch.no_grad():
        y, y3 = m(x), m(x[:, :3])
    # causal: the first 3 outputs do not depend on the last 3 inputs
    assert torch.allclose(y[:, :3], y3, atol=1e-5)


# --------------------------------------------------------------- moe: DeepSeek-V3 routing

SIGMOID_MOE = {"kind": "moe", "experts": 4, "top_k": 1, "hidden": 12, "scoring": "sigmoid",
               "score_bias": True}


def test_moe_sigmoid_scoring_with_score_bias():
    r = analyze(one_layer(SIGMOID_MOE, (5, 8)))
    # router 8*4 = 32 + score bias 4 + 4 SwiGLU experts of 3*8*12 = 288 -> 1188
    assert r.params == 1188
    # active: router 32 + bias 4 + 1 expert 288 = 324
    assert r.active_params == 324
    # FLOPs: router 2*5*8*4 = 320 + 1 expert 5 tokens * 2 * 288 = 2880 -> 3200
    assert r.forward_flops == 3200
    # other: router (sigmoid 1*4 + bias 4)*5 = 40 + normalise 2*1*5 = 10 -> 50;
    # experts 5*1*(12*(1+1) + 2*8) = 200 -> 250 (softmax scoring would give 3*4*5 = 60 for the
    # router without the bias: 260)
    assert r.other_flops == 250
    assert r.layer("0.router").count.params == 32  # the score bias sits beside the router
    softmax = analyze(one_layer({**SIGMOID_MOE, "scoring": "softmax", "score_bias": False}, (5, 8)))
    assert softmax.other_flops == 260 and softmax.params == 1184


@pytest.mark.torch
def test_moe_sigmoid_matches_torch():
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_module, example_inputs
    from torchcheck import assert_spec_matches_torch

    spec = one_layer({**SIGMOID_MOE, "top_k": 2, "shared_experts": 1}, (5, 8))
    assert_spec_matches_torch(spec, analyze(spec))
    with torch.no_grad():
        y = build_module(spec, "cpu")(*example_inputs(spec, "cpu"))
    assert torch.isfinite(y).all()


@pytest.mark.torch
@pytest.mark.onnx
def test_moe_sigmoid_and_mla_through_every_witness():
    """torch, ONNX and fvcore agree with the formulas row by row (the score bias is counted
    at the layer, where the selection uses it, not inside the router)."""
    pytest.importorskip("onnx")
    pytest.importorskip("fvcore")
    from estimator.graphs.crosscheck import check

    for layer, shape in (({**SIGMOID_MOE, "top_k": 2, "shared_experts": 1}, (5, 8)), (MLA, (6, 16))):
        r = check(one_layer(layer, shape))
        assert r.ok, r.failures


# -------------------------------------------------------------------------------- specs

def test_deepseek_v3():
    r = count("deepseek-v3.yaml")
    # MLA per layer: q_a 1536*7168 = 11,010,048; q_norm 1536; q_b (128*192 = 24576)*1536
    # = 37,748,736; kv_a (512+64)*7168 = 4,128,768; kv_norm 512; kv_b (128*256 = 32768)*512
    # = 16,777,216; o 7168*16384 = 117,440,512 -> 187,107,328
    assert r.layer("moe_layers.0.attn.attn").count.params == 187_107_328
    # MoE: 256 routed SwiGLU experts 256*3*7168*2048 = 11,274,289,152; 1 shared 44,040,192;
    # router 256*7168 = 1,835,008; score bias 256 -> 11,320,164,608
    assert r.layer("moe_layers.0.moe.moe").count.params == 11_320_164_608
    # dense layer 187,107,328 + 2 norms 14,336 + SwiGLU 3*7168*18432 = 396,361,728 = 583,483,392;
    # MoE layer 187,107,328 + 14,336 + 11,320,164,608 = 11,507,286,272
    # 3*583,483,392 + 58*11,507,286,272 + embed and head 2*129280*7168 = 1,853,358,080 + norm 7168
    # = 1,750,450,176 + 667,422,603,776 + 1,853,365,248 = 671,026,419,200 (the released weights)
    assert r.params == 671_026_419_200
    # active per MoE layer: 187,121,664 + router 1,835,008 + bias 256 + 9 experts (8 routed +
    # 1 shared) 9*44,040,192 = 396,361,728 -> 585,318,656; x58 = 33,948,482,048
    # + 1,750,450,176 + 1,853,365,248 = 37,552,297,472 (paper: 37B; see the spec's discrepancy)
    assert r.active_params == 37_552_297_472
    assert r.active_params - r.layer("embed_tokens").count.params == 36_625_618_432
    assert r.params_by_type["expert"] == 58 * (11_274_289_152 + 44_040_192)
    # q_a FLOPs at T = 4096: 2*4096*7168*1536 = 90,194,313,216
    assert r.layer("moe_layers.0.attn.attn.q_a").count.forward_flops == 90_194_313_216
    # scores and values: 2*4096^2*128*(192 + 128) = 1,374,389,534,720
    assert r.layer("moe_layers.0.attn.attn.sdpa").count.forward_flops == 1_374_389_534_720


def test_deepseek_v2_lite():
    r = count("deepseek-v2-lite.yaml")
    # MLA without query compression: q (16*192 = 3072)*2048 = 6,291,456; kv_a 576*2048
    # = 1,179,648; kv_norm 512; kv_b 4096*512 = 2,097,152; o 2048*2048 = 4,194,304 -> 13,763,072
    assert r.layer("moe_layers.0.attn.attn").count.params == 13_763_072
    # dense layer 13,763,072 + 4,096 + 3*2048*10944 = 67,239,936 -> 81,007,104
    # MoE layer 13,767,168 + 64 experts 64*3*2048*1408 = 553,648,128 + 2 shared 17,301,504
    # + router 64*2048 = 131,072 -> 584,847,872; x26 = 15,206,044,672
    # + embed and head 2*102400*2048 = 419,430,400 + norm 2,048 -> 15,706,484,224 (paper 15.7B)
    assert r.params == 15_706_484_224
    # active MoE layer: 13,767,168 + 131,072 + 8 experts (6 routed + 2 shared) 69,206,016
    # = 83,104,256; x26 = 2,160,710,656 + 81,007,104 + 419,432,448 = 2,661,150,208
    assert r.active_params == 2_661_150_208


def test_gshard_600b():
    r = count("gshard-600b.yaml")
    # expert 2*1024*8192 = 16,777,216; 18 MoE layers x 2048 experts -> 618,475,290,624
    assert r.params_by_type["expert"] == 618_475_290_624
    # encoder pair: 2 attention (4*1024*2048 = 8,388,608 + LN 2,048) + FFN 16,777,216 + LN
    # + MoE 2048*16,777,216 + router 1024*2048 + LN = 34,395,398,144; decoder pair adds two
    # cross-attentions: 34,412,179,456; x9 each = 309,558,583,296 + 309,709,615,104;
    # 2 final LN 4,096; tables 64000*1024 + 32000*1024 = 98,304,000 (softmax tied)
    # -> 619,366,506,496 (paper: 600B; see the spec's discrepancy)
    assert r.params == 619_366_506_496
    assert r.layer("encoder.0.moe.moe").count.params == 34_361_835_520
    # active: attention 54*8,388,608 = 452,984,832; FFN 18*16,777,216 = 301,989,888;
    # routers 18*2,097,152 = 37,748,736; norms 188,416; tables 98,304,000;
    # 2 experts per MoE layer 18*2*16,777,216 = 603,979,776 -> 1,495,195,648
    assert r.active_params == 1_495_195_648


def test_switch_base():
    r = count("switch-base.yaml")
    # experts: 12 Switch layers x 128 x 3*768*2048 (GEGLU) = 7,247,757,312
    assert r.params_by_type["expert"] == 7_247_757_312
    # attention 36*4*768^2 = 84,934,656; dense FFN 12*4,718,592 = 56,623,104 + routers
    # 12*768*128 = 1,179,648; norms 24*768 + 36*768 + 2*768 = 47,616; shared tied table
    # 32128*768 = 24,674,304 -> 7,415,216,640 (Table 8: 7410M)
    assert r.params == 7_415_216_640
    assert r.layer("dec_embed").count.params == 0 and r.layer("lm_head").count.params == 0
    # active: 7,415,216,640 - 7,247,757,312 + 12 experts 56,623,104 = 224,082,432
    assert r.active_params == 224_082_432
    # one 512-token input, 114-token target: 142,719,860,736 FLOPs; without the score/value
    # products (12,294,438,912) and the softmax projection 2*114*768*32128 = 5,625,741,312:
    # 124,799,680,512 (Table 9: 124B)
    assert r.forward_flops == 142_719_860_736
    assert r.layer("lm_head").count.forward_flops == 5_625_741_312
    sdpa = sum(row.count.forward_flops for row in r.layers if row.path.endswith(".sdpa"))
    assert sdpa == 12_294_438_912
    assert r.forward_flops - sdpa - 5_625_741_312 == 124_799_680_512


def test_switch_c():
    r = count("switch-c.yaml")
    # experts: 30 Switch layers x 2048 x 2*2080*6144 = 1,570,347,417,600
    assert r.params_by_type["expert"] == 1_570_347_417_600
    # attention 45*4*2080*2048 = 766,771,200; routers 30*2080*2048 = 127,795,200; norms
    # (15*2 + 1 + 15*3 + 1)*2080 = 160,160; table + untied head 2*32128*2080 = 133,652,480
    # -> 1,571,375,796,640 (Table 9: 1571B)
    assert r.params == 1_571_375_796_640
    assert r.layer("lm_head").count.params == 66_826_240
    # active: 1 expert per layer 30*25,559,040 = 766,771,200 replaces the experts
    assert r.active_params == 1_571_375_796_640 - 1_570_347_417_600 + 766_771_200
    assert r.active_params == 1_795_150_240
