"""Whisper's other sizes (Radford et al. 2022, Table 1): exact counts of the released layout."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def whisper(d, layers, vocab=51865, mels=80, ctx=448):
    """Encoder block 12d^2 + 12d (attention 4d^2 + 3d, no key bias; MLP 8d^2 + 5d; two LNs 4d),
    decoder block 16d^2 + 17d (self + cross attention, MLP, three LNs); stem conv 80*3*d + d and
    d*3*d + d; ln_post and the final LN 2d each; token table vocab*d (tied); 448 positions."""
    return (layers * (12 * d * d + 12 * d) + layers * (16 * d * d + 17 * d) + mels * 3 * d + d
            + 3 * d * d + d + 4 * d + vocab * d + ctx * d)


@pytest.mark.parametrize("size,d,layers,count", [
    ("tiny", 384, 4, 37_184_640),     # Table 1: 39M
    ("base", 512, 6, 71_825_920),     # 74M
    ("small", 768, 12, 240_582_912),  # 244M
    ("medium", 1024, 24, 762_321_920),  # 769M
])
def test_whisper_sizes(size, d, layers, count):
    r = analyze(load_spec(ARCH / f"whisper-{size}.yaml"))
    assert r.params == whisper(d, layers) == count
    assert r.layer("ln_post").output_shape == (1500, d)   # 3000 frames, stride 2


def test_whisper_tiny_by_part():
    r = analyze(load_spec(ARCH / "whisper-tiny.yaml"))
    # d 384: encoder 4 x (12 * 147,456 + 4,608) = 7,096,320; decoder 4 x (16 * 147,456 + 6,528)
    # = 9,463,296; tokens 51,865 * 384 = 19,916,160
    assert r.layer("encoder").count.params == 7_096_320
    assert r.layer("decoder").count.params == 9_463_296
    assert r.layer("token_embedding").count.params == 19_916_160
