"""Training compute: the hardware method, operation counting, ranges and the verdict."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from estimator import training_compute
from estimator.costs.compute import judge_utilisation
from estimator.errors import InputError
from estimator.units import Interval

ARCH = Path(__file__).resolve().parent.parent / "archspecs"
ALEXNET_FORWARD = 1_448_813_632          # analytic forward FLOPs of archspecs/alexnet.yaml
GPT3_FORWARD = 734_804_261_732_352       # analytic forward FLOPs of gpt3-175b.yaml, T = 2048
GPT3_PARAMS = 174_604_259_328


# ------------------------------------------------------------------------- hardware method

def test_xland_board_figure():
    # DeepMind XLand: (8 TPUs)(4.20e14 FLOP/s)(0.1 utilisation rate)(32 agents)(7.3e6 s/agent)
    # 8 x 4.2e14 = 3.36e15; x 0.1 = 3.36e14; x 32 = 1.0752e16; x 7.3e6 = 7.84896e22 ~ 7.8e22.
    # 4.20e14 is a TPU v3 *board* of 4 chips: --hardware tpu-v3-8 reproduces it.
    tc = training_compute(hardware="TPU v3-8", chips=8, utilisation=0.1, runs=32, seconds=7.3e6)
    hw = tc.hardware
    assert tc.flops == pytest.approx(7.84896e22, rel=1e-12)
    assert (tc.low, tc.high) == (tc.flops, tc.flops)
    assert hw.arithmetic() == ("(8 boards)(4.20e14 FLOP/s)(0.1 utilisation)(32 runs)(7.3e6 s) "
                               "= 7.8e22 FLOP")
    # the distinction is visible: a board of 4 chips, 1.05e14 per chip (4.2e14 / 4)
    assert any("BOARD of 4 chips" in n and "1.05e14 per chip" in n for n in hw.notes)


def test_xland_with_the_chip_says_board():
    # one TPU v3 chip is 123 TFLOP/s: 8 x 1.23e14 x 0.1 x 32 x 7.3e6 = 2.298624e22
    tc = training_compute(hardware="TPU v3", chips=8, utilisation=0.1, runs=32, seconds=7.3e6)
    assert tc.flops == pytest.approx(2.298624e22, rel=1e-12)
    assert tc.hardware.unit_word == "chips"
    assert any("ONE chip" in n and "google-tpu-v3-8" in n for n in tc.hardware.notes)


def test_gpu_days_default_precision_and_utilisation():
    # 256 GPU-days = 256 x 86400 = 2.21184e7 s; V100 fp16 tensor 125e12; default utilisation 0.3
    # 2.21184e7 x 1.25e14 x 0.3 = 8.2944e20
    tc = training_compute(hardware="V100", gpu_days=256)
    assert tc.flops == pytest.approx(8.2944e20, rel=1e-12)
    assert tc.hardware.precision == "fp16" and tc.hardware.precision_defaulted
    assert any("utilisation 0.3 (default" in a for a in tc.assumptions)
    assert any("precision fp16 (default" in a for a in tc.assumptions)


def test_long_form_with_ranges_is_geometric_mean():
    # 8 chips x 1.23e14 x 2000 h x 3600 = 8 x 1.23e14 x 7.2e6 = 7.0848e21 FLOP at 100%;
    # utilisation 0.3-0.5: low 0.3 x 7.0848e21 = 2.12544e21, high 0.5 x 7.0848e21 = 3.5424e21,
    # central = sqrt(low x high) = 7.0848e21 x sqrt(0.3 x 0.5)
    tc = training_compute(hardware="tpu-v3", chips=8, hours=2000, utilisation="0.3-0.5")
    assert tc.low == pytest.approx(2.12544e21, rel=1e-12)
    assert tc.high == pytest.approx(3.5424e21, rel=1e-12)
    assert tc.flops == pytest.approx(7.0848e21 * math.sqrt(0.15), rel=1e-12)
    # two ranged inputs: days 80-95 and utilisation 0.3-0.5 on 1024 A100 (312e12 bf16)
    # low 1024 x 3.12e14 x 0.3 x 80 x 86400, high ... x 0.5 x 95 x 86400
    tc = training_compute(hardware="A100", chips=1024, days="80-95", utilisation=(0.3, 0.5))
    lo = 1024 * 3.12e14 * 0.3 * 80 * 86400
    hi = 1024 * 3.12e14 * 0.5 * 95 * 86400
    assert (tc.low, tc.high) == (pytest.approx(lo), pytest.approx(hi))
    assert tc.flops == pytest.approx(math.sqrt(lo * hi))


def test_precision_choice_and_gtx_1080_ti_fp32():
    # GTX 1080 Ti: fp32 11.34e12; 4 GPUs x 2 days (172,800 s) x 0.3 utilisation:
    # 4 x 11.34e12 x 172800 x 0.3 = 2.3514624e18
    tc = training_compute(hardware="GTX 1080 Ti", chips=4, days=2)
    assert tc.hardware.precision == "fp32"
    assert tc.flops == pytest.approx(4 * 11.34e12 * 172800 * 0.3)
    h = training_compute(hardware="H100", chips=1, seconds=1, utilisation=1, precision="fp8")
    assert h.flops == pytest.approx(1978.9e12)    # fp8 dense
    h = training_compute(hardware="H100", chips=1, seconds=1, utilisation=1)
    assert h.flops == pytest.approx(989.4e12)     # bf16 dense, the default


def test_ranged_peak_from_the_table():
    # Ascend 910B: no datasheet, fp16 stored as 280-376 TFLOP/s
    tc = training_compute(hardware="Ascend 910B", chips=1, seconds=1, utilisation=1)
    assert (tc.low, tc.high) == (pytest.approx(280e12), pytest.approx(376e12))


def test_cerebras_table_peak_and_custom_peak():
    # The table's dense fp16 figure (7.5e15 FLOP/s per CS-2 system, sourced in the row):
    # 7.5e15 x 86,400 s x 0.5 = 3.24e20
    tc = training_compute(hardware="CS-2", days=1, utilisation=0.5)
    assert tc.hardware.precision == "fp16"
    assert tc.flops == pytest.approx(7.5e15 * 86400 * 0.5)
    # --peak still overrides the table: 1e15 x 86,400 x 0.5 = 4.32e19
    tc = training_compute(hardware="CS-2", days=1, peak="1e15", utilisation=0.5)
    assert tc.flops == pytest.approx(1e15 * 86400 * 0.5)


# ---------------------------------------------------------------------- operation counting

def test_alexnet_operation_counting():
    # 1.2e6 images x 90 epochs = 1.08e8 examples; x 3 (forward + 2 x backward) = 3.24e8 passes
    # 3.24e8 x 1,448,813,632 = 469,415,616,768,000,000 = 4.69415616768e17 FLOP
    tc = training_compute(ARCH / "alexnet.yaml", examples="1.2M", epochs=90)
    c = tc.counting
    assert c.forward_flops == ALEXNET_FORWARD
    assert c.examples_seen.low == 1.08e8
    assert tc.flops == pytest.approx(469_415_616_768_000_000, rel=1e-15)
    assert c.six_nd is None and not c.transformer   # no 6ND for a CNN


def test_alexnet_backward_ratio_configurable():
    # ratio 1: 2 x 1.448813632e9 x 1.08e8 = 3.12943744512e17
    tc = training_compute(ARCH / "alexnet.yaml", examples=1.2e6, epochs=90, backward_ratio=1)
    assert tc.flops == pytest.approx(3.12943744512e17, rel=1e-15)


def test_gpt3_six_nd_and_three_forward():
    # 6 x N x D = 6 x 174,604,259,328 x 300e9 = 3.142876667904e23  (~3.14e23, Brown et al. D.1)
    # 3 x forward x sequences: 300e9 / 2048 = 146,484,375 sequences;
    # 3 x 734,804,261,732,352 x 146,484,375 = 3.22912029081600e23 (attention scores included)
    tc = training_compute(ARCH / "gpt3-175b.yaml", tokens="300e9")
    c = tc.counting
    assert c.active_params == GPT3_PARAMS and c.forward_flops == GPT3_FORWARD
    assert c.examples_seen.low == 146_484_375
    assert c.six_nd.low == pytest.approx(3.142876667904e23, rel=1e-12)
    assert c.training_flops.low == pytest.approx(3 * GPT3_FORWARD * 146_484_375, rel=1e-12)
    assert c.training_flops.low == pytest.approx(3.229120290816e23, rel=1e-12)
    # ratio 3.2291e23 / 3.1429e23 = 1.0274
    assert c.ratio_to_6nd == pytest.approx(1.02744, abs=1e-4)
    assert c.published["value"] == 3.14e23


def test_moe_uses_active_params():
    # Mixtral: 6·N·D with N = active params, not total
    tc = training_compute(ARCH / "mixtral-8x7b.yaml", tokens=1e12)
    c = tc.counting
    assert c.moe and c.active_params < c.params
    assert c.six_nd.low == pytest.approx(6 * c.active_params * 1e12)
    assert any("active" in n for n in c.notes)


def test_generation_term_is_forward_only():
    # AlphaZero-style: training plus 1e9 forward-only passes for self-play
    # training 4.69415616768e17; generation 1e9 x 1.448813632e9 = 1.448813632e18
    tc = training_compute(ARCH / "alexnet.yaml", examples=1.2e6, epochs=90, generation_passes=1e9)
    c = tc.counting
    assert c.generation_flops.low == pytest.approx(1.448813632e18)
    assert tc.flops == pytest.approx(4.69415616768e17 + 1.448813632e18)


def test_tokens_need_a_sequence_model():
    with pytest.raises(InputError, match="--examples"):
        training_compute(ARCH / "alexnet.yaml", tokens=1e9)


# ------------------------------------------------------------------------------- together

def test_both_methods_implied_utilisation():
    # AlexNet on 2 GTX 580 (1.581e12 fp32) for 5-6 days: capacity 2 x 1.581e12 x 432000-518400 s
    # = 1.365984e18 - 1.6391808e18; implied = 4.69415616768e17 / capacity = 0.2864 - 0.3436
    tc = training_compute(ARCH / "alexnet.yaml", examples=1.2e6, epochs=90,
                          hardware="GTX 580", chips=2, days="5-6")
    iu = tc.implied_utilisation
    assert iu.low == pytest.approx(4.69415616768e17 / 1.6391808e18)
    assert iu.high == pytest.approx(4.69415616768e17 / 1.365984e18)
    assert tc.verdict == "plausible"
    d = tc.to_dict()
    assert d["method"] == "operation counting" and d["flops"] == pytest.approx(4.69415616768e17)
    assert d["implied_utilisation"]["low"] == pytest.approx(iu.low)


def test_verdicts():
    assert judge_utilisation(Interval.of(1.2))[0] == "impossible"
    assert judge_utilisation(Interval.of(0.9))[0] == "suspicious"
    assert judge_utilisation(Interval.of(0.01))[0] == "suspicious"
    assert judge_utilisation(Interval.of(0.4))[0] == "plausible"
    # GPT-3 in one V100-day is impossible: 3.229e23 / (86400 x 1.25e14 = 1.08e19) = 29,899
    tc = training_compute(ARCH / "gpt3-175b.yaml", tokens=300e9, hardware="V100", gpu_days=1)
    assert tc.verdict == "impossible"
    assert tc.implied_utilisation.low == pytest.approx(3.229120290816e23 / 1.08e19)


# ------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("kw, match", [
    (dict(hardware="V1000", days=1), "closest: nvidia-v100-sxm2"),
    (dict(hardware="GTX 1080 Ti", days=1, precision="bf16"), r"has no bf16 peak .*it has: fp64, fp32, fp16"),
    (dict(hardware="V100", days=0), "--days must be positive"),
    (dict(hardware="V100", days=-2), "--days must be positive"),
    (dict(hardware="V100", days=1, chips=0), "--chips must be positive"),
    (dict(hardware="V100", days=1, utilisation=1.5), "--utilisation must be at most 1"),
    (dict(hardware="V100", days=1, utilisation="0.3-1.2"), "--utilisation must be at most 1"),
    (dict(hardware="V100", days="5-x"), "cannot read --days '5-x'"),
    (dict(hardware="V100", days="9-5"), "low end above its high end"),
    (dict(hardware="V100"), "needs a time"),
    (dict(hardware="V100", days=1, hours=2), "one time, not several"),
    (dict(hardware="V100", gpu_days=3, chips=8), "already summed over chips"),
    (dict(), "nothing to estimate"),
    (dict(tokens=1e9), "need a spec"),
])
def test_bad_input_is_one_line(kw, match):
    with pytest.raises(InputError, match=match) as e:
        training_compute(**kw)
    assert "\n" not in str(e.value)


def test_counting_needs_examples_or_tokens():
    with pytest.raises(InputError, match="--tokens D"):
        training_compute(ARCH / "alexnet.yaml")
    with pytest.raises(InputError, match="not both"):
        training_compute(ARCH / "gpt3-175b.yaml", tokens=1, examples=1)


def test_range_parsing_forms():
    from estimator.units import parse_range

    assert parse_range("0.3-0.5") == Interval(0.3, 0.5)
    assert parse_range("1e-3-2e-3") == Interval(0.001, 0.002)     # exponents keep their sign
    assert parse_range("80 to 95") == Interval(80, 95)
    assert parse_range("1.2M-1.5M") == Interval(1.2e6, 1.5e6)
    assert parse_range((2, 4)) == Interval(2, 4)
    assert Interval(2, 8).central == 4                             # sqrt(2 x 8)


def test_counting_with_a_token_range():
    # GPT-3 on 250e9-300e9 tokens: 6ND low 6 x 174,604,259,328 x 250e9 = 2.61906388992e23
    tc = training_compute(ARCH / "gpt3-175b.yaml", tokens="250e9-300e9")
    assert tc.counting.six_nd.low == pytest.approx(2.61906388992e23, rel=1e-12)
    assert tc.counting.six_nd.high == pytest.approx(3.142876667904e23, rel=1e-12)
    assert tc.flops == pytest.approx(math.sqrt(tc.low * tc.high))


def test_precision_synonyms_and_unknown():
    tc = training_compute(hardware="A100", chips=1, seconds=1, utilisation=1, precision="TF32")
    assert tc.flops == pytest.approx(156e12)
    tc = training_compute(hardware="A100", chips=1, seconds=1, utilisation=1, precision="half")
    assert tc.hardware.precision == "fp16"
    with pytest.raises(InputError, match="unknown precision 'fp128'"):
        training_compute(hardware="A100", days=1, precision="fp128")
