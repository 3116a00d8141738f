"""Released configs added for systems the shared sample names without a recount (Phi-4, Phi-3.5-mini,
Qwen2-7B, Qwen2-57B-A14B, DeepSeek LLM 7B / 67B, Baichuan-7B / 13B,
OpenLLaMA-13B): exact counts from the config values, and the
sample's spellings resolving to the entry."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.curation import catalog as cat

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def dense(V, h, L, q, kv, ffn, qkv_bias=False):
    """An untied llama-style decoder: input and output tables 2 x V x h; per layer q and o
    projections h x q, k and v h x kv (biases q + 2 kv if qkv_bias), two RMSNorms 2h, SwiGLU
    3 h ffn; a final RMSNorm h. (Phi-3's fused qkv and gate_up hold the same weights.)"""
    layer = 2 * h * q + 2 * h * kv + (q + 2 * kv if qkv_bias else 0) + 2 * h + 3 * h * ffn
    return 2 * V * h + L * layer + h


CASES = [
    # stem, count by the formula (released config.json values), the exact figure
    # Phi-4: 100,352 x 5,120 x 2 + 40 x (2 x 5,120 x 5,120 + 2 x 5,120 x 1,280 + 10,240
    # + 3 x 5,120 x 17,920) + 5,120
    ("phi-4", dense(100352, 5120, 40, 5120, 10 * 128, 17920), 14_659_507_200),
    # Phi-3.5-mini: the Phi-3-mini shape, 32,064 x 3,072 x 2 + 32 x (4 x 3,072^2 + 6,144
    # + 3 x 3,072 x 8,192) + 3,072
    ("phi-3.5-mini", dense(32064, 3072, 32, 3072, 3072, 8192), 3_821_079_552),
    # Qwen2-7B: 152,064 x 3,584 x 2 + 28 x (2 x 3,584^2 + 2 x 3,584 x 512 + biases 4,608
    # + 7,168 + 3 x 3,584 x 18,944) + 3,584
    ("qwen2-7b", dense(152064, 3584, 28, 3584, 4 * 128, 18944, qkv_bias=True), 7_615_616_512),
    # DeepSeek LLM 7B: 102,400 x 4,096 x 2 + 30 x (4 x 4,096^2 + 8,192 + 3 x 4,096 x 11,008) + 4,096
    ("deepseek-llm-7b", dense(102400, 4096, 30, 4096, 4096, 11008), 6_910_365_696),
    # DeepSeek LLM 67B: 102,400 x 8,192 x 2 + 95 x (2 x 8,192^2 + 2 x 8,192 x 1,024 + 16,384
    # + 3 x 8,192 x 22,016) + 8,192
    ("deepseek-llm-67b", dense(102400, 8192, 95, 8192, 8 * 128, 22016), 67_425_001_472),
    # Baichuan-7B (LLaMA layout, W_pack = q, k, v): 64,000 x 4,096 x 2 + 32 x (4 x 4,096^2 + 8,192
    # + 3 x 4,096 x 11,008) + 4,096 = the README's total 7,000,559,616 to the parameter
    ("baichuan-7b", dense(64000, 4096, 32, 4096, 4096, 11008), 7_000_559_616),
    # Baichuan-13B: 64,000 x 5,120 x 2 + 40 x (4 x 5,120^2 + 10,240 + 3 x 5,120 x 13,696) + 5,120
    # = the README's total 13,264,901,120 to the parameter
    ("baichuan-13b", dense(64000, 5120, 40, 5120, 5120, 13696), 13_264_901_120),
    # OpenLLaMA-13B: the LLaMA 13B shape, 32,000 x 5,120 x 2 + 40 x (4 x 5,120^2 + 10,240
    # + 3 x 5,120 x 13,824) + 5,120
    ("openllama-13b", dense(32000, 5120, 40, 5120, 5120, 13824), 13_015_864_320),
]


@pytest.mark.parametrize("stem,formula,count", CASES, ids=[c[0] for c in CASES])
def test_decoder_counts(stem, formula, count):
    assert formula == count
    assert analyze(load_spec(ARCH / f"{stem}.yaml")).params == count


def test_qwen2_57b_a14b_total_and_active():
    # attention: q 3,584^2 + 3,584, k and v 3,584 x 512 + 512 each, o 3,584^2 = 29,364,736;
    # norms 2 x 3,584; router 64 x 3,584; shared-expert gate 3,584; each expert 3 x 3,584 x 2,560
    # = 27,525,120; the shared expert 3 x 3,584 x 20,480 = 220,200,960; tables 2 x 151,936 x 3,584
    h = 3584
    attn = 2 * h * h + 2 * h * 512 + h + 2 * 512
    assert attn == 29_364_736
    expert, shared = 3 * h * 2560, 3 * h * 20480
    fixed = attn + 2 * h + 64 * h + h + shared
    tables = 2 * 151936 * h
    total = 28 * (fixed + 64 * expert) + tables + h
    active = 28 * (fixed + 8 * expert) + tables + h
    r = analyze(load_spec(ARCH / "qwen2-57b-a14b.yaml"))
    assert (r.params, r.active_params) == (total, active) == (57_408_658_944, 14_249_270_784)


# the spelling in the shared sample (Model or Base model column) -> the entry it names
SPELLINGS = {
    "Phi-4": "Phi-4", "phi-3.5-mini": "Phi-3.5-mini", "Qwen2-7B": "Qwen2-7B",
    "Qwen2-57B-A14B": "Qwen2-57B-A14B", "DeepSeek LLM 67B": "DeepSeek LLM 67B",
    "DeepSeek LLM 7B": "DeepSeek LLM 7B", "Baichuan1-7B": "Baichuan-7B", "Baichuan 1-13B": "Baichuan-13B",
    "OpenLLaMA-13B": "OpenLLaMA-13B",
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_sample_spelling_resolves(spelling):
    entry = cat.lookup(spelling)
    assert entry is not None and entry.name == SPELLINGS[spelling]


def test_neighbours_keep_their_own_entries():
    # the new entries must not capture an older system's name
    assert cat.lookup("phi-3-mini 3.8B").name == "Phi-3-mini"
    assert cat.lookup("Qwen2-72B").name == "Qwen2-72B"
    assert cat.lookup("Qwen2.5-7B").name == "Qwen2.5-7B"
    assert cat.lookup("DeepSeek-V2").name == "DeepSeek-V2"
    assert cat.lookup("LLaMA-13B").name == "LLaMA 13B"
    # Baichuan 2 is another system (vocabulary 125,696): its rows must not reach Baichuan 1
    for name in ("Baichuan 2-7B", "Baichuan2-53B", "Baichuan 2-13B"):
        assert cat.lookup(name) is None, name
