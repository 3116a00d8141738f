"""More vision systems of the catalog (ViT sizes, ResNet-18/34/101, Inception v3, DenseNet-121,
MobileNet v1, SqueezeNet, Xception, EfficientNet-B7): exact counts, the arithmetic in comments.

(The torch cross-check of every spec runs in tests/test_archspecs.py.)
"""
from __future__ import annotations

from pathlib import Path

from estimator.analytic import analyze, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name):
    return analyze(load_spec(ARCH / name))


def params(r, path):
    return r.layer(path).count.params


def test_vit_h14():
    r = count("vit-h-14.yaml")
    # a block of width d with a 4d MLP: attention 4d^2 + 4d, MLP 8d^2 + 5d, two LayerNorms 4d
    # = 12d^2 + 13d = 12 * 1,638,400 + 16,640 = 19,677,440 at d = 1280; 32 blocks 629,678,080
    assert params(r, "encoder") == 32 * 19_677_440
    # + patches 1280 * 3*14*14 + 1280 = 753,920, class token 1,280, positions 257 * 1280 =
    # 328,960, final LN 2,560, head 1280 * 1000 + 1000 = 1,281,000 (Table 1: 632M)
    assert r.params == 629_678_080 + 753_920 + 1_280 + 328_960 + 2_560 + 1_281_000 == 632_045_800
    assert r.layer("encoder").output_shape == (257, 1280)   # 16 x 16 patches + class token


def test_vit_b32_and_l32():
    b = count("vit-b-32.yaml")
    # patch projection 768 * 3*32*32 + 768 = 2,360,064; 50 positions (49 patches + class) x 768
    assert params(b, "patch_embed") == 2_360_064 and params(b, "pos") == 38_400
    # ViT-B/16's 86,567,656 + (2,359,296 - 589,824) weights - 147 * 768 position rows
    assert b.params == 86_567_656 + 1_769_472 - 112_896 == 88_224_232
    l = count("vit-l-32.yaml")
    # 24 blocks of 12 * 1024^2 + 13 * 1024 = 12,596,224; patches 1024 * 3072 + 1024; 50 * 1024
    # positions; class 1,024; LN 2,048; head 1,025,000
    assert l.params == 24 * 12_596_224 + 3_146_752 + 51_200 + 1_024 + 2_048 + 1_025_000 == 306_535_400


def test_resnet18_34_101():
    r18, r34, r101 = count("resnet-18.yaml"), count("resnet-34.yaml"), count("resnet-101.yaml")
    # basic block of width w: two 3x3 convs 2 * 9w^2 + BN 4w; w 64: 73,984 -> layer1 2 x = 147,968
    # layer2: down 64*9*128 + 128*9*128 + shortcut 64*128 + 3 BN (768) = 230,144, + 295,424
    # layer3: down 919,040 + 1,180,672; layer4: down 3,673,088 + 4,720,640
    assert [params(r18, f"layer{i}") for i in (1, 2, 3, 4)] == [147_968, 525_568, 2_099_712, 8_393_728]
    # + stem 7*7*3*64 + BN 128 = 9,536 + fc 512 * 1000 + 1000 = 513,000
    assert r18.params == 147_968 + 525_568 + 2_099_712 + 8_393_728 + 9_536 + 513_000 == 11_689_512
    # ResNet-34: 3, 4, 6, 3 blocks: 3 * 73,984; 230,144 + 3 * 295,424; 919,040 + 5 * 1,180,672;
    # 3,673,088 + 2 * 4,720,640
    assert [params(r34, f"layer{i}") for i in (1, 2, 3, 4)] == [221_952, 1_116_416, 6_822_400, 13_114_368]
    assert r34.params == 21_797_672
    # ResNet-101 = ResNet-152 (60,192,808) less 4 layer2 bottlenecks of 280,064 and 13 layer3
    # bottlenecks of 1,117,184 (8/36 -> 4/23 blocks, Table 1)
    assert params(r101, "layer3") == 1_512_448 + 22 * 1_117_184
    assert r101.params == 60_192_808 - 4 * 280_064 - 13 * 1_117_184 == 44_549_160
    # torchvision's GFLOPS (multiply-adds): 1.81, 3.66, 7.80
    assert (r18.macs, r34.macs, r101.macs) == (1_814_073_344, 3_663_761_408, 7_801_405_440)


def test_inception_v3():
    r = count("inception-v3.yaml")
    # Mixed_5b on 192 channels (pool features 32), each conv + BN (2C): 1x1 192*64 + 128;
    # 5x5 branch 192*48 + 96 + 48*25*64 + 128; 3x3dbl 192*64 + 128 + 64*9*96 + 192 + 96*9*96
    # + 192; pool 192*32 + 64
    assert params(r, "Mixed_5b") == 12_416 + 9_312 + 76_928 + 12_416 + 55_488 + 83_136 + 6_208 == 255_904
    assert r.layer("Mixed_6e").output_shape == (768, 17, 17)
    # torchvision inception_v3 with its auxiliary head (98,304 + 256 + 2,457,600 + 1,536 + 769,000)
    assert r.params == 27_161_264
    assert r.params - (98_304 + 256 + 2_457_600 + 1_536 + 769_000) == 23_834_568


def test_densenet121():
    r = count("densenet-121.yaml")
    # dense layer on c channels: BN 2c + 1x1 c*128 + BN 256 + 3x3 128*9*32 = 36,864; block 1
    # inputs c = 64 + 32i, i < 6 (sum 864): 2*864 + 128*864 + 6 * (256 + 36,864)
    assert params(r, "denseblock1") == 1_728 + 110_592 + 222_720 == 335_040
    assert params(r, "transition1") == 512 + 256 * 128 == 33_280
    assert r.layer("denseblock4").output_shape == (1024, 7, 7)
    assert r.params == 7_978_856  # torchvision densenet121


def test_mobilenet_v1_squeezenet_xception():
    m = count("mobilenet-v1.yaml")
    # depthwise 3x3 32*9 + BN 64 + pointwise 32*64 + BN 128; the last: 1024*9 + 2,048 + 1024^2 + 2,048
    assert (params(m, "dw1"), params(m, "dw13")) == (2_528, 1_061_888)
    assert m.params == 4_231_976 and m.macs == 568_740_352   # Table 8: 4.2M, 569M mult-adds
    s = count("squeezenet.yaml")
    # fire2: squeeze 96*16 + 16 = 1,552, expand 1x1 16*64 + 64 = 1,088, 3x3 16*9*64 + 64 = 9,280
    assert params(s, "fire2") == 1_552 + 1_088 + 9_280
    assert params(s, "conv10") == 512 * 1000 + 1000
    assert s.params == 1_248_424   # Table 1, exactly
    assert s.layer("maxpool8").output_shape == (512, 13, 13)   # ceil mode: 109 -> 54 -> 27 -> 13
    x = count("xception.yaml")
    # entry block 1: separable 64 -> 128 (576 + 8,192) + BN 256, separable 128 -> 128 (1,152 +
    # 16,384) + BN 256, shortcut 64*128 + BN 256
    assert params(x, "block1") == 576 + 8_192 + 256 + 1_152 + 16_384 + 256 + 8_192 + 256 == 35_264
    # middle flow: 8 modules x 3 separable convs of 728 (728*9 + 728^2) + BN 1,456
    assert params(x, "middle") == 24 * (6_552 + 529_984 + 1_456) == 12_911_808
    assert x.params == 22_855_952   # Table 3, exactly


def test_efficientnet_b7():
    r = count("efficientnet-b7.yaml")
    assert r.params == 66_347_960   # torchvision efficientnet_b7
    # head: 1 x 1 convolution 640 -> 2560 without bias (the B0 head's 1280 x 2.0)
    assert params(r, "head") == 640 * 2560
    assert r.layer("stage8").output_shape == (640, 19, 19)   # 600 / 32, rounded up
    assert r.macs == 37_745_884_192   # torchvision: 37.75 GFLOPS; Table 2: 37B


def test_convnext_b_and_dinov2():
    c = count("convnext-b.yaml")
    # a block at width C: depthwise 7x7 49C + C, LayerNorm 2C, MLP 8C^2 + 5C, LayerScale C
    # = 8C^2 + 58C; stage 1 (C 128, 3 blocks) = 3 * (131,072 + 7,424)
    assert params(c, "stage1") == 3 * (8 * 128 * 128 + 58 * 128) == 415_488
    assert c.params == 88_591_464   # torchvision convnext_base; Table 1: 89M
    d = count("dinov2-vit-g14.yaml")
    # a block at d 1536, SwiGLU hidden 4096: attention 4d^2 + 4d, gate/up/down 3 * 1536 * 4096 +
    # 2 * 4096 + 1536, LayerNorms 4d, LayerScales 2d
    blk = 4 * 1536 ** 2 + 4 * 1536 + 3 * 1536 * 4096 + 2 * 4096 + 1536 + 4 * 1536 + 2 * 1536
    assert params(d, "blocks") == 40 * blk
    # + patches 1536 * 588 + 1536, class token 1536, 1370 positions, final LN 3072; transformers'
    # Dinov2Model has 1,136,480,768, with the 1,536-wide mask token not counted here
    assert d.params == 40 * blk + 904_704 + 1_536 + 1370 * 1536 + 3_072 == 1_136_480_768 - 1_536


def test_yolov3_and_unet_and_zfnet():
    y = count("yolov3.yaml")
    assert y.params == 61_949_149          # yolov3.cfg, 80 classes
    assert y.forward_flops == 65_864_075_264   # darknet: 65.864 BFLOPs at 416
    # the three prediction layers: 3 x (4 + 1 + 80) = 255 channels of 1x1 convolutions with bias
    assert params(y, "head1.out.detect") == 1024 * 255 + 255
    assert y.layer("route2_cat").output_shape == (384, 52, 52)   # 128 up-sampled + 256 skip
    u = count("u-net.yaml")
    # two 3x3 convolutions 1 -> 64 -> 64: 640 + 36,928; bottom 512 -> 1024 -> 1024
    assert params(u, "down1") == 37_568
    assert params(u, "bottom") == 512 * 9 * 1024 + 1024 + 1024 * 9 * 1024 + 1024 == 14_157_824
    assert u.layer("cat4").output_shape == (1024, 56, 56)   # 64 x 64 cropped to 56 x 56
    assert u.layer("out").output_shape == (2, 388, 388)
    assert u.params == 31_030_658
    z = count("zfnet.yaml")
    assert z.params == 14_208 + 614_656 + 885_120 + 1_327_488 + 884_992 + 37_752_832 + 16_781_312 + 4_097_000
    assert z.layer("pool5").output_shape == (256, 6, 6)
