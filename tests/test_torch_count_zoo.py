"""Torchvision-style CNNs: exact parameter counts and torchvision's published GFLOPS (GMACs)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from estimator import count  # noqa: E402

pytestmark = pytest.mark.torch

zoo = pytest.importorskip("zoo")

# exact multiply-accumulates for one 1x3x224x224 image (torchvision prints them rounded,
# as "GFLOPS", in the second column of zoo.PUBLISHED)
EXACT_MACS = {
    "alexnet": 714_188_480,
    "vgg16": 15_470_264_320,
    "resnet18": 1_814_073_344,
    "resnet50": 4_089_184_256,
    "mobilenet_v2": 300_774_272,
}


@pytest.mark.parametrize("name", sorted(zoo.FACTORIES))
def test_torchvision_cnn(name):
    with torch.device("meta"):  # no weights allocated; counting never needs them
        m = zoo.FACTORIES[name]()
    r = count(m, (1, 3, 224, 224))
    params, gflops = zoo.PUBLISHED[name]
    assert r.params == params
    assert round(r.macs / 1e9, 2) == gflops
    assert r.macs == EXACT_MACS[name] and r.forward_flops == 2 * EXACT_MACS[name]
    assert r.unknown_ops == {}


def test_resnet50_real_weights_arithmetic():
    m = zoo.resnet50()
    r = count(m, torch.randn(1, 3, 224, 224))
    # stem conv: 112*112 positions x 64 out x 7*7*3 = 118,013,952 MACs
    assert r.layer("conv1").count.macs == 112 * 112 * 64 * 147 == 118_013_952
    # fc: 2048 x 1000 = 2,048,000 MACs
    assert r.layer("fc").count.macs == 2_048_000
    assert r.params == 25_557_032 and r.macs == 4_089_184_256
    # BatchNorm running stats are buffers, never params
    assert r.extra["buffers"] == 53_173
