"""SigLIP So400m, DALL-E's transformer and Stable Diffusion v1: exact counts by part."""
from __future__ import annotations

from pathlib import Path

from estimator.analytic import analyze, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name):
    return analyze(load_spec(ARCH / name))


def block(d, mlp):
    """pre-LN block: attention 4d^2 + 4d, MLP 2*d*mlp + mlp + d, two LayerNorms 4d."""
    return 4 * d * d + 4 * d + 2 * d * mlp + mlp + d + 4 * d


def test_siglip_so400m():
    r = count("siglip-so400m.yaml")
    d, mlp = 1152, 4304
    # vision: patches 1152 * 588 + 1152, 729 positions, 27 blocks, post LN, MAP head: probe
    # 1152 + attention 4d^2 + 4d + LN 2d + MLP
    head = d + 4 * d * d + 4 * d + 2 * d + 2 * d * mlp + mlp + d
    assert head == 15_238_352
    vision = d * 588 + d + 729 * d + 27 * block(d, mlp) + 2 * d + head
    assert r.layer("vision").count.params == vision == 428_225_600
    # text: 32,000 x 1152 tokens, 64 positions, 27 blocks, final LN, head 1152^2 + 1152
    text = 32_000 * d + 64 * d + 27 * block(d, mlp) + 2 * d + d * d + d
    assert r.layer("text").count.params == text == 449_734_896
    # + the temperature t and the bias b; transformers' SiglipModel on meta: 877,960,498
    assert r.params == vision + text + 2 == 877_960_498


def test_dall_e():
    r = count("dall-e.yaml")
    d = 62 * 64
    assert r.layer("blocks").count.params == 64 * (12 * d * d + 13 * d) == 12_095_479_808
    # tables 24,832 x 3968, positions 1280 x 3968, final LN, output 24,576 x 3968
    assert r.params == 12_095_479_808 + 98_533_376 + 5_079_040 + 7_936 + 97_517_568 == 12_296_617_728


def test_stable_diffusion_v1():
    r = count("stable-diffusion-v1.yaml")
    part = lambda p: r.layer(p).count.params
    # the U-Net with its time embedding (320 -> 1280 -> 1280: 410,880 + 1,639,680): diffusers'
    # UNet2DConditionModel for v1 has 859,520,964
    assert part("time_embedding") == 320 * 1280 + 1280 + 1280 * 1280 + 1280 == 2_050_560
    assert part("unet") + part("time_embedding") == 859_520_964
    # the CLIP ViT-L/14 text tower without its projection: 123,650,304 - 768^2 (clip-vit-l-14)
    assert part("text") == 123_650_304 - 768 * 768 == 123_060_480
    # the KL-f8 autoencoder
    assert part("vae_encoder") + part("vae_decoder") == 34_163_664 + 49_490_199 == 83_653_863
    assert r.params == 859_520_964 + 123_060_480 + 83_653_863 == 1_066_235_307
    # a residual block 320 -> 640 at level 1: GN 640 + conv 320*9*640 + 640 + time 1280*640 + 640
    # + GN 1,280 + conv 640*9*640 + 640 + shortcut 320*640 + 640
    assert part("unet.down1.res0") == (640 + 1_843_200 + 640 + 819_200 + 640 + 1_280 + 3_686_400
                                      + 640 + 204_800 + 640) == 6_558_080
    # the skip concatenations: up level 1 reads 1280 + 640 in its third block
    assert r.layer("unet.up1.cat2").output_shape == (1920, 16, 16)
