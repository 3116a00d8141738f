"""Training memory, inference and compute-optimal formulas, by hand (torch-free)."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.costs.inference import (decode_flops, decoder, inference, mha_cache_elems,
                                       mla_cache_elems, prefill_flops)
from estimator.costs.memory import (activation_bytes_per_layer, bytes_per_param,
                                    training_memory)
from estimator.costs.plan import FITS, plan
from estimator.curation.systems import system_of
from estimator.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
ARCH = ROOT / "archspecs"
DATA = Path(__file__).parent / "data"


# ------------------------------------------------------------------ training memory

def test_bytes_per_param_zero_table():
    assert bytes_per_param("bf16", "adamw") == (2, 2, 12)   # ZeRO s3.1: 2 + 2 + K=12
    assert bytes_per_param("fp32", "adam") == (4, 4, 8)
    assert bytes_per_param("fp16", "momentum") == (2, 2, 8)  # master 4 + momentum 4
    assert bytes_per_param("fp32", "sgd") == (4, 4, 0)
    with pytest.raises(InputError, match="fp8 training"):
        bytes_per_param("fp8", "adamw")


def test_korthikanti_activations():
    s, b, h, a = 2048, 1, 12288, 96
    # no recomputation: sbh(34 + 5as/h) = 2048*12288*(34 + 5*96*2048/12288) = 25165824*114
    assert activation_bytes_per_layer(s, b, h, a) == 25165824 * 114
    # selective recomputation + sequence parallel over t=8: 34sbh/8
    assert activation_bytes_per_layer(s, b, h, a, t=8, recompute="selective") == 34 * 25165824 / 8
    assert activation_bytes_per_layer(s, b, h, a, recompute="full") == 2 * 25165824
    # t=8 without sequence parallelism, eq. 2: sbh(10 + 24/8 + 5as/(8h)) = sbh(10 + 3 + 10)
    assert activation_bytes_per_layer(s, b, h, a, t=8, sequence_parallel=False) == 25165824 * 23


def test_zero_stages_and_fit():
    n = 70e9
    # 70B, bf16 Adam, ZeRO-3 over 64 ranks: 16 * 70e9 / 64 = 17.5e9 bytes of model states
    m = training_memory(params=70e9, zero=3, dp=64, hardware="H100")
    assert m.model_states == 16 * n / 64 and m.activations == 0
    assert m.fits is True and m.margin == 80e9 - 17.5e9
    m1 = training_memory(params=70e9, zero=1, dp=64)
    assert m1.model_states == 4 * n + 12 * n / 64      # 2.9e11: does not fit on one chip
    m2 = training_memory(params=70e9, zero=2, dp=64)
    assert m2.model_states == 2 * n + 14 * n / 64
    m_tp = training_memory(params=70e9, tp=8, pp=8)
    assert m_tp.model_states == 16 * n / 64


def test_gpt3_memory_from_spec():
    m = training_memory(ARCH / "gpt3-175b.yaml", batch=1, recompute="selective", tp=8, pp=8,
                        zero=1, dp=64, hardware="H100")
    n = 174_604_259_328
    assert (m.layers, m.hidden, m.heads, m.seq_len, m.params) == (96, 12288, 96, 2048, n)
    assert m.weights == 2 * n / 64 and m.optimizer_states == 12 * n / 64 / 64
    assert m.activations == 96 * 34 * 2048 * 12288 / 8   # 1F1B: all 96 layers' worth
    assert m.fits


# ------------------------------------------------------------------ inference

def test_kv_cache_hand_figures():
    # Llama 2 7B (MHA): 32 layers x 2 x 32 heads x 128 x 2 bytes = 524,288 bytes per token
    inf = inference(ARCH / "llama-2-7b.yaml", prompt=4096, generate=0, batch=1)
    assert inf.kv_bytes_per_token == 524_288
    assert inf.kv_bytes == 524_288 * 4096                 # 2 GiB for a full 4k context
    assert inf.weight_bytes == 2 * 6_738_415_616
    # Llama 3 8B (GQA, 8 kv heads): 32 x 2 x 8 x 128 x 2 = 131,072
    assert 32 * mha_cache_elems(8, 128) * 2 == 131_072
    inf8 = inference(DATA / "llama-tiny.yaml", overrides={"d": "4096", "heads": "32",
                     "kv_heads": "8", "layers": "32", "ffn": "14336", "vocab": "128256"},
                     prompt=1, generate=0)
    assert inf8.kv_bytes_per_token == 131_072
    # MQA: one kv head -> 32 x 2 x 128 x 2 = 16,384
    assert inference(DATA / "llama-tiny.yaml", overrides={"d": "4096", "heads": "32",
                     "kv_heads": "1", "layers": "32"}, prompt=1, generate=0
                     ).kv_bytes_per_token == 16_384
    # DeepSeek-V2-Lite (MLA): 27 layers x (kv_lora_rank 512 + rope 64) x 2 bytes = 31,104
    assert 27 * mla_cache_elems(512, 64) * 2 == 31_104


def test_prefill_and_decode_by_hand():
    d = decoder(DATA / "llama-tiny.yaml")
    # linear per token: q 64x64, k,v 64x32 each, o 64x64 -> 12288 per layer; MLP 3x64x160 =
    # 30720; 2 layers -> 86016 weights, + lm_head 64x128 = 8192: 94208 x 2 = 188,416 FLOPs
    assert d.linear_flops_per_token == 188_416
    # per cached key: 2 * 4 heads * (16 + 16) = 256 per layer, 2 layers -> 512
    assert d.attn_flops_per_key == 512
    assert decode_flops(d, 10) == 188_416 + 10 * 512
    assert prefill_flops(d, 16) == 16 * 188_416 + 16 * 16 * 512
    assert prefill_flops(d, 16, "half") == 16 * 188_416 + 128 * 512
    inf = inference(d, prompt=4, generate=3, batch=2)
    # decode at L = 5, 6, 7: 3 * 188416 + 512 * 18, times batch 2
    assert inf.decode_flops_total == 2 * (3 * 188_416 + 512 * 18)
    # the spec's forward at T = 16 is exactly the prefill of 16 tokens (full matrix)
    from estimator import count

    assert count(DATA / "llama-tiny.yaml").forward_flops == prefill_flops(d, 16)


def test_moe_active_weights():
    inf = inference(ARCH / "mixtral-8x7b.yaml", prompt=16, generate=1, precision="fp8")
    assert inf.weight_bytes == 46_702_792_704 and inf.active_weight_bytes == 12_879_925_248
    assert inf.kv_bytes_per_token == 32 * 2 * 8 * 128 * 1   # GQA cache in fp8


def test_infer_bad_input():
    with pytest.raises(InputError, match="--batch"):
        inference(DATA / "llama-tiny.yaml", batch=0)
    with pytest.raises(InputError, match="precision 'fp7'"):
        inference(DATA / "llama-tiny.yaml", precision="fp7")


# ------------------------------------------------------------------ plan

def test_plan_by_hand():
    p = plan(budget=5.76e23)
    a1, a2, a3, bes = p.optima
    assert a1.params == pytest.approx(67e9) and a2.params == pytest.approx(67e9)  # the anchor
    # approach 3: G = (0.34*406.4/(0.28*410.7))^(1/0.62) = 1.3448, a = 0.28/0.62 = 0.45161
    G = (0.34 * 406.4 / (0.28 * 410.7)) ** (1 / 0.62)
    assert a3.params == pytest.approx(G * (5.76e23 / 6) ** (0.28 / 0.62))
    assert a3.params == pytest.approx(3.24e10, rel=1e-2)
    # Besiroglu: a = 0.3658/0.7136 = 0.5126; about 20 tokens per parameter (18-19 here)
    assert 17 < bes.tokens_per_param < 20
    assert a1.tokens == pytest.approx(5.76e23 / (6 * 67e9))   # C = 6ND: 1.43e12
    p1e24 = plan(budget=1e24)
    # approach 1: 67e9 * (1e24/5.76e23)^0.5 = 67e9 * 1.3176 = 8.828e10
    assert p1e24.optima[0].params == pytest.approx(67e9 * (1e24 / 5.76e23) ** 0.5)
    lo, hi = p1e24.optima[1].params_low, p1e24.optima[1].params_high
    assert lo == pytest.approx(67e9 * (1e24 / 5.76e23) ** 0.462)
    assert hi == pytest.approx(67e9 * (1e24 / 5.76e23) ** 0.534)


def test_plan_inverse_and_system():
    for fit in FITS:
        n = plan(params=70e9).optima[FITS.index(fit)]
        assert n.params == pytest.approx(70e9)          # the budget at which 70B is optimal
        d = plan(tokens=1.4e12).optima[FITS.index(fit)]
        assert d.tokens == pytest.approx(1.4e12, rel=1e-9)
    s = system_of("Llama 2 7B")
    assert s == {"name": "Llama 2 7B", "params": 6_738_415_616, "tokens": 2e12}
    p = plan(system=s)
    assert p.system["budget"] == 6 * 6_738_415_616 * 2e12
    assert p.system["tokens_per_param"] == pytest.approx(2e12 / 6_738_415_616)  # 296.8
    # GPT-3's training block gives 300e9 tokens: budget 6 x 174,604,259,328 x 300e9
    assert plan(system=system_of("GPT-3 175B")).system["budget"] == 6 * 174_604_259_328 * 300e9
    with pytest.raises(InputError, match="give --tokens"):  # Mistral AI published no tokens
        plan(system=system_of("Mistral 7B"))
    with pytest.raises(InputError, match="one of --budget"):
        plan()
