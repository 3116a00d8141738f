"""Swin Transformer T/S/B/L (archspecs/swin.yaml) and its two layer kinds (window_attention,
patch_merge): exact counts, the arithmetic in comments.

(The torch cross-check of every variant runs in tests/test_archspecs.py.)
"""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.errors import SpecError

SPEC = Path(__file__).resolve().parents[2] / "archspecs" / "swin.yaml"


def count(variant):
    return analyze(load_spec(SPEC, variant=variant))


def block(c, h):
    # one Swin block of width c, h heads, 7 x 7 windows: norm1 2c; qkv 3c^2 + 3c; proj c^2 + c;
    # bias table (2*7 - 1)^2 h = 169 h; norm2 2c; MLP c*4c + 4c + 4c*c + c = 8c^2 + 5c
    return 12 * c * c + 13 * c + 169 * h


def merge(c):
    # patch merging of a width-c map: LayerNorm(4c) 8c + Linear(4c, 2c) without bias 8c^2
    return 8 * c + 8 * c * c


def test_swin_t_by_hand():
    r = count("Swin-T")
    p = {row.path: row.count.params for row in r.layers}
    # c = 96, heads 3: 12 * 9,216 + 1,248 + 507 = 112,347 per block
    assert block(96, 3) == 112_347 and p["stage1"] == 2 * 112_347
    assert p["merge1"] == merge(96) == 74_496
    assert p["stage2"] == 2 * block(192, 6) == 2 * 445_878
    assert p["merge2"] == merge(192) == 296_448
    # stage 3: 3 pairs of W-MSA / SW-MSA blocks, c = 384, 12 heads: 6 * 1,776,492
    assert p["stage3"] == 6 * block(384, 12) == 10_658_952
    assert p["merge3"] == merge(384) == 1_182_720
    # stage 4 on the 7 x 7 map: one window, the same 13 x 13 table; c = 768, 24 heads
    assert p["stage4"] == 2 * block(768, 24) == 14_183_856
    # patch embedding 96 * 3*4*4 + 96 = 4,704, its LayerNorm 192; final LayerNorm 1,536;
    # head 768 * 1000 + 1000 = 769,000
    assert (p["patch_embed"], p["patch_norm"], p["norm"], p["head"]) == (4_704, 192, 1_536, 769_000)
    assert r.params == (4_704 + 192 + 224_694 + 74_496 + 891_756 + 296_448 + 10_658_952
                        + 1_182_720 + 14_183_856 + 1_536 + 769_000) == 28_288_354
    assert r.layer("stage4").output_shape == (7, 7, 768)


def test_swin_t_macs():
    r = count("Swin-T")
    # per block on n tokens of width c: linear layers 12 n c^2 (qkv 3, proj 1, MLP 8) and
    # attention 2 n M^2 c (scores and values, M^2 = 49): Eq. 2's 4hwC^2 + 2M^2hwC + the MLP
    def blk(n, c):
        return 12 * n * c * c + 2 * n * 49 * c
    # patch merging on the merged map's n tokens: 4c -> 2c, 8 n c^2; patches 3136 * 48 * 96;
    # head 768 * 1000
    macs = (3136 * 48 * 96 + 2 * blk(3136, 96) + 784 * 8 * 96 ** 2 + 2 * blk(784, 192)
            + 196 * 8 * 192 ** 2 + 6 * blk(196, 384) + 49 * 8 * 384 ** 2 + 2 * blk(49, 768)
            + 768 * 1000)
    assert r.macs == macs == 4_490_566_656     # Table 1(a): 4.5G
    assert r.forward_flops == 2 * macs


def test_swin_sizes():
    # Swin-S: Swin-T with 12 more stage-3 blocks (12 * 1,776,492 = 21,317,904)
    assert count("Swin-S").params == 28_288_354 + 12 * 1_776_492 == 49_606_258
    b, l = count("Swin-B"), count("Swin-L")
    # Swin-B, C = 128, heads 4/8/16/32: patches 128 * 48 + 128 + 256; blocks; merges; final
    # LayerNorm 2048; head 1024 * 1000 + 1000
    assert b.params == (6_272 + 256 + 2 * block(128, 4) + merge(128) + 2 * block(256, 8)
                        + merge(256) + 18 * block(512, 16) + merge(512) + 2 * block(1024, 32)
                        + 2_048 + 1_025_000) == 87_768_224
    # Swin-L, C = 192, heads 6/12/24/48
    assert l.params == (9_408 + 384 + 2 * block(192, 6) + merge(192) + 2 * block(384, 12)
                        + merge(384) + 18 * block(768, 24) + merge(768) + 2 * block(1536, 48)
                        + 3_072 + 1_537_000) == 196_532_476
    # Swin-L at 384 with 12 x 12 windows (Table 1(b)'s model): tables of 23^2 = 529 instead of
    # 169 entries per head, 360 * (2*6 + 2*12 + 18*24 + 2*48) = 203,040 more parameters
    big = analyze(load_spec(SPEC, {"image": "384", "window": "12"}, variant="Swin-L"))
    assert big.params == 196_532_476 + 203_040 == 196_735_516


def test_window_attention_windows():
    def one(shape, **kw):
        spec = {"name": "t", "input": {"shape": list(shape)},
                "layers": [{"kind": "window_attention", "heads": 2, **kw}]}
        return analyze(load_spec(spec))
    # 14 x 14 x 8 map, 7 x 7 windows: 4 windows of 49 tokens; n = 196
    r = one((14, 14, 8), window=7)
    # params 4 * 64 + 4 * 8 + 169 * 2 = 626; FLOPs 2 * 196 * 8 * 32 (qkv, proj) + 2 * 2 * 196 * 49 * 8
    assert (r.params, r.forward_flops) == (626, 2 * 196 * 8 * 32 + 4 * 196 * 49 * 8)
    # a map no larger than the window is one window of the whole map (5 x 5 here, 9^2 table)
    assert one((5, 5, 8), window=7).params == 4 * 64 + 4 * 8 + 81 * 2
    with pytest.raises(SpecError, match="window 4 does not divide"):
        one((6, 6, 8), window=4)
    with pytest.raises(SpecError, match=r"\(H, W, C\) map"):
        one((36, 8), window=4)
