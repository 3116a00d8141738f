"""The vision systems of the catalog: exact counts with the arithmetic behind each one.

(The torch cross-check of every spec runs in tests/test_archspecs.py; the new layer kinds'
hand cases live in tests/test_layer_kinds.py HAND_CASES.)
"""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name):
    return analyze(load_spec(ARCH / name))


def params(r, path):
    return r.layer(path).count.params


def test_lenet5():
    r = count("lenet-5.yaml")
    # C1 6*25 + 6 = 156; S2 2*6 = 12; C3 (Table I: 6*3 + 9*4 + 1*6 = 60 map links) 60*25 + 16
    # = 1,516; S4 2*16 = 32; C5 120*16*25 + 120 = 48,120; F6 84*120 + 84 = 10,164;
    # RBF centres fixed (a buffer): 0 -> 60,000 (section II.B, exactly)
    assert [params(r, p) for p in ("C1", "S2", "C3", "S4", "C5", "F6", "output")] == \
        [156, 12, 1_516, 32, 48_120, 10_164, 0]
    assert r.params == 60_000
    assert r.layer("C3").output_shape == (16, 10, 10)
    # multiply-adds: C1 28*28*6*25 = 117,600; C3 10*10*60*25 = 150,000; C5 120*400 = 48,000;
    # F6 84*120 = 10,080 -> 325,680
    assert r.macs == 325_680
    # the paper's 340,908 connections = those multiply-adds + one bias link per unit of C1
    # (4,704), C3 (1,600), C5 (120), F6 (84) + S2 14*14*6*5 = 5,880 + S4 5*5*16*5 = 2,000
    # + RBF 10*84 = 840
    assert r.macs + 4_704 + 1_600 + 120 + 84 + 5_880 + 2_000 + 840 == 340_908
    # S2 and S4 carry their connections as other FLOPs (k^2 - 1 adds + multiply + add = 5 each)
    assert r.layer("S2").count.other_flops == 5_880
    assert r.layer("S4").count.other_flops == 2_000


def test_vgg19():
    r = count("vgg-19.yaml")
    # convs 1,792 + 36,928 + 73,856 + 147,584 + 295,168 + 3*590,080 + 1,180,160 + 7*2,359,808
    # = 20,024,384; fc 25088*4096+4096 + 4096*4096+4096 + 4096*1000+1000 = 123,642,856
    assert r.params_by_type == {"conv": 20_024_384, "dense": 123_642_856}
    assert r.params == 143_667_240  # torchvision vgg19; Table 2: 144M
    # MACs per stage: 224^2 * (3*9*64 + 64*9*64) = 1,936,392,192; 112^2 * (64*9*128 + 128*9*128)
    # = 2,774,532,096; 56^2 * (128*9*256 + 3*256*9*256) = 6,473,908,224; 28^2 * (256*9*512 +
    # 3*512*9*512) = 6,473,908,224; 14^2 * 4*512*9*512 = 1,849,688,064; fc 123,633,664
    assert r.macs == 19_632_062_464  # torchvision: 19.63 GFLOPS (multiply-adds)


def test_googlenet():
    r = count("googlenet.yaml")
    # inception3a on 192 channels: 1x1 192*64; 3x3 192*96 + 96*9*128; 5x5 192*16 + 16*25*32;
    # pool proj 192*32 = 163,328 weights + 368 biases
    assert params(r, "inception3a") == 163_696
    assert r.layer("inception3a").output_shape == (256, 28, 28)
    assert r.layer("inception5b").output_shape == (1024, 7, 7)
    # 6,990,272 weights + 8,280 biases (Table 1 sums to 6,797.7K in units of 1024, no biases)
    assert r.params == 6_998_552
    # the stem conv is 112*112*64*147 = 118,013,952 multiply-adds (Table 1: 34M)
    assert r.layer("conv1").count.macs == 118_013_952
    assert r.macs == 1_582_671_872
    assert r.macs - 118_013_952 + 34_000_000 == 1_498_657_920  # ~1.5B with the table's stem


def test_googlenet_training_compute_counts_every_epoch():
    """Issue 20: the catalog's 1.2e16 was one epoch. 250 epochs (the replication's original
    schedule, whose steps match the paper's '4% every 8 epochs') of 1.28M images:
    3 x 3,165,343,744 FLOP x 1.28e6 x 250 = 3.0387e18."""
    from estimator.curation.catalog import make_entry

    e = make_entry(ARCH / "googlenet.yaml")
    assert e.training["epochs"] == 250
    assert e.training_compute.method == "operation counting"
    assert e.training_flops == pytest.approx(3 * 2 * 1_582_671_872 * 1.28e6 * 250, rel=1e-12)
    assert "solver.prototxt" in e.training["source"]


def test_resnet152():
    r = count("resnet-152.yaml")
    # bottleneck of width m: 1x1, 3x3, 1x1 to 4m, BN 12m; identity blocks (input 4m) 17m^2 + 12m
    # layer1 m 64: down 57,344 + 768 + shortcut 16,384 + 512 = 75,008; 2 x 70,400 -> 215,808
    # layer2 m 128: down 245,760 + 1,536 + 131,072 + 1,024 = 379,392; 7 x 280,064 -> 2,339,840
    # layer3 m 256: down 983,040 + 3,072 + 524,288 + 2,048 = 1,512,448; 35 x 1,117,184 -> 40,613,888
    # layer4 m 512: down 3,932,160 + 6,144 + 2,097,152 + 4,096 = 6,039,552; 2 x 4,462,592 -> 14,964,736
    assert [params(r, f"layer{i}") for i in (1, 2, 3, 4)] == [215_808, 2_339_840, 40_613_888, 14_964_736]
    # + stem 9,408 + 128 + fc 2,049,000
    assert r.params == 60_192_808  # torchvision resnet152
    # Table 1: 11.3e9 multiply-adds with the stride on the first 1x1 (the paper's layout)
    assert r.macs == 11_282_415_616
    assert round(r.macs / 1e9, 1) == 11.3


def test_mobilenet_v2():
    r = count("mobilenet-v2.yaml")
    # group 1 (t 1, 32 -> 16): depthwise 32*9 + BN 64 + project 32*16 + BN 32 = 896
    assert params(r, "group1") == 896
    # head 320*1280 = 409,600; classifier 1280*1000 + 1000 = 1,281,000
    assert params(r, "head") == 409_600 and params(r, "classifier") == 1_281_000
    assert r.params == 3_504_872  # torchvision mobilenet_v2; Table 4: 3.4M
    assert r.params_by_type["norm"] == 34_112
    assert r.macs == 300_774_272  # Table 4: 300M multiply-adds
    assert r.layer("group7").output_shape == (320, 7, 7)


def test_efficientnet_b0():
    r = count("efficientnet-b0.yaml")
    # stage 2's SE on 32 channels, squeeze 32 // 4 = 8: 32*8 + 8 + 8*32 + 32 = 552,
    # FLOPs 2*32*8 + 2*8*32 = 1,024
    se = r.layer("stage2.first.se").count
    assert (se.params, se.forward_flops) == (552, 1_024)
    # stage 8's SE on 6*192 = 1,152 channels, squeeze 192 // 4 = 48: 2*1152*48 + 48 + 1152
    se = r.layer("stage8.first.se").count
    assert (se.params, se.forward_flops) == (111_792, 221_184)
    assert r.params == 5_288_548  # torchvision efficientnet_b0; Table 2: 5.3M
    assert r.macs == 385_814_752  # Table 2: 0.39B FLOPs (multiply-adds)
    assert r.layer("stage8").output_shape == (320, 7, 7)


def test_vit_b16():
    r = count("vit-b-16.yaml")
    # patch 768*3*16*16 + 768 = 590,592; class token 768; positions 197*768 = 151,296;
    # block: 2 LN 3,072 + attention 4*768^2 + 4*768 = 2,362,368 + MLP 2*768*3072 + 3072 + 768
    # = 4,722,432 -> 7,087,872 x 12 = 85,054,464; final LN 1,536; head 768*1000 + 1000 = 769,000
    assert params(r, "patch_embed") == 590_592
    assert params(r, "cls") == 768 and params(r, "pos") == 151_296
    assert r.params == 86_567_656  # torchvision vit_b_16; Table 1: 86M
    assert r.layer("pos").output_shape == (197, 768)
    # per block at T 197: projections 2*197*(4*768^2 + 2*768*3072) = 2,788,687,872; scores and
    # values 2*2*197^2*768 = 119,221,248 -> 2,907,909,120 x 12 = 34,894,909,440; patches
    # 2*196*768*768 = 231,211,008; head 2*768*1000 = 1,536,000
    assert r.forward_flops == 35_127_656_448
    # Table 6: 224 exaFLOPs of pre-training = 3 x forward x 303e6 images x 7 epochs
    assert round(3 * r.forward_flops * 303e6 * 7 / 1e18) == 224


def test_vit_l16():
    r = count("vit-l-16.yaml")
    # patch 1024*768 + 1024 = 787,456; class 1,024; positions 197*1024 = 201,728;
    # block 4,096 + 4*1024^2 + 4*1024 + 2*1024*4096 + 4096 + 1024 = 12,596,224 x 24
    # = 302,309,376; final LN 2,048; head 1,025,000
    assert r.params == 304_326_632  # torchvision vit_l_16; Table 1: 307M (0.9 % above)
    assert params(r, "encoder") == 302_309_376
    assert abs(r.params / 307e6 - 1) < 0.01


def test_clip_vit_l14():
    r = count("clip-vit-l-14.yaml")
    # image: conv1 1024*3*14*14 = 602,112 (no bias); class 1,024; positions 257*1024 = 263,168;
    # ln_pre 2,048; 24 blocks of 12,596,224 = 302,309,376; ln_post 2,048; proj 1024*768 = 786,432
    assert params(r, "visual") == 303_966_208
    # text: tokens 49408*768 = 37,945,344; positions 77*768 = 59,136; 12 blocks of 7,087,872
    # = 85,054,464; ln_final 1,536; text_projection 768*768 = 589,824
    assert params(r, "text") == 123_650_304
    assert params(r, "logit") == 1  # logit_scale
    assert r.params == 427_616_513  # open_clip ViT-L-14: 427.62M
    assert r.layer("visual.positional_embedding").output_shape == (257, 1024)
    # open_clip: 162.03 GFLOPs image, 13.3 text; the logit's dot product 2*768 = 1,536
    assert r.layer("visual").count.forward_flops == 162_025_537_536
    assert r.layer("text").count.forward_flops == 13_299_683_328
    assert r.forward_flops == 162_025_537_536 + 13_299_683_328 + 1_536
    assert r.output_shape == (1,)


def test_existing_specs_carry_provenance():
    for name in ("alexnet.yaml", "vgg16.yaml", "resnet50.yaml"):
        spec = load_spec(ARCH / name)
        assert {"aliases", "authors", "title", "venue", "training"} <= set(spec.provenance), name
    # AlexNet's exact 60,965,224 is 1.6 % above the paper's "60 million": explained
    assert "params" in load_spec(ARCH / "alexnet.yaml").provenance["discrepancy"]
    assert load_spec(ARCH / "alexnet.yaml").provenance["training"]["chips"] == 2
