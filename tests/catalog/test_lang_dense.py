"""Catalog specs of dense language models (issue 20): exact counts, each written twice, as the
literal the spec must give and as the arithmetic that gives it.

The generic checks (torch build on meta, reduced variant, citation) run for every spec in
tests/test_archspecs.py and tests/test_catalog.py; here each spec's own figures are asserted.
"""
from __future__ import annotations

from pathlib import Path

from estimator.analytic import analyze, compare_published, load_spec
from estimator.units import parse_number

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name, variant=None):
    return analyze(load_spec(ARCH / name, variant=variant))


def published(name):
    return {row["key"]: row for row in compare_published(count(name))}


def gpt_layer(d, a=None):
    """One GPT-2-style block: q, k, v, o (d x a each, biases a, a, a, d), feed-forward
    d x 4d x d (biases 4d, d), two LayerNorms (2 x 2d)."""
    a = a or d
    return 4 * d * a + 3 * a + d + 8 * d * d + 5 * d + 4 * d


def test_mt_nlg_530b():
    r = count("mt-nlg-530b.yaml")
    # 105 x (12 x 20480^2 + 13 x 20480) = 528,510,259,200; tokens 50257 x 20480 = 1,029,263,360;
    # positions 2048 x 20480 = 41,943,040; ln_f 40,960 (Smith et al.: 530B)
    assert r.params == 529_581_506_560 == 105 * gpt_layer(20480) + 50257 * 20480 \
        + 2048 * 20480 + 2 * 20480
    # T = 2048: per layer 2T x 12 d^2 (matrices) + 4 T^2 d (scores, values); lm_head 2 T d V
    t, d = 2048, 20480
    assert r.forward_flops == 2_204_957_105_192_960 == \
        105 * (2 * t * 12 * d * d + 4 * t * t * d) + 2 * t * d * 50257
    assert round(published("mt-nlg-530b.yaml")["params"]["ratio"], 4) == 0.9992


def test_nemotron_4_340b():
    r = count("nemotron-4-340b.yaml")
    d, kv = 18432, 8 * 192
    # per layer: q, o 2 d^2 = 679,477,248; k, v 2 d x 1,536 = 56,623,104; squared-ReLU MLP
    # 2 x d x 73,728 = 2,717,908,992; two LayerNorms 4d = 73,728 -> 3,454,083,072 (x96)
    layer = 2 * d * d + 2 * d * kv + 2 * d * 73728 + 4 * d
    assert r.layer("layers.0").count.params == layer == 3_454_083_072
    # the report's 331.6B non-embedding: 96 layers + final LayerNorm
    assert r.non_embedding_params == 96 * layer + 2 * d == 331_592_011_776
    # its 9.4B embedding: two untied 256,000 x 18,432 tables
    assert r.embedding_params == 2 * 256000 * d == 9_437_184_000
    assert r.params == 341_029_195_776


def test_yi_34b():
    r = count("yi-34b.yaml")
    d = 7168
    # q, o 2 d^2; k, v 2 d x (8 x 128); SwiGLU 3 d x 20,480; two RMSNorms 2d -> 557,856,768
    layer = 2 * d * d + 2 * d * 1024 + 3 * d * 20480 + 2 * d
    assert layer == 557_856_768
    assert r.params == 34_388_917_248 == 60 * layer + 2 * 64000 * d + d
    assert parse_number(load_spec(ARCH / "yi-34b.yaml").provenance["training"]["tokens"]) == 3.1e12


def test_lamda_137b():
    r = count("lamda-137b.yaml")
    d, hd, f = 8192, 128 * 128, 65536
    # attention 4 x d x 16,384 = 536,870,912; gated-GELU 3 x d x 65,536 = 1,610,612,736;
    # two scales 2d -> 2,147,500,032 per layer
    layer = 4 * d * hd + 3 * d * f + 2 * d
    assert r.layer("blocks.0").count.params == layer == 2_147_500_032
    # 64 layers + the tied 32,000 x 8,192 table + one 32 x 128 bias table + final scale
    assert r.params == 137_702_158_336 == 64 * layer + 32000 * d + 32 * 128 + d
    # the paper's "137B non-embedding parameters"
    assert r.params - 32000 * d == 137_440_014_336
    # the published compute is LaMDA's own hardware figure: 0.565 x 123e12 x 1024 x 57.7 days
    pub = published("lamda-137b.yaml")["training_compute"]["published"]
    assert pub == 3.55e23
    assert abs(0.565 * 123e12 * 1024 * 57.7 * 86400 / pub - 1) < 0.005


def test_galactica_120b():
    r = count("galactica-120b.yaml")
    d = 10240
    # no biases: per layer 12 d^2 + two LayerNorm scales 2d
    assert r.params == 121_330_903_040 == 96 * (12 * d * d + 2 * d) + 50000 * d + 2048 * d + d
    assert load_spec(ARCH / "galactica-120b.yaml").provenance["discrepancy"]["params"]


def test_palm_8b_and_62b():
    # PaLM block: q h x 256 x d, k and v one head d x 256 each, o d x h x 256, SwiGLU 3 x d x 4d,
    # one LayerNorm scale; shared 256,000 x d embedding; final scale
    def palm(d, layers, heads):
        return layers * (2 * d * heads * 256 + 2 * d * 256 + 12 * d * d + d) + 256000 * d + d

    r8, r62 = count("palm-8b.yaml"), count("palm-62b.yaml")
    assert r8.params == 8_632_012_800 == palm(4096, 32, 16)     # Table 1: 8.63B
    assert r62.params == 62_495_662_080 == palm(8192, 64, 32)   # Table 1: 62.50B
    # forward at T = 2048: 2T per weight outside the embedding lookup (the tied output counts
    # the table once more) + 4 L H Q T per token (scores and values, H heads of Q = 256)
    t = 2048
    assert r8.forward_flops == 37_555_194_036_224 == \
        2 * t * (r8.params - 32 * 4096 - 4096) + 4 * 32 * 16 * 256 * t * t


def test_instructgpt_sizes_are_gpt3s():
    r13 = count("instructgpt-1.3b.yaml")
    # GPT-3 XL: 24 layers of width 2,048 (attention 2,048 wide), 2,048 positions
    assert r13.params == 1_315_723_264 == 24 * gpt_layer(2048) + 50257 * 2048 + 2048 * 2048 \
        + 2 * 2048
    # GPT-3 6.7B for the paper's "6B", and GPT-3 175B
    assert count("instructgpt-6b.yaml").params == 6_658_404_352 == \
        32 * gpt_layer(4096) + 50257 * 4096 + 2048 * 4096 + 2 * 4096
    assert count("instructgpt-175b.yaml").params == 174_604_259_328


def test_codex_12b_is_gpt3_13b():
    r = count("codex-12b.yaml")
    d, a = 5140, 40 * 128
    # GPT-3 13B: attention 5,120 wide inside d = 5,140
    assert r.layer("h.0").count.params == gpt_layer(d, a) == 316_690_760
    assert r.params == 12_936_488_380 == 40 * gpt_layer(d, a) + 50257 * d + 2048 * d + 2 * d
    # the paper's '12B' is the non-embedding count, Kaplan's 12 n d^2 (here 4 d a + 8 d^2)
    assert 40 * (4 * d * a + 8 * d * d) == 12_664_960_000
    assert r.non_embedding_params == 12_667_640_680


def test_xlnet_large():
    r = count("xlnet-large.yaml")
    d = 1024
    # per layer: q, k, v, o and the position projection W_kR 5 d^2, u and v 2 x 16 x 64,
    # feed-forward 2 x d x 4,096 + 4,096 + d, two LayerNorms 4d
    layer = 5 * d * d + 2 * 1024 + 2 * d * 4096 + 4096 + d + 4 * d
    assert layer == 13_642_752
    assert r.params == 360_194_048 == 24 * layer + 32000 * d
    # transformers' XLNetModel for xlnet-large-cased: + segment encodings 24 x 3 x 16 x 64 and
    # the mask embedding d
    assert r.params + 24 * 3 * 1024 + d == 360_268_800
    spec = load_spec(ARCH / "xlnet-large.yaml")
    assert not spec.published and "no parameter count" in spec.provenance["unpublished"]
    assert spec.provenance["training"]["tokens"] == 500_000 * 8192 * 512
