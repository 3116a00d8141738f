"""ALBERT (issue 20): cross-layer parameter sharing. The encoder's one set of layer weights
(`shared: true` on a repeated block) counts once in the parameters and twelve times in the
forward FLOPs; the factorised embedding is a 128-wide table and a 128 -> H projection."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name, variant=None):
    return analyze(load_spec(ARCH / name, variant=variant))


def test_albert_base_counts_the_shared_layer_once():
    r = count("albert-base.yaml")
    h = 768
    layer = 12 * h * h + 13 * h               # BERT's layer: 7,087,872
    assert r.layer("encoder").count.params == layer == 7_087_872
    assert r.layer("encoder.0").count.params == layer
    assert all(r.layer(f"encoder.{i}").count.params == 0 for i in range(1, 12))
    # embeddings 30,000 x 128 + 512 x 128 + 2 x 128 + LayerNorm 256; projection 128 x 768 + 768;
    # pooler 768^2 + 768 (transformers' AlbertModel for albert-base-v2: the same 11,683,584)
    emb = 30000 * 128 + 512 * 128 + 2 * 128 + 2 * 128
    assert r.params == 11_683_584 == emb + (128 * h + h) + layer + (h * h + h)


def test_albert_forward_counts_every_layer():
    albert, bert = count("albert-base.yaml"), count("bert.yaml", "BERT base")
    # same H, 12 layers and T = 512 as BERT base: the same encoder and pooler FLOPs, plus the
    # 128 -> 768 projection of 512 tokens, 2 x 512 x 128 x 768 = 100,663,296
    assert albert.forward_flops - bert.forward_flops == 2 * 512 * 128 * 768 == 100_663_296
    assert albert.forward_flops == 96_738_607_104
    # while the parameters are 9.4 times fewer
    assert bert.params == 109_482_240 and albert.params * 9 < bert.params


def test_albert_xxlarge():
    r = count("albert-xxlarge.yaml")
    h = 4096
    layer = 12 * h * h + 13 * h               # 201,379,840, once
    emb = 30000 * 128 + 512 * 128 + 2 * 128 + 2 * 128
    assert r.params == 222_595_584 == emb + (128 * h + h) + layer + (h * h + h)
    # T = 512: each of the 12 uses of the layer is 2 x 512 x 12 h^2 + 4 x 512^2 x h
    per_use = 2 * 512 * 12 * h * h + 4 * 512 * 512 * h
    assert r.layer("encoder").count.forward_flops == 12 * per_use == 2_525_440_770_048
    assert "222,595,584" in load_spec(ARCH / "albert-xxlarge.yaml").provenance["discrepancy"]["params"]


@pytest.mark.torch
def test_albert_torch_build_has_one_layer_of_weights():
    pytest.importorskip("torch")
    from estimator.graphs.torch_build import build_module

    module = build_module(load_spec(ARCH / "albert-base.yaml"), "meta")
    assert sum(p.numel() for p in module.parameters()) == 11_683_584
