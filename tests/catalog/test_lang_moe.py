"""Catalog specs of mixture-of-experts language models (issue 20): total and active parameters
exact, with the arithmetic, for DBRX, Grok-1 and Phi-3.5-MoE."""
from __future__ import annotations

from pathlib import Path

from estimator.analytic import analyze, compare_published, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name):
    return analyze(load_spec(ARCH / name))


def published(name):
    return {row["key"]: row for row in compare_published(count(name))}


def test_dbrx():
    r = count("dbrx.yaml")
    d = 6144
    attn = 2 * d * d + 2 * d * 1024          # q, o and 8 key/value heads of 128: 88,080,384
    expert = 3 * d * 10752                   # one SwiGLU expert: 198,180,864
    shared = attn + 2 * d + d * 16           # + two bias-free LayerNorm scales + router
    assert r.layer("blocks.0").count.params == shared + 16 * expert == 3_259_084_800
    tables = 2 * 100352 * d                  # untied input and output: 1,233,125,376
    assert r.params == 131_596_523_520 == 40 * (shared + 16 * expert) + tables + d
    # active: 4 of 16 experts per token
    assert r.active_params == 36_469_708_800 == 40 * (shared + 4 * expert) + tables + d
    rows = published("dbrx.yaml")
    assert rows["params"]["published"] == 132e9 and rows["active_params"]["published"] == 36e9
    assert 1.01 < rows["active_params"]["ratio"] < 1.014   # explained in the spec
    assert "36,469,708,800" in load_spec(ARCH / "dbrx.yaml").provenance["discrepancy"]["active_params"]


def test_grok_1():
    r = count("grok-1.yaml")
    d = 6144
    ffn = 8 * d * 2 // 3                     # model.py's ffn_size: int(8 x 6144) x 2 // 3 = 32,768
    assert ffn == 32768
    attn = 2 * d * d + 2 * d * 1024          # 48 query heads, 8 key/value heads of 128
    shared = attn + d * 8 + 4 * d            # router + four RMSNorms
    expert = 3 * d * ffn                     # 603,979,776
    assert r.layer("layers.0").count.params == shared + 8 * expert == 4_919_992_320
    # 64 layers + one 131,072 x 6,144 table shared with the output + final norm
    assert r.params == 315_684_820_992 == 64 * (shared + 8 * expert) + 131072 * d + d
    assert r.active_params == 83_756_587_008 == 64 * (shared + 2 * expert) + 131072 * d + d
    assert r.layer("lm_head").count.params == 0   # tied
    assert round(published("grok-1.yaml")["params"]["ratio"], 4) == 1.0054


def test_phi_3_5_moe():
    r = count("phi-3-5-moe.yaml")
    d = 4096
    # attention with biases: q, o d x d + d; k, v d x 1,024 + 1,024
    attn = 2 * (d * d + d) + 2 * (d * 1024 + 1024)
    shared = attn + 2 * 2 * d + d * 16       # two LayerNorms (scale and shift), router
    expert = 3 * d * 6400                    # 78,643,200
    tables = 32064 * d + (32064 * d + 32064)  # input table; output projection with its bias
    assert r.params == 41_873_153_344 == 32 * (shared + 16 * expert) + tables + 2 * d
    assert r.active_params == 6_640_999_744 == 32 * (shared + 2 * expert) + tables + 2 * d
    # forward FLOPs visit 2 of 16 experts: per token 2 x active weights outside the input
    # table, plus the score and value products 4 x 32 x T x 4,096 at T = 4,096
    t = 4096
    assert r.forward_flops == 62_115_964_518_400 == \
        t * (2 * (r.active_params - 32064 * d - 32 * 4 * d - 2 * d - 32064 - 32 * (2 * d + 2 * 1024))
             + 4 * 32 * t * d)
