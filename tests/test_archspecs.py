"""Every archspec reproduces its figures exactly, and its PyTorch build agrees exactly.

The arithmetic behind each figure is in the comment above its assertion.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from catalog_entries import CATALOG, entry_id, load_entry
from estimator.analytic import analyze, compare_published, load_spec

ARCH = Path(__file__).resolve().parent.parent / "archspecs"


def count(name, **kw):
    return analyze(load_spec(ARCH / name), **kw)


def test_alexnet():
    r = count("alexnet.yaml")
    # conv1 96*3*11*11 + 96 = 34,944; conv2 (groups 2) 256*48*5*5 + 256 = 307,456;
    # conv3 384*256*9 + 384 = 885,120; conv4 (groups 2) 384*192*9 + 384 = 663,936;
    # conv5 (groups 2) 256*192*9 + 256 = 442,624; fc6 9216*4096 + 4096 = 37,752,832;
    # fc7 4096*4096 + 4096 = 16,781,312; fc8 4096*1000 + 1000 = 4,097,000 -> 60,965,224
    assert r.params == 60_965_224
    assert r.layer("conv2").count.params == 307_456
    assert r.layer("conv4").count.params == 663_936
    # MACs: conv1 55*55*96*363 = 105,415,200; conv2 27*27*256*1200 = 223,948,800;
    # conv3 13*13*384*2304 = 149,520,384; conv4 13*13*384*1728 = 112,140,288;
    # conv5 13*13*256*1728 = 74,760,192; fc 9216*4096 + 4096*4096 + 4096*1000 = 58,621,952
    # -> 724,406,816 MACs = 1,448,813,632 FLOPs
    assert r.macs == 724_406_816
    assert r.forward_flops == 1_448_813_632
    assert r.layer("conv1").output_shape == (96, 55, 55)
    assert r.output_shape == (1000,)
    assert r.params_by_type == {"conv": 2_334_080, "dense": 58_631_144}


def test_vgg16():
    r = count("vgg16.yaml")
    # convs: 1,792 + 36,928 + 73,856 + 147,584 + 295,168 + 2*590,080 + 1,180,160 + 5*2,359,808
    # = 14,714,688; fc 25088*4096+4096 + 4096*4096+4096 + 4096*1000+1000 = 123,642,856
    assert r.params == 138_357_544
    assert r.params_by_type == {"conv": 14_714_688, "dense": 123_642_856}
    # torchvision documents 15.47 GFLOPS (multiply-adds) for vgg16
    assert r.macs == 15_470_264_320


def test_resnet50():
    r = count("resnet50.yaml")
    assert r.params == 25_557_032  # torchvision resnet50 num_params
    # torchvision: 4.09 GFLOPS (multiply-adds of convolutions and the fc layer)
    assert r.macs == 4_089_184_256
    assert round(r.macs / 1e9, 2) == 4.09
    # stem: 64*3*7*7 = 9,408 conv weights + 128 BN
    assert r.layer("conv1").count.params == 9_408
    assert r.layer("layer4").output_shape == (2048, 7, 7)


def test_gpt2():
    r = count("gpt2.yaml")
    # wte 50257*768 = 38,597,376; wpe 1024*768 = 786,432; per block: 2 LN 2*1,536,
    # attention 4*768*768 + 4*768 = 2,362,368, MLP 2*768*3072 + 3072 + 768 = 4,722,432
    # -> 7,087,872 x 12 = 85,054,464; ln_f 1,536; lm_head tied (0) -> 124,439,808
    assert r.params == 124_439_808
    assert r.layer("lm_head").count.params == 0
    assert "tied to wte.weight" in r.layer("lm_head").note
    assert r.embedding_params == 38_597_376 + 786_432
    # forward at T = 1024: per block 2*1024*(4*768^2 + 8*768^2) matmuls + 2*2*1024^2*768
    # attention products = 14,495,514,624 + 3,221,225,472 = 17,716,740,096; x12 = 212,600,881,152;
    # lm_head 2*1024*768*50257 = 79,047,426,048 -> 291,648,307,200
    assert r.forward_flops == 291_648_307_200
    assert r.tokens == 1024


def test_gpt3_175b():
    r = count("gpt3-175b.yaml")
    # wte 50257*12288 = 617,558,016; wpe 2048*12288 = 25,165,824; per layer 12*12288^2 + 13*12288
    # = 1,812,099,072 (x96 = 173,961,510,912); ln_f 24,576 -> 174,604,259,328
    assert r.params == 174_604_259_328
    assert round(r.params / 1e9, 1) == 174.6


def test_mixtral():
    r = count("mixtral-8x7b.yaml")
    # embed and lm_head 32000*4096 = 131,072,000 each; per layer: attention q,o 4096^2 and
    # k,v 4096*1024 = 41,943,040; 2 RMSNorm 8,192; router 4096*8 = 32,768; experts
    # 8 * 3*4096*14336 = 1,409,286,144 -> 1,451,270,144 x 32 = 46,440,644,608; final norm 4,096
    # -> 46,702,792,704
    assert r.params == 46_702_792_704
    # active: 2 of 8 experts: 2*176,160,768 = 352,321,536 per layer -> per layer 394,305,536,
    # x 32 = 12,617,777,152 + 262,144,000 + 4,096 = 12,879,925,248
    assert r.active_params == 12_879_925_248
    assert r.params_by_type["expert"] == 32 * 1_409_286_144


def test_lstm_seq2seq():
    r = count("lstm-seq2seq.yaml")
    # embeddings 160000*1000 + 80000*1000 = 240M; softmax 1000*80000 + 80000 = 80,080,000;
    # LSTMs 2 stacks * 4 layers * (4000*1000 + 4000*1000 + 2*4000) = 64,064,000 -> 384,144,000;
    # the paper's 384M is this without the 144,000 biases
    assert r.params == 384_144_000
    assert r.params - 80_000 - 64_000 == 384_000_000
    assert r.params_by_type["recurrent"] == 64_064_000


def test_transformer_base():
    r = count("transformer-base.yaml")
    # shared table 37000*512 = 18,944,000; encoder layer 1,050,624 + 2,099,712 + 2,048 = 3,152,384;
    # decoder layer 2*1,050,624 + 2,099,712 + 3,072 = 4,204,032; 6*(3,152,384 + 4,204,032)
    # = 44,138,496 -> 63,082,496 (paper: 65M; see the spec's notes)
    assert r.params == 63_082_496
    assert r.non_embedding_params == 44_138_496
    assert r.layer("tgt_embed").count.params == 0
    assert r.layer("generator").count.params == 0


def test_published_comparison_is_reported():
    rows = {row["key"]: row for row in compare_published(count("mixtral-8x7b.yaml"))}
    # 46,702,792,704 / 46.7e9 = 1.0000598...
    assert rows["params"]["published"] == 46.7e9
    assert abs(rows["params"]["ratio"] - 46_702_792_704 / 46.7e9) < 1e-12
    assert rows["active_params"]["counted"] == 12_879_925_248
    rows = {row["key"]: row for row in compare_published(count("resnet50.yaml"))}
    assert rows["params"]["exact"] is True


@pytest.mark.parametrize("entry", CATALOG, ids=entry_id)
def test_every_spec_has_citation_and_published_figures(entry):
    spec = load_entry(entry)
    name = entry_id(entry)
    assert spec.citation and spec.year and spec.domain and spec.url
    # a source that publishes no figure says so (`unpublished:`), it is never made up
    assert spec.published or spec.provenance.get("unpublished"), f"{name} has no published block"
    assert all(p["source"] for p in spec.published.values())
    assert spec.reduced, f"{name} has no reduced block"


@pytest.mark.parametrize("entry", CATALOG, ids=entry_id)
def test_reduced_keeps_structure(entry):
    """The reduced variant has the same layer paths and kinds, only smaller."""
    spec = load_entry(entry)
    full, small = analyze(spec), analyze(load_entry(entry, overrides=spec.reduced))
    assert small.params < full.params
    def top(r):  # top-level paths and kinds, repeat counts aside
        return [(row.path, row.kind.split(" x")[0]) for row in r.layers if row.depth == 1]
    assert top(small) == top(full)
    assert small.extra["kinds"] == full.extra["kinds"]


def test_causal_half_is_explicit():
    full, half = count("gpt2.yaml"), count("gpt2.yaml", causal="half")
    # the score and value products 12 * 2*2*1024*1024*768 = 38,654,705,664 halve
    assert full.forward_flops - half.forward_flops == 38_654_705_664 // 2
    assert half.params == full.params
    assert any("half" in n for n in half.notes)


@pytest.mark.torch
@pytest.mark.parametrize("size", ["reduced", pytest.param("full", marks=pytest.mark.full_size)])
@pytest.mark.parametrize("entry", CATALOG, ids=entry_id)
def test_spec_matches_torch_build(entry, size):
    """analytic params == the built module's unique parameters (same names), exactly;
    analytic forward FLOPs == raw FlopCounterMode on the meta-device module, exactly. At the
    reduced size by default; whole with -m full_size (test_crosscheck.py checks every entry
    whole on meta with the torch witness in the default suite)."""
    pytest.importorskip("torch")
    from torchcheck import assert_spec_matches_torch

    spec = load_entry(entry)
    if size == "reduced":
        spec = load_entry(entry, overrides=spec.reduced)
    assert_spec_matches_torch(spec, analyze(spec))
