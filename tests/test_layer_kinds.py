"""Every layer kind, driven by the registry: a formula, a shape rule, a builder, a README
entry, a hand-computed case, and (with torch) an exact cross-check against the built module.

HAND_CASES holds, per kind, the figures for that kind's EXAMPLE computed by hand, with the
arithmetic in the comment. A new kind without a hand case fails ``test_every_kind_has_a_hand_case``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.layers.registry import LayerSpec, load_all
from estimator.layers.composite import _Composite

KINDS = sorted(load_all())
ROOT = Path(__file__).resolve().parent.parent

# kind: (params, active_params, forward_flops, other_flops, output_shape)
HAND_CASES = {
    # type_embedding of 2 rows on (6, 8): params 2*8 = 16; a gather, 0 FLOPs; other 6*8 adds
    "type_embedding": (16, 16, 0, 48, (6, 8)),
    # linear 16 -> 8 on (4, 16): params 16*8 + 8 = 136; FLOPs 2*4*16*8 = 1024; bias 4*8 = 32
    "linear": (136, 136, 1024, 32, (4, 8)),
    # conv1d 4 -> 8, k 3, pad 1 on (4, 32): L stays 32; params 8*4*3 + 8 = 104;
    # FLOPs 2 * (8*32 outputs) * (4*3 MACs each) = 6144; bias 8*32 = 256
    "conv1d": (104, 104, 6144, 256, (8, 32)),
    # conv2d 4 -> 8, k 3, s 2, p 1, groups 2 on 4x16x16: H = (16+2-3)//2+1 = 8;
    # params 8*(4/2)*9 + 8 = 152; FLOPs 2 * (8*8*8) * (2*9) = 18432; bias 512
    "conv2d": (152, 152, 18432, 512, (8, 8, 8)),
    # conv3d 2 -> 4, k 3 on 2x6x8x8: out 4x4x6x6 = 576 outputs; params 4*2*27 + 4 = 220;
    # FLOPs 2 * 576 * (2*27) = 62208; bias 576
    "conv3d": (220, 220, 62208, 576, (4, 4, 6, 6)),
    # conv_transpose1d 4 -> 2, k 4, s 2 on (4, 8): L = (8-1)*2 + 4 = 18; weight 4x2x4 + 2 bias = 34;
    # FLOPs = 2 * (input positions 8) * C_in 4 * C_out 2 * k 4 = 512; bias 2*18 = 36
    "conv_transpose1d": (34, 34, 512, 36, (2, 18)),
    # conv_transpose2d 8 -> 4, k 4, s 2, p 1 on 8x4x4: H = (4-1)*2 - 2 + 4 = 8;
    # params 8*4*16 + 4 = 516; FLOPs 2 * 16 * 8 * 4 * 16 = 16384; bias 4*64 = 256
    "conv_transpose2d": (516, 516, 16384, 256, (4, 8, 8)),
    # conv_transpose3d 4 -> 2, k 2, s 2 on 4x2x4x4: out 2x4x8x8; params 4*2*8 + 2 = 66;
    # FLOPs 2 * (2*4*4 = 32 inputs) * 4 * 2 * 8 = 4096; bias 2*256 = 512
    "conv_transpose3d": (66, 66, 4096, 512, (2, 4, 8, 8)),
    # maxpool k 3 s 2 on 2x9x9: (9-3)//2+1 = 4; other = 9 compares per output * 32 outputs = 288
    "maxpool": (0, 0, 0, 288, (2, 4, 4)),
    # avgpool k 2 on 2x8x8: 4x4 out; other = 4 adds per output * 32 = 128
    "avgpool": (0, 0, 0, 128, (2, 4, 4)),
    # adaptive_avgpool to 3x3 on 2x9x9: each input element read once: 162
    "adaptive_avgpool": (0, 0, 0, 162, (2, 3, 3)),
    "adaptive_maxpool": (0, 0, 0, 162, (2, 2, 2)),
    # global pools on 4x5x5: 100 elements read once
    "global_avgpool": (0, 0, 0, 100, (4,)),
    "global_maxpool": (0, 0, 0, 100, (4,)),
    # flatten 2x3x3 -> 18; dropout / identity: nothing
    "flatten": (0, 0, 0, 0, (18,)),
    "dropout": (0, 0, 0, 0, (8,)),
    "identity": (0, 0, 0, 0, (8,)),
    # reshape (12,) -> (3, 4): nothing computed
    "reshape": (0, 0, 0, 0, (3, 4)),
    # transpose (4, 6) -> (6, 4): a view, nothing counted
    "transpose": (0, 0, 0, 0, (6, 4)),
    # select the first of 5 positions of (5, 8) -> (8,): an index, nothing counted
    "select": (0, 0, 0, 0, (8,)),
    # activations on 3x4: 1 FLOP per element = 12; softmax 3 per element = 36
    "relu": (0, 0, 0, 12, (3, 4)),
    "relu6": (0, 0, 0, 12, (3, 4)),
    "leaky_relu": (0, 0, 0, 12, (3, 4)),
    "gelu": (0, 0, 0, 12, (3, 4)),
    "silu": (0, 0, 0, 12, (3, 4)),
    "tanh": (0, 0, 0, 12, (3, 4)),
    "sigmoid": (0, 0, 0, 12, (3, 4)),
    "softmax": (0, 0, 0, 36, (3, 4)),
    # layernorm on (4, 8): 2*8 = 16 params; other (5 + 2) * 32 = 224
    "layernorm": (16, 16, 0, 224, (4, 8)),
    # rmsnorm on (4, 8): 8 params (no shift); other (3 + 1) * 32 = 128
    "rmsnorm": (8, 8, 0, 128, (4, 8)),
    # batchnorm on 4x5x5: 2*4 = 8 params; other (5 + 2) * 100 = 700
    "batchnorm": (8, 8, 0, 700, (4, 5, 5)),
    # groupnorm (2 groups) on 4x3x3: 8 params; other (5 + 2) * 36 = 252
    "groupnorm": (8, 8, 0, 252, (4, 3, 3)),
    # lrn on 6x3x3: no params; other 6 * 54 = 324
    "lrn": (0, 0, 0, 324, (6, 3, 3)),
    # embedding 50 x 8 on 6 ids: 400 params, a gather: 0 FLOPs
    "embedding": (400, 400, 0, 0, (6, 8)),
    # embedding bag 50 x 8, a bag of 5 ids summed: 400 params, 0 FLOPs; other 5*8 = 40 adds
    "embedding_bag": (400, 400, 0, 40, (8,)),
    # dot interaction of 3 vectors of 8: Z = T T^T, 2*3*3*8 = 144 FLOPs; out 8 + 3*2/2 = 11
    "dot_interaction": (0, 0, 144, 0, (11,)),
    # learned positions, max_len 10, d 8: 80 params; 6*8 = 48 adds
    "pos_embedding": (80, 80, 0, 48, (6, 8)),
    # attention d 16, h 4, kv 2, e 4, T = S = 6, biases on:
    # q 16*16+16 = 272, k 8*16+8 = 136, v 136, o 16*16+16 = 272 -> 816
    # FLOPs q 2*6*16*16 = 3072, k 2*6*16*8 = 1536, v 1536, o 3072,
    # scores + values 2 * (2*6*6*4*4) = 2304 -> 11520
    # other: biases 6*16 + 6*8 + 6*8 + 6*16 = 288; softmax+scale (3+1)*4*6*6 = 576;
    # rotary 3 * (6*4*4 + 6*2*4) = 432 -> 1296
    "attention": (816, 816, 11520, 1296, (6, 16)),
    # MLA d 16, h 2, q rank 8, kv rank 6, nope 4, rope 2, v 3, T 6 (see tests/catalog/test_moe.py):
    # params 128 + 8 + 96 + 128 + 6 + 84 + 96 = 546; FLOPs 7680; other 192 + 144 + 288 + 108 = 732
    "mla": (546, 546, 7680, 732, (6, 16)),
    # T5 relative bias, 8 buckets x 4 heads = 32 params; a lookup (0 FLOPs) -> (4, 6, 6)
    "relative_bias": (32, 32, 0, 0, (4, 6, 6)),
    # gated MLP (SwiGLU) d 8, f 24, biases: up 8*24+24 = 216, gate 216, down 24*8+8 = 200 -> 632
    # FLOPs 5 tokens * 2 * (3 * 8 * 24) = 5760
    "mlp": (632, 632, 5760, 520, (5, 8)),
    # MoE d 8, 4 experts of f 12 (SwiGLU, 3*8*12 = 288 each), top 2, one shared expert (288):
    # params router 8*4 = 32 + 4*288 + 288 = 1472; active 32 + 2*288 + 288 = 896
    # FLOPs per token 2*32 + 2*2*288 + 2*288 = 1792, x 5 tokens = 8960
    "moe": (1472, 896, 8960, 620, (5, 8)),
    # hierarchical MoE d 8, 2 groups of 3 experts, 1 group and 2 experts kept, hidden 6, noisy
    # gates (m = 2): params primary 2*8*2 = 32 + secondary 2*2*8*3 = 96 + experts 6*2*8*6 = 576
    # = 704; active 32 + 1*2*8*3 = 48 + 1*2*(2*8*6) = 192 -> 272; FLOPs (5 tokens) primary
    # 2*2*5*8*2 = 320 + secondary 2*1*2*5*8*3 = 480 + experts 1*2*2*2*5*8*6 = 1920 = 2720;
    # other softmax 3*1*5 + noise 3*(2 + 3)*5 = 90, 3*1*2*5 = 30, experts 5*2*(6 + 16) = 220 -> 340
    "hierarchical_moe": (704, 272, 2720, 340, (5, 8)),
    # additive attention, queries (3, 8) over a linear 8 -> 6 of the same input (S = 3, d_k 6),
    # 4 units: params linear 8*6 + 6 = 54, W 4*8 = 32, U 4*6 = 24, v 4 -> 114; FLOPs linear
    # 2*3*8*6 = 288, W 2*3*8*4 = 192, U 2*3*6*4 = 144, v 2*3*3*4 = 72, context 2*3*3*6 = 108
    # -> 804; other bias 18 + add and tanh 2*3*3*4 = 72 + softmax 3*9 = 27 -> 117
    "additive_attention": (114, 114, 804, 117, (3, 6)),
    # LSTMP h 8, projection 3, 2 layers, input 6, T 5 (4 gates: 32 rows): l0 32*6 + 32*3 + 2*32
    # + 3*8 = 376, l1 (input 3) 32*3 + 32*3 + 64 + 24 = 280 -> 656; FLOPs 5 * 2*(32*(6+3) + 24)
    # = 3120 + 5 * 2*(32*(3+3) + 24) = 2160 -> 5280; other 2 layers * 5 * (8*7 + 64) = 1200
    "lstmp": (656, 656, 5280, 1200, (5, 3)),
    # highway d 4 on (3, 4): params 2*(4*4 + 4) = 40; FLOPs 2*2*3*4*4 = 192;
    # other 3*4*(2 bias + relu + sigmoid + 4 mix) = 96
    "highway": (40, 40, 192, 96, (3, 4)),
    # RNN h 8, 2 layers, input 6, T 5: l0 8*6 + 8*8 + 2*8 = 128, l1 8*8 + 8*8 + 16 = 144 -> 272
    # FLOPs 5 * 2 * 8 * (6 + 8) + 5 * 2 * 8 * (8 + 8) = 1120 + 1280 = 2400
    "rnn": (272, 272, 2400, 240, (5, 8)),
    # LSTM h 8, 2 layers, bidirectional, input 6, T 5 (4 gates: 32 rows):
    # l0 per direction 32*6 + 32*8 + 2*32 = 512 (x2 = 1024); l1 input 16: 32*16 + 32*8 + 64 = 832
    # (x2 = 1664) -> 2688; FLOPs 2 dirs * 5 * 2*32*(6+8) = 8960 + 2 * 5 * 2*32*(16+8) = 15360 -> 24320
    "lstm": (2688, 2688, 24320, 2400, (5, 16)),
    # GRU h 8, input 6, T 5 (3 gates: 24 rows): 24*6 + 24*8 + 2*24 = 384; FLOPs 5 * 2*24*14 = 3360
    "gru": (384, 384, 3360, 520, (5, 8)),
    # sequential: linear 8 -> 8 then relu, twice: params 2 * 72 = 144; FLOPs 2 * (2*4*8*8) = 1024
    # other 2 * (bias 32 + relu 32) = 128
    "sequential": (144, 144, 1024, 128, (4, 8)),
    # residual on 4x6x6: body conv 4->8 k3 s2 p1 -> 8x3x3: 8*36+8 = 296 params, 2*72*36 = 5184 FLOPs;
    # shortcut conv 1x1 s2 no bias: 32 params, 2*72*4 = 576 FLOPs -> 328, 5760;
    # other: body bias 72 + the add 72 = 144
    "residual": (328, 328, 5760, 144, (8, 3, 3)),
    # parallel concat on 4x5x5: a conv1x1 4->2: 10 params, 2*50*4 = 400 FLOPs;
    # b conv3x3 4->3 p1: 3*36+3 = 111 params, 2*75*36 = 5400 FLOPs -> 121, 5800, 5x5x5;
    # other: biases 50 + 75 = 125
    "parallel": (121, 121, 5800, 125, (5, 5, 5)),
    # squeeze_excite C 8 -> 2 -> 8 (silu) on 8x5x5: params 8*2+2 + 2*8+8 = 42; FLOPs 2*8*2 + 2*2*8 = 64;
    # other: pool 200 + biases 2+8 + act 2 + gate 8 + rescale 200 = 420
    "squeeze_excite": (42, 42, 64, 420, (8, 5, 5)),
    # patch_embed 3 -> 6, patch 4 on 3x8x8: N = 2*2 = 4 patches; params 6*3*16 + 6 = 294;
    # FLOPs 2 * 4 * 6 * 48 = 2304; bias 4*6 = 24
    "patch_embed": (294, 294, 2304, 24, (4, 6)),
    # class_token on (4, 6): one learned token, 6 params; (5, 6); a concat, no FLOPs
    "class_token": (6, 6, 0, 0, (5, 6)),
    # select_token -1 on (4, 6): a gather, (6,)
    "select_token": (0, 0, 0, 0, (6,)),
    # contrastive_logit: linears a, b 8 -> 4 (36 params, 2*8*4 = 64 FLOPs, 4 bias adds each)
    # + logit_scale 1 = 73 params; FLOPs 64 + 64 + dot 2*4 = 136; other 4 + 4 + norms 6*4 + 2 = 34
    "contrastive_logit": (73, 73, 136, 34, (1,)),
    # table_conv2d k 3 on 3x6x6, table [[0,1],[1,2],[0,1,2]]: 7 map connections; out 3x4x4;
    # params 7*9 + 3 = 66; FLOPs 2 * 16 positions * 7 * 9 = 2016; bias 3*16 = 48
    "table_conv2d": (66, 66, 2016, 48, (3, 4, 4)),
    # subsample 2x2 on 3x4x4: coefficient + bias per map = 6; other 12 outputs * (3 adds + 2) = 60
    "subsample": (6, 6, 0, 60, (3, 2, 2)),
    # scaled_tanh on 3x4: 3 per element = 36
    "scaled_tanh": (0, 0, 0, 36, (3, 4)),
    # rbf 6 -> 4 with fixed centres (a buffer): no params; other 3 * 4 * 6 = 72
    "rbf": (0, 0, 0, 72, (4,)),
    # upsample x2 on 3x4x5 -> 3x8x10: copies only, nothing counted
    "upsample": (0, 0, 0, 0, (3, 8, 10)),
    # untied_bias on 1x3x3: one bias per element, 9 params; 9 adds
    "untied_bias": (9, 9, 0, 9, (1, 3, 3)),
    # cond_bias: the vector t = linear(flatten(4x3x3 = 36) -> 5): 36*5 + 5 = 185 params, 2*36*5 = 360
    # FLOPs, 5 bias adds; cond_bias 5 -> 4 channels: 5*4 + 4 = 24 params, 2*5*4 = 40 FLOPs;
    # other silu 5 + bias 4 + the broadcast add 36 -> 209, 400, 5 + 45 = 50
    "cond_bias": (209, 209, 400, 50, (4, 3, 3)),
    # AlphaFold 2 (estimator/layers/alphafold.py). gated_attention on 4x4x8 after a LayerNorm
    # (16 params, 7 * 128 = 896 other), h 2, e 3 (he 6), rows (B 4, T 4, n 16), bias from the
    # LN output (c_b 8): q, k, v 3*6*8 = 144, gate 48 + 6, out 6*8 + 8, bias 2*8 -> 270 + 16;
    # FLOPs q/k/v 3*2*16*8*6 = 4608 + gate 1536 + scores/values 2 * 2*4*2*16*3 = 1536 + out
    # 1536 + bias 2*16*8*2 = 512 = 9728; other softmax/scale 4*128 + gating 2*16*6 + biases 96 + 128
    # + bias add 128 = 1056, + 896
    "gated_attention": (286, 286, 9728, 1952, (4, 4, 8)),
    # outer_product_mean s 3, r 4, c_m 6, c 2, c_z 5: a, b 2*(12 + 2), out 20 + 5 -> 53;
    # FLOPs 2*2*3*4*6*2 = 576 + 2*3*16*4 = 384 + 2*16*4*5 = 640; other 64 + 48 + 80
    "outer_product_mean": (53, 53, 1600, 192, (4, 4, 5)),
    # triangle_multiplication r 4, c_z 6, c 3: 4*(18 + 3) + g 42 + ln 6 + out 24 = 156;
    # FLOPs 4*2*16*6*3 = 2304 + 2*16*36 = 1152 + 2*64*3 = 384 + 2*16*3*6 = 576 = 4416;
    # other 144 + 192 + 7*48 + 4*48 + 2*96 = 1056
    "triangle_multiplication": (156, 156, 4416, 1056, (4, 4, 6)),
    # invariant_point_attention r 4, c_s 8, pair from outer_sum (2*(48 + 6) = 108 params, 768
    # FLOPs, 144 other) c_z 6, h 2, c 3, P_q 2, P_v 2 (concat 2*(6 + 3 + 8) = 34): q, k, v 144,
    # points 3 * 12*8 = 288, pair bias 12, head weights 2, out 8*34 + 8 = 280 -> 726 + 108;
    # FLOPs 2*4*8*2*(9 + 18) = 3456 + 2*16*6*2 = 384 + scalar scores/values 384 + points 384 +
    # pair 384 + out 2*4*34*8 = 2176 = 7168 + 768; other 576 + 160 + 144 + 32 = 912 + 144
    "invariant_point_attention": (834, 834, 7936, 1056, (4, 8)),
    # pointwise_attention: row 0 of a 2x2x4 input (P 2 positions, c 4) over the input as K 2
    # entries per position, h 2, e 2: q, k, v, o 4*16 + 4 = 68; FLOPs q 2*2*4*4 = 64 + k, v
    # 2*2*2*2*4*4 = 256 + scores, values 2*2*2*2*4 = 64 + out 64 = 448; other 4*2*2*2 + 2*4
    "pointwise_attention": (68, 68, 448, 40, (2, 4)),
    # outer_sum (4, 3) -> (4, 4, 5): 2*(15 + 5) = 40; FLOPs 2*2*4*3*5 = 240; other 80 + 40
    "outer_sum": (40, 40, 240, 120, (4, 4, 5)),
    # broadcast_add of row 0 (4, 5) over 3x4x5: 60 adds
    "broadcast_add": (0, 0, 0, 60, (3, 4, 5)),
    # layer_scale on (3, 4): one scale per channel, 4 params; 12 multiplies
    "layer_scale": (4, 4, 0, 12, (3, 4)),
    # crop 2x6x7 to its centre 4 x 3: a view, nothing counted
    "crop": (0, 0, 0, 0, (2, 4, 3)),
    # window_attention on a 4 x 4 x 8 map, 2 heads, 2 x 2 windows, shifted: n = 16, N = 4;
    # qkv 3*8*8 + 24 = 216, proj 64 + 8 = 72, bias table (2*2 - 1)^2 * 2 = 18 -> 306;
    # FLOPs qkv 2*16*8*24 = 6,144 + scores and values 2*2*16*4*8 = 2,048 + proj 2*16*8*8 = 2,048;
    # other: qkv bias 384 + 128 logits x (softmax 3 + scale 1 + bias 1 + mask 1) 768 + proj bias 128
    "window_attention": (306, 306, 10_240, 1_280, (4, 4, 8)),
    # patch_merge 4 x 6 x 3 -> 2 x 3 x 12: a gather, nothing counted
    "patch_merge": (0, 0, 0, 0, (2, 3, 12)),
    # vitdet_attention on a 5 x 5 x 8 map, 2 heads, 3 x 3 windows: padded to 6 x 6, n = 36,
    # N = 9, e = 4; qkv 192 + 24, proj 64 + 8, tables 2 * (2*3 - 1) * 4 = 40 -> 328;
    # FLOPs qkv 2*36*8*24 = 13,824 + scores and values 4*36*9*8 = 10,368 + relative terms
    # 2*36*(3 + 3)*8 = 3,456 + proj 2*36*8*8 = 4,608; other: qkv bias 864 + proj bias 288 +
    # 648 logits x (softmax 3 + scale 1 + two relative adds 2) 3,888
    "vitdet_attention": (328, 328, 32_256, 5_040, (5, 5, 8)),
}


def _example_spec(kind: str) -> dict:
    ex = load_all()[kind].EXAMPLE
    return {"name": kind, "input": ex["input"], "layers": [ex["layer"]]}


def test_every_kind_has_a_hand_case():
    assert sorted(HAND_CASES) == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_kind_contract(kind):
    cls = load_all()[kind]
    assert cls.EXAMPLE, f"{kind} has no EXAMPLE"
    assert (cls.__doc__ or "").strip(), f"{kind} has no docstring"
    for method in ("output_shape", "formula", "build"):
        if cls.composite:
            continue  # the walker sums a composite's children; graphs.torch_build assembles it
        assert getattr(cls, method) is not getattr(LayerSpec, method), f"{kind} lacks {method}"
    if cls.composite:  # its own part: the shape rule and the torch join of its branches
        assert cls.combine is not _Composite.combine and cls.join_torch is not _Composite.join_torch


@pytest.mark.parametrize("kind", KINDS)
def test_hand_case(kind):
    r = analyze(load_spec(_example_spec(kind)))
    assert (r.params, r.active_params, r.forward_flops, r.other_flops, r.output_shape) == HAND_CASES[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_reference_documents_kind(kind):
    readme = (ROOT / "docs" / "spec-language.md").read_text()
    assert f"#### `{kind}`" in readme, f"docs/spec-language.md has no entry for {kind}"
    for key in load_all()[kind].model_fields:
        if key in LayerSpec.model_fields:
            continue
        alias = load_all()[kind].model_fields[key].alias or key
        assert f"`{alias}`" in readme.split(f"#### `{kind}`")[1].split("####")[0], \
            f"docs/spec-language.md entry for {kind} does not document key {alias}"


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
def test_kind_matches_torch(kind):
    """On the meta device the built module has exactly the analytic tensors (same names, same
    sizes) and the analytic forward FLOPs by PyTorch's dispatch-level counter; on the CPU it
    runs on real numbers and gives the declared output shape."""
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_module, example_inputs
    from torchcheck import assert_spec_matches_torch

    spec = load_spec(_example_spec(kind))
    r = analyze(spec)
    assert_spec_matches_torch(spec, r)

    cpu = build_module(spec, "cpu")
    with torch.no_grad():
        y = cpu(*example_inputs(spec, "cpu"))
    assert tuple(y.shape[1:]) == r.output_shape
    assert torch.isfinite(y).all()


def test_spec_reference_is_generated_from_the_registry():
    from estimator.layers.registry import describe_all
    from estimator.report.text import render_kinds_markdown

    readme = (ROOT / "docs" / "spec-language.md").read_text()
    section = readme.split("<!-- kinds:start -->\n")[1].split("<!-- kinds:end -->")[0]
    assert section == render_kinds_markdown(describe_all()), \
        "docs/spec-language.md reference is stale: regenerate it with `paramcount kinds --markdown`"


@pytest.mark.torch
@pytest.mark.parametrize("kind", [k for k in KINDS if load_all()[k].composite])
def test_composite_build_on_its_own(kind):
    """A composite built on its own (outside a spec, by ``build_layers``) gives a module with
    its analytic parameters that runs on its example input."""
    torch = pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_layers

    spec = load_spec(_example_spec(kind))
    r = analyze(spec)
    x = next(iter(spec.inputs.values())).shape
    module = build_layers(spec.layers[:1], x)
    assert sum(p.numel() for p in module.parameters()) == r.params
    with torch.no_grad():
        y = module(torch.randn(1, *x))
    assert tuple(y.shape[1:]) == r.output_shape


def test_room_map_is_read_from_the_rooms():
    """`rooms()` (read from the sources, no import) names the module that registers each
    kind, so a spec imports only the rooms it uses."""
    from estimator.layers.registry import rooms

    assert {k: cls.__module__.rsplit(".", 1)[1] for k, cls in load_all().items()} == rooms()


def test_a_spec_imports_only_the_rooms_it_uses():
    import ast
    import subprocess
    import sys

    code = ("import sys; from estimator.analytic import analyze, load_spec; "
            "from estimator.layers.registry import REGISTRY, rooms; "
            "analyze(load_spec('archspecs/alexnet.yaml')); "
            "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('estimator.layers.'))); "
            "print(sorted(REGISTRY)); print(rooms.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.splitlines()
    # AlexNet: conv2d, relu, lrn, maxpool, flatten, dropout, linear, a room each, with the
    # family files of three of them (conv: _Conv, activation: _Act, pooling: _Window), the
    # registry and the elementwise cost constants the rooms share; no other kind's room
    assert ast.literal_eval(out[0]) == ["activation", "conv", "conv2d", "dropout", "elementwise",
                                        "flatten", "linear", "lrn", "maxpool", "pooling",
                                        "registry", "relu"]
    # so pydantic built the classes of these seven kinds only (of 76)
    assert ast.literal_eval(out[1]) == ["conv2d", "dropout", "flatten", "linear", "lrn",
                                        "maxpool", "relu"]
    # each in a room of its own name: found without reading every room's source (rooms())
    assert out[2] == "0"


def test_a_kind_not_named_like_its_room_is_found_through_the_room_map():
    # 'residual' is in composite.py; 'norm.py' and 'registry.py' hold no kind of their name
    from estimator.layers.registry import kind_class

    assert kind_class("residual").__module__ == "estimator.layers.composite"
    assert kind_class("norm") is None and kind_class("registry") is None
    assert kind_class("_Conv") is None and kind_class("../conv") is None
