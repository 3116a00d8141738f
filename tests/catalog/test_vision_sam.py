"""Segment Anything with its ViT-H image encoder (archspecs/sam-vit-h.yaml) and the
vitdet_attention kind: exact counts, the arithmetic in comments.

(The torch cross-check of the spec runs in tests/test_archspecs.py.)
"""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec

SPEC = Path(__file__).resolve().parents[2] / "archspecs" / "sam-vit-h.yaml"


@pytest.fixture(scope="module")
def sam():
    r = analyze(load_spec(SPEC))
    return r, {row.path: row for row in r.layers}


def test_image_encoder(sam):
    r, rows = sam
    p = {k: v.count.params for k, v in rows.items()}
    # a block of width 1,280 (head width 80): 12 d^2 + 13 d = 19,677,440, plus the relative
    # tables 2 * (2S - 1) * 80: S = 14 in windows (4,320), S = 64 in global blocks (20,320)
    assert p["blocks.0.windowed.0"] == 19_677_440 + 4_320
    assert p["blocks.0.global"] == 19_677_440 + 20_320
    # 4 x (7 windowed + 1 global) blocks
    assert p["blocks"] == 4 * (7 * 19_681_760 + 19_697_760) == 629_880_320
    # patches 1280 * 3*16*16 + 1280; positions 64 * 64 * 1280; neck 1280 * 256 + 512 +
    # 256 * 256 * 9 + 512
    assert (p["patch_embed"], p["pos_embed"]) == (984_320, 5_242_880)
    assert p["neck_conv1"] + p["neck_norm1"] + p["neck_conv2"] + p["neck_norm2"] == 918_528
    encoder = 984_320 + 5_242_880 + 629_880_320 + 918_528
    assert encoder == 637_026_048
    # windowed blocks pad 64 x 64 to 70 x 70: qkv on 4,900 tokens, 2 * 4900 * 1280 * 3840
    attn = rows["blocks.0.windowed.0.attn.attn"].count
    assert attn.forward_flops == (2 * 4900 * 1280 * 3840 + 4 * 4900 * 196 * 1280
                                  + 2 * 4900 * 28 * 1280 + 2 * 4900 * 1280 * 1280)
    # the global blocks: 4,096 tokens, each query against all 4,096 keys, 64 + 64 offsets
    g = rows["blocks.0.global.attn.attn"].count
    assert g.forward_flops == (2 * 4096 * 1280 * 3840 + 4 * 4096 * 4096 * 1280
                               + 2 * 4096 * 128 * 1280 + 2 * 4096 * 1280 * 1280)


def test_prompt_encoder_and_decoder(sam):
    r, rows = sam
    p = {k: v.count.params for k, v in rows.items()}
    # sparse: 4 point embeddings + the padding point, 5 x 256
    assert p["sparse"] == 1_280
    # mask downscaling: 1*4*4 + 4, LN 8, 4*16*4 + 16, LN 32, 16*256 + 256
    assert p["mask_downscaling"] == 20 + 8 + 272 + 32 + 4_352 == 4_684
    # a two-way block: self-attention 4 * (256^2 + 256) = 263,168; each cross-attention at 128
    # channels 3 * (256*128 + 128) + 128*256 + 256 = 131,712; MLP 2 * 256 * 2048 + 2048 + 256
    # = 1,050,880; four LayerNorms 2,048
    assert p["block0"] == p["block1"] == 263_168 + 2 * 131_712 + 1_050_880 + 2_048 == 1_579_520
    # upscaling: 256*64*4 + 64, LN 128, 64*32*4 + 32; 4 hypernetwork MLPs 256-256-256-32 and the
    # IoU MLP 256-256-256-4
    assert p["output_upscaling"] == 65_600 + 128 + 8_224 == 73_952
    assert p["heads"] == 4 * (2 * 65_792 + 8_224) + 2 * 65_792 + 1_028 == 691_844
    decoder = 1_280 + 2 * 1_579_520 + 131_712 + 512 + 73_952 + 691_844
    assert decoder == 4_058_340                     # output tokens 5 x 256 = 1,280 included
    # everything: 637,026,048 + 5,964 + 4,058,340; the code's no_mask_embed (256) is not counted
    assert r.params == 637_026_048 + 1_280 + 4_684 + 4_058_340 == 641_090_352


def test_vitdet_global_and_window_sizes():
    def one(shape, window):
        spec = {"name": "t", "input": {"shape": list(shape)},
                "layers": [{"kind": "vitdet_attention", "heads": 2, "window": window}]}
        return analyze(load_spec(spec))
    # global on 4 x 6 x 8: tables (2*4 - 1) * 4 + (2*6 - 1) * 4 = 72; qkv 216, proj 72
    g = one((4, 6, 8), 0)
    assert g.params == 216 + 72 + 72
    # n = N = 24 tokens: 2*24*8*24 + 4*24*24*8 + 2*24*(4 + 6)*8 + 2*24*8*8
    assert g.forward_flops == 9_216 + 18_432 + 3_840 + 3_072
    # windows of 4 on the same map pad it to 4 x 8: n = 32, N = 16, tables 2 * 7 * 4 = 56
    w = one((4, 6, 8), 4)
    assert w.params == 216 + 72 + 56
    # qkv 2*32*8*24, scores and values 4*32*16*8, relative terms 2*32*(4 + 4)*8, proj 2*32*8*8
    assert w.forward_flops == 2 * 32 * 8 * 24 + 4 * 32 * 16 * 8 + 2 * 32 * (4 + 4) * 8 + 2 * 32 * 8 * 8
