"""wav2vec 2.0 BASE and LARGE (archspecs/wav2vec2-base.yaml, wav2vec2-large.yaml): exact counts
of the pre-training models, the arithmetic in comments.

(The torch cross-check of both specs runs in tests/test_archspecs.py.)
"""
from __future__ import annotations

from pathlib import Path

from estimator.analytic import analyze, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name):
    r = analyze(load_spec(ARCH / name))
    return r, {row.path: row for row in r.layers}


def test_wav2vec2_base():
    r, rows = count("wav2vec2-base.yaml")
    # feature encoder without biases: 512 * 10 + GroupNorm 1,024 + 4 * 512*512*3 + 2 * 512*512*2
    assert rows["feature_extractor"].count.params == 5_120 + 1_024 + 3_145_728 + 1_048_576 == 4_200_448
    # 250,000 samples: 49,999 -> 24,999 -> 12,499 -> 6,249 -> 3,124 -> 1,562 -> 781 frames
    assert rows["feature_extractor"].output_shape == (512, 781)
    # positional convolution, 16 groups: 768 * 48 * 128 + 768 bias
    assert rows["pos_conv"].count.params == 4_718_592 + 768 == 4_719_360
    # a block: attention 4 * (768^2 + 768) = 2,362,368; FFN 2 * 768 * 3072 + 3072 + 768 =
    # 4,722,432; two LayerNorms 3,072 -> 7,087,872; 12 blocks
    assert rows["encoder"].count.params == 12 * 7_087_872 == 85_054_464
    # quantizer: weight_proj 512 * 640 + 640; codebook 640 * 128; project_q 256 * 256 + 256
    assert rows["quantizer"].count.params == 328_320 + 81_920 + 65_792 == 476_032
    # + LayerNorm(512) 1,024, post_extract_proj 512 * 768 + 768 = 393,984, encoder LayerNorm
    # 1,536, final_proj 768 * 256 + 256 = 196,864
    assert r.params == (4_200_448 + 1_024 + 393_984 + 4_719_360 + 1_536 + 85_054_464
                        + 196_864 + 476_032) == 95_043_712
    # fairseq's count adds weight_g (128) and the mask embedding (768): 95,044,608 (Table 1: 95m)
    assert r.params + 128 + 768 == 95_044_608


def test_wav2vec2_large():
    r, rows = count("wav2vec2-large.yaml")
    # each convolution with a bias and a LayerNorm (1,024): 5,120 + 512 + 1,024;
    # 4 * (786,432 + 512 + 1,024); 2 * (524,288 + 512 + 1,024)
    assert rows["feature_extractor"].count.params == 6_656 + 4 * 787_968 + 2 * 525_824 == 4_210_176
    # 320,000 samples -> 999 frames
    assert rows["feature_extractor"].output_shape == (512, 999)
    # blocks of width 1,024, FFN 4,096: 4 * (1024^2 + 1024) + 2 * 1024 * 4096 + 4096 + 1024 +
    # 2 * 2,048 = 12,596,224; 24 blocks
    assert rows["encoder"].count.params == 24 * 12_596_224 == 302_309_376
    # positional convolution 1024 * 64 * 128 + 1024; quantizer 328,320 + 640 * 384 + 768^2 + 768
    assert rows["pos_conv"].count.params == 8_389_632
    assert rows["quantizer"].count.params == 328_320 + 245_760 + 590_592 == 1_164_672
    # + LayerNorm(512) 1,024, post_extract_proj 525,312, encoder LayerNorm 2,048, final_proj
    # 1024 * 768 + 768 = 787,200
    assert r.params == (4_210_176 + 1_024 + 525_312 + 8_389_632 + 302_309_376 + 2_048
                        + 787_200 + 1_164_672) == 317_389_440
    # with weight_g (128) and the mask embedding (1,024): fairseq's 317,390,592 (Table 1: 317m)
    assert r.params + 128 + 1_024 == 317_390_592
