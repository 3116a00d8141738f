"""ESM-2 and AlphaFold 2: exact counts by part."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.curation import catalog as cat

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


@pytest.mark.parametrize("tag,layers,d", [("8m", 6, 320), ("35m", 12, 480), ("150m", 30, 640),
                                          ("650m", 33, 1280), ("3b", 36, 2560), ("15b", 48, 5120)])
def test_esm2(tag, layers, d):
    r = analyze(load_spec(ARCH / f"esm2-{tag}.yaml"))
    # blocks 12d^2 + 13d; embedding 33 x d (tied with the output); final LN 2d; LM head dense
    # d^2 + d, LN 2d, 33 output biases
    assert r.params == layers * (12 * d * d + 13 * d) + 33 * d + 2 * d + d * d + d + 2 * d + 33


def test_esm2_650m():
    r = analyze(load_spec(ARCH / "esm2-650m.yaml"))
    # 33 * 19,677,440 + 42,240 + 2,560 + 1,639,680 + 2,560 + 33
    assert r.params == 649_355_520 + 42_240 + 2_560 + 1_639_680 + 2_560 + 33 == 651_042_593


def test_alphafold2_evoformer_block():
    r = analyze(load_spec(ARCH / "alphafold-2.yaml"))
    part = lambda p: r.layer(p).count.params
    # MSA row attention with pair bias (Alg. 7), c_m 256, 8 heads of 32: q, k, v, gate 4 * 256^2 +
    # gate bias 256 + output 256^2 + 256 + pair bias 128 * 8 + LN(m) 512 + LN(z) 256
    assert part("evoformer.0.row") == 262_144 + 256 + 65_792 + 1_024 + 512 + 256 == 329_984
    assert part("evoformer.0.col") == 329_984 - 1_024 - 256            # no pair bias (Alg. 8)
    assert part("evoformer.0.msa_transition") == 512 + 256 * 1024 + 1024 + 1024 * 256 + 256
    # outer product mean: LN 512, a and b 2 * (256 * 32 + 32), output 32^2 * 128 + 128
    assert part("evoformer.0.opm") == 512 + 16_448 + 131_200 == 148_160
    # triangle multiplication, c = 128: LN 256, four 128 x 128 projections/gates with biases,
    # the output gate 128^2 + 128, the inner LN 256, the output 128^2 + 128
    assert part("evoformer.0.tri_mul_out") == 256 + 66_048 + 16_512 + 256 + 16_512 == 99_584
    # triangle attention, 4 heads of 32: LN 256, q, k, v, gate 4 * 128^2, gate bias 128, bias
    # 128 * 4, output 128^2 + 128
    assert part("evoformer.0.tri_att_start") == 256 + 65_536 + 128 + 512 + 16_512 == 82_944
    assert part("evoformer.0.pair_transition") == 256 + 128 * 512 + 512 + 512 * 128 + 128
    block = 329_984 + 328_704 + 526_080 + 148_160 + 2 * 99_584 + 2 * 82_944 + 131_968
    assert part("evoformer.0") == block == 1_829_952
    assert part("evoformer") == 48 * block
    assert r.params == 93_227_918   # 93M (Wang et al. 2022)
    assert r.layer("evoformer.47.msa_transition").output_shape == (516, 384, 256)  # 512 + 4 templates
    e = cat.make_entry(ARCH / "alphafold-2.yaml")
    assert e.domain == "biology" and e.status == "reproduced"
