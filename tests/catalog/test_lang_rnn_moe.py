"""Catalog specs that need the recurrent, hierarchical-MoE, additive-attention, projected-LSTM
and highway rooms (issue 20): GNMT, Shazeer et al.'s 137B MoE-131072-h, ELMo, and GLaM's
alternating dense/MoE decoder. Exact counts with the arithmetic."""
from __future__ import annotations

from pathlib import Path

from estimator.analytic import analyze, compare_published, load_spec

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def count(name):
    return analyze(load_spec(ARCH / name))


def published(name):
    return {row["key"]: row for row in compare_published(count(name))}


def lstm(i, h, p=None):
    """One PyTorch LSTM layer and direction: 4h x i + 4h x (p or h) + two biases (+ p x h)."""
    return 4 * h * i + 4 * h * (p or h) + 2 * 4 * h + (p * h if p else 0)


def test_moe_131072_h_reproduces_table_8():
    r = count("sparsely-gated-moe-137b.yaml")
    experts = 256 * 512 * (512 * 1024 + 1024 * 512)          # 131,072 experts of 1M
    gates = 2 * (512 * 256) + 2 * 256 * (512 * 512)          # noisy primary and 256 secondaries
    assert experts == 137_438_953_472 and gates == 134_479_872
    assert r.params == 137_577_635_840 == experts + gates + 2 * lstm(512, 512)
    # Table 8: 137,577.6M parameters excluding embedding and softmax
    assert round(r.params / 1e5) / 10 == 137_577.6
    # ops/timestep (one step): LSTMs 2 x 4 x 512 x 1,024; noisy gates 2 x 512 x 256 and
    # 2 groups x 2 x 512 x 512; 4 experts x 1M -> 9,699,328 multiply-adds (Table 8: 9.7M)
    assert r.macs == 9_699_328 == 2 * 4 * 512 * 1024 + 2 * 512 * 256 + 2 * 2 * 512 * 512 \
        + 4 * 1_048_576
    # active: the primary gates, 2 of the 256 secondary gate pairs, 4 experts, the LSTMs
    assert r.active_params == 2 * 512 * 256 + 2 * 2 * 512 * 512 + 4 * 1_048_576 + 2 * lstm(512, 512)
    assert published("sparsely-gated-moe-137b.yaml")["macs"]["published"] == 9.7e6


def test_gnmt():
    r = count("gnmt.yaml")
    d = 1024
    encoder = 2 * lstm(d, d) + lstm(2 * d, d) + 6 * lstm(d, d)   # bi-directional bottom layer
    decoder = lstm(d, d) + 7 * lstm(2 * d, d)                    # upper layers read [y; context]
    attention = 2 * d * 1024 + 1024                               # W, U and v, 1,024 units
    tables = 2 * 32000 * d + (d * 32000 + 32000)                  # two embeddings, softmax
    assert r.params == 276_734_208 == encoder + decoder + attention + tables
    assert abs(r.params / 278e6 - 1) < 0.005                    # Shazeer et al., Table 2
    # forward at S = T = 30: LSTMs 2 x 30 x 4h x (i + h) each; attention 2 x 30 x 1024 x 1024
    # (queries) + the same for keys, 2 x 30 x 30 x 1024 (v) + 2 x 30 x 30 x 1024 (context);
    # softmax 2 x 30 x 1024 x 32,000
    t = 30
    lstm_flops = 2 * t * 4 * d * (2 * (d + d) + (2 * d + d) + 6 * (d + d)
                                  + (d + d) + 7 * (2 * d + d))
    attn_flops = 2 * (2 * t * d * 1024) + 2 * t * t * 1024 + 2 * t * t * d
    assert r.forward_flops == lstm_flops + attn_flops + 2 * t * d * 32000 == 12_665_241_600


def test_elmo():
    r = count("elmo.yaml")
    widths = {1: 32, 2: 32, 3: 64, 4: 128, 5: 256, 6: 512, 7: 1024}
    cnn = 262 * 16 + sum(16 * w * f + f for w, f in widths.items())   # 4,192 + 199,168
    highway = 2 * 2 * (2048 * 2048 + 2048)
    projection = 2048 * 512 + 512
    bilm = 2 * 2 * lstm(512, 4096, 512)                      # 2 directions x 2 layers
    assert lstm(512, 4096, 512) == 18_907_136
    assert r.params == 93_666_400 == cnn + highway + projection + bilm
    # AllenNLP keeps one bias per gate: 93,600,864, its documented 93.6M
    assert r.params - 4 * 4 * 4096 == 93_600_864
    assert r.output_shape == (20, 1024)


def test_glam_reproduces_table_4_active_parameters():
    r = count("glam.yaml")
    d, f = 8192, 32768
    attn = 4 * d * 128 * 128                  # 128 heads of 128: 16,384 wide
    dense_ffn = 3 * d * f                     # gated GELU in the non-MoE layers
    expert = 2 * d * f                        # plain GELU experts
    router = d * 64
    table, norms, bias = 256000 * d, (4 * 32 + 1) * d, 32 * 128
    assert r.params == 1_161_756_160_000 == \
        32 * (2 * attn + dense_ffn + 64 * expert + router) + table + norms + bias
    # Table 4's 96.6B activated parameters: 2 of the 64 experts in each MoE layer
    assert r.active_params == 96_604_270_592 == \
        32 * (2 * attn + dense_ffn + 2 * expert + router) + table + norms + bias
    assert round(r.active_params / 1e8) / 10 == 96.6
    rows = published("glam.yaml")
    assert rows["params"]["published"] == 1.2e12 and round(rows["params"]["ratio"], 3) == 0.968
