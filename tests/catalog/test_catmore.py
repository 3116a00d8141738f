"""Released configs (and one spec) added for the names Epoch's export spells most often: exact
counts from the config values, and the sample's spellings resolving to the entry."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.curation import catalog as cat

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def dense(V, h, L, q, kv, ffn, tied, qkv_bias=False, qk_norm=0):
    """A llama-style decoder: embedding V x h (and an output table unless tied); per layer q and
    o projections h x q, k and v h x kv (biases q + 2 kv if qkv_bias), two RMSNorms 2h, a
    per-head q/k RMSNorm 2 x qk_norm, SwiGLU 3 h ffn; a final RMSNorm h."""
    layer = 2 * h * q + 2 * h * kv + (q + 2 * kv if qkv_bias else 0) + 2 * h + 2 * qk_norm + 3 * h * ffn
    return V * h * (1 if tied else 2) + L * layer + h


CASES = [
    # stem, count, the arithmetic (released config.json values)
    ("qwen3-14b", dense(151936, 5120, 40, 40 * 128, 8 * 128, 17408, False, qk_norm=128), 14_768_307_200),
    ("qwen3-4b", dense(151936, 2560, 36, 32 * 128, 8 * 128, 9728, True, qk_norm=128), 4_022_468_096),
    ("qwen3-1.7b", dense(151936, 2048, 28, 16 * 128, 8 * 128, 6144, True, qk_norm=128), 1_720_574_976),
    ("qwen3-0.6b", dense(151936, 1024, 28, 16 * 128, 8 * 128, 3072, True, qk_norm=128), 596_049_920),
    ("qwen1.5-7b", dense(151936, 4096, 32, 4096, 4096, 11008, False, qkv_bias=True), 7_721_324_544),
    ("qwen1.5-32b", dense(152064, 5120, 64, 5120, 1024, 27392, False, qkv_bias=True), 32_512_218_112),
    ("qwen1.5-72b", dense(152064, 8192, 80, 8192, 8192, 24576, False, qkv_bias=True), 72_287_920_128),
    ("qwen1.5-110b", dense(152064, 8192, 80, 8192, 1024, 49152, False, qkv_bias=True), 111_209_914_368),
    ("qwen2.5-coder-32b", dense(152064, 5120, 64, 5120, 1024, 27648, False, qkv_bias=True), 32_763_876_352),
    ("qwen2.5-coder-1.5b", dense(151936, 1536, 28, 1536, 256, 8960, True, qkv_bias=True), 1_543_714_304),
    ("codestral-22b", dense(32768, 6144, 56, 6144, 1024, 16384, False), 22_247_282_688),
    ("mistral-small-2409", dense(32768, 6144, 56, 6144, 1024, 16384, False), 22_247_282_688),
    ("mistral-small-3", dense(131072, 5120, 40, 32 * 128, 8 * 128, 32768, False), 23_572_403_200),
    ("mistral-nemo-12b", dense(131072, 5120, 40, 32 * 128, 8 * 128, 14336, False), 12_247_782_400),
    # Ministral 8B: the model card's architecture table states 8,019,808,256 exactly
    ("ministral-8b", dense(131072, 4096, 36, 4096, 1024, 12288, False), 8_019_808_256),
    ("mistral-large-2", dense(32768, 12288, 88, 96 * 128, 8 * 128, 28672, False), 122_610_069_504),
    ("yi-6b", dense(64000, 4096, 32, 4096, 512, 11008, False), 6_061_035_520),
    ("yi-1.5-9b", dense(64000, 4096, 48, 4096, 512, 11008, False), 8_829_407_232),
    ("smollm-1.7b", dense(49152, 2048, 24, 2048, 2048, 8192, True), 1_711_376_384),
    ("exaone-3.5-32b", dense(102400, 5120, 64, 40 * 128, 8 * 128, 27392, False), 32_003_200_000),
    ("exaone-3.5-7.8b", dense(102400, 4096, 32, 4096, 1024, 14336, False), 7_818_448_896),
    ("exaone-3.5-2.4b", dense(102400, 2560, 30, 32 * 80, 8 * 80, 7168, True), 2_405_327_360),
    ("exaone-3.0-7.8b", dense(102400, 4096, 32, 4096, 1024, 14336, False), 7_818_448_896),
    ("granite-3.0-8b", dense(49155, 4096, 40, 4096, 1024, 12800, True), 8_170_848_256),
    ("granite-3.1-8b", dense(49155, 4096, 40, 4096, 1024, 12800, True), 8_170_848_256),
    ("granite-3.0-2b", dense(49155, 2048, 40, 2048, 512, 8192, True), 2_533_531_648),
    ("granite-3.1-2b", dense(49155, 2048, 40, 2048, 512, 8192, True), 2_533_531_648),
]


@pytest.mark.parametrize("stem,formula,count", CASES, ids=[c[0] for c in CASES])
def test_decoder_counts(stem, formula, count):
    assert formula == count
    assert analyze(load_spec(ARCH / f"{stem}.yaml")).params == count


def test_gemma_1_1_7b_is_gemma_7b_released():
    # Gemma 7B: 256,000 x 3,072 tied embedding + 28 x (q, k, v, o 4 x 3,072 x 4,096 + GeGLU
    # 3 x 3,072 x 24,576 + 2 x 3,072) + 3,072 = 8,537,680,896 (Table 2's 8,538,074,112 less 128 rows)
    r = analyze(load_spec(ARCH / "gemma-1.1-7b.yaml"))
    assert r.params == 256000 * 3072 + 28 * (4 * 3072 * 4096 + 3 * 3072 * 24576 + 2 * 3072) + 3072
    assert r.params == 8_537_680_896 == 8_538_074_112 - 128 * 3072


def test_ul2_tied_t5():
    # shared 32,128 x 4,096; encoder 32 x (attention 4 x 4,096 x 4,096 + gated-SiLU 3 x 4,096 x
    # 16,384 + 2 norms) + relative bias 32 x 16 + norm; decoder 32 x (2 attentions + FFN + 3 norms)
    # + bias 32 x 16 + norm; the lm_head is the shared table (transformers 5 ties it)
    d, a, f = 4096, 4 * 4096 * 4096, 3 * 4096 * 16384
    n = 32128 * d + 32 * (a + f + 2 * d) + 512 + d + 32 * (2 * a + f + 3 * d) + 512 + d
    assert analyze(load_spec(ARCH / "ul2-20b.yaml")).params == n == 19_459_613_696


def test_xlm_roberta_large():
    # embeddings 250,002 x 1,024 + 514 x 1,024 + 1 x 1,024 + LN 2,048; 24 x (attention
    # 4 x (1,024^2 + 1,024) + LN + FFN 1,024 x 4,096 + 4,096 + 4,096 x 1,024 + 1,024 + LN);
    # masked-LM head: dense 1,024^2 + 1,024, LN 2,048, decoder tied + bias 250,002
    h = 1024
    layer = 4 * (h * h + h) + 2 * h + (h * 4096 + 4096) + (4096 * h + h) + 2 * h
    n = 250002 * h + 514 * h + h + 2 * h + 24 * layer + (h * h + h) + 2 * h + 250002
    assert analyze(load_spec(ARCH / "xlm-roberta-large.yaml")).params == n == 560_142_482


def test_whisper_large_v3_differs_from_large_by_mels_and_one_token():
    v1 = analyze(load_spec(ARCH / "whisper-large.yaml")).params
    v3 = analyze(load_spec(ARCH / "whisper-large-v3.yaml")).params
    # conv1 has 128 - 80 = 48 more input channels (48 x 1,280 x 3) and the tied table one more row
    assert v3 - v1 == 48 * 1280 * 3 + 1280 == 185_600
    assert v3 == 1_541_570_560


def test_deepseek_v2_5_has_deepseek_v2s_count():
    v2 = analyze(load_spec(ARCH / "deepseek-v2.yaml"))
    v25 = analyze(load_spec(ARCH / "deepseek-v2.5.yaml"))
    assert (v25.params, v25.active_params) == (v2.params, v2.active_params) == (235_741_434_880, 21_375_800_320)


# the spelling in the shared sample (Model or Base model column) -> the entry it names
SPELLINGS = {
    "Qwen3-14B": "Qwen3-14B", "Qwen3-4B": "Qwen3-4B", "Qwen3-1.7B": "Qwen3-1.7B", "Qwen3-0.6B": "Qwen3-0.6B",
    "Qwen1.5-7B": "Qwen1.5-7B", "Qwen1.5-32B": "Qwen1.5-32B", "Qwen1.5-72B": "Qwen1.5-72B",
    "Qwen1.5-110B": "Qwen1.5-110B", "Qwen2.5-Coder (32B)": "Qwen2.5-Coder-32B",
    "Qwen2.5-Coder (1.5B)": "Qwen2.5-Coder-1.5B", "Codestral": "Codestral",
    "Mistral Small v24.09": "Mistral Small v24.09", "Mistral Small 3": "Mistral Small 3",
    "Mistral NeMo": "Mistral NeMo", "Ministral 8B": "Ministral 8B", "Mistral Large 2": "Mistral Large 2",
    "Gemma 1.1 7B Instruct": "Gemma 1.1 7B", "Yi 6B": "Yi-6B", "Yi-1.5-9B": "Yi-1.5-9B",
    "SmolLM-1.7B": "SmolLM-1.7B", "EXAONE 3.5 32B": "EXAONE 3.5 32B", "EXAONE 3.5 7.8B": "EXAONE 3.5 7.8B",
    "EXAONE 3.5 2.4B": "EXAONE 3.5 2.4B", "EXAONE 3.0": "EXAONE 3.0 7.8B", "Granite 3.0 8B": "Granite 3.0 8B",
    "Granite 3.0 2B": "Granite 3.0 2B", "Granite 3.1 8B": "Granite 3.1 8B", "Granite 3.1 2B": "Granite 3.1 2B",
    "UL2": "UL2", "XLM-RoBERTa": "XLM-RoBERTa", "Whisper v3": "Whisper large-v3", "DeepSeek-V2.5": "DeepSeek-V2.5",
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_sample_spelling_resolves(spelling):
    entry = cat.lookup(spelling)
    assert entry is not None and entry.name == SPELLINGS[spelling]


def test_neighbours_keep_their_own_entries():
    # a new entry must not capture an older system's name
    assert cat.lookup("Gemma 7B").name == "Gemma 7B"
    assert cat.lookup("Whisper").name == "Whisper large"
    assert cat.lookup("DeepSeek-V2").name == "DeepSeek-V2"
    assert cat.lookup("Qwen3-8B").name == "Qwen3-8B"
