"""The catalog's released configs (archspecs with ``config:``): each entry's exact count, and
for the rotary decoders the same count recomputed here from the config values by hand.

The equality with transformers' own models on meta is in tests/test_hf_analytic_torch.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.spec.yamlload import load_yaml_file

ARCH = Path(__file__).resolve().parent.parent / "archspecs"

# file: (params, active params)
EXPECTED = {
    "qwen2.5-0.5b": (494_032_768, None), "qwen2.5-1.5b": (1_543_714_304, None),
    "qwen2.5-3b": (3_085_938_688, None), "qwen2.5-7b": (7_615_616_512, None),
    "qwen2.5-14b": (14_770_033_664, None), "qwen2.5-32b": (32_763_876_352, None),
    "qwen2.5-72b": (72_706_203_648, None), "qwen2-72b": (72_706_203_648, None),
    "qwen1.5-moe-a2.7b": (14_315_784_192, 2_689_173_504),
    "qwen3-8b": (8_190_735_360, None), "qwen3-32b": (32_762_123_264, None),
    "qwen3-30b-a3b": (30_532_122_624, 3_353_032_704),
    "qwen3-235b-a22b": (235_093_634_560, 22_190_763_520),
    "gemma-2b": (2_506_172_416, None), "gemma-7b": (8_537_680_896, None),
    "gemma-2-2b": (2_614_341_888, None), "gemma-2-9b": (9_241_705_984, None),
    "gemma-2-27b": (27_227_128_320, None),
    "phi-3-mini": (3_821_079_552, None), "phi-3-medium": (13_960_238_080, None),
    "llama-3-1-8b": (8_030_261_248, None), "llama-3-1-70b": (70_553_706_496, None),
    "llama-3-3-70b": (70_553_706_496, None), "llama-3-2-1b": (1_235_814_400, None),
    "llama-3-2-3b": (3_212_749_824, None),
    "mixtral-8x22b": (140_620_634_112, 39_152_031_744),
    "olmo-1b": (1_176_764_416, None), "olmo-7b": (6_888_095_744, None),
    "olmoe-1b-7b": (6_919_161_856, 1_282_017_280),
    # the families below: arithmetic in test_other_families
    "gpt-j-6b": (6_050_882_784, None), "gpt-neox-20b": (20_554_567_680, None),
    "falcon-7b": (6_921_720_704, None), "falcon-40b": (41_303_293_952, None),
    "falcon-180b": (178_557_088_768, None), "bloom": (176_247_271_424, None),
    "bloom-7b1": (7_069_016_064, None), "flan-t5-small": (60_511_616, None),
    "flan-t5-base": (222_903_552, None), "flan-t5-large": (750_251_008, None),
    "flan-t5-xl": (2_783_959_040, None), "flan-t5-xxl": (11_003_736_064, None),
    "roberta-base": (124_697_433, None), "roberta-large": (355_412_057, None),
    "deepseek-v2": (235_741_434_880, 21_375_800_320),
    "deepseek-r1": (671_026_404_352, 37_552_282_624),
    # the entries below: arithmetic in tests/catalog/test_catmore.py (one formula a count)
    "qwen3-14b": (14_768_307_200, None), "qwen3-4b": (4_022_468_096, None),
    "qwen3-1.7b": (1_720_574_976, None), "qwen3-0.6b": (596_049_920, None),
    "qwen1.5-7b": (7_721_324_544, None), "qwen1.5-32b": (32_512_218_112, None),
    "qwen1.5-72b": (72_287_920_128, None), "qwen1.5-110b": (111_209_914_368, None),
    "qwen2.5-coder-32b": (32_763_876_352, None), "qwen2.5-coder-1.5b": (1_543_714_304, None),
    "codestral-22b": (22_247_282_688, None), "mistral-small-2409": (22_247_282_688, None),
    "mistral-small-3": (23_572_403_200, None), "mistral-nemo-12b": (12_247_782_400, None),
    "ministral-8b": (8_019_808_256, None), "mistral-large-2": (122_610_069_504, None),
    "yi-6b": (6_061_035_520, None), "yi-1.5-9b": (8_829_407_232, None),
    "smollm-1.7b": (1_711_376_384, None), "exaone-3.5-32b": (32_003_200_000, None),
    "exaone-3.5-7.8b": (7_818_448_896, None), "exaone-3.5-2.4b": (2_405_327_360, None),
    "exaone-3.0-7.8b": (7_818_448_896, None), "granite-3.0-8b": (8_170_848_256, None),
    "granite-3.1-8b": (8_170_848_256, None), "granite-3.0-2b": (2_533_531_648, None),
    "granite-3.1-2b": (2_533_531_648, None), "gemma-1.1-7b": (8_537_680_896, None),
    "ul2-20b": (19_459_613_696, None), "xlm-roberta-large": (560_142_482, None),
    "deepseek-v2.5": (235_741_434_880, 21_375_800_320),
    # the second batch (tests/catalog/test_catmore2.py shows each count's arithmetic)
    "phi-4": (14_659_507_200, None), "phi-3.5-mini": (3_821_079_552, None),
    "qwen2-7b": (7_615_616_512, None), "qwen2-57b-a14b": (57_408_658_944, 14_249_270_784),
    "deepseek-llm-67b": (67_425_001_472, None), "deepseek-llm-7b": (6_910_365_696, None),
    "baichuan-7b": (7_000_559_616, None), "baichuan-13b": (13_264_901_120, None),
    "openllama-13b": (13_015_864_320, None),
    # the third batch (tests/catalog/test_catmore3.py shows each count's arithmetic by family)
    "kogpt": (6_166_502_400, None), "intellect-1": (10_211_381_248, None),
    "marin-8b": (8_030_261_248, None), "opendiloco-1.1b": (1_100_048_384, None),
    "deepseek-coder-33b": (33_342_991_360, None), "deepseek-coder-6.7b": (6_740_512_768, None),
    "code-llama-34b": (33_743_970_304, None), "deepseek-math-7b": (6_910_365_696, None),
    "qwen-14b": (14_167_290_880, None), "qwen-7b": (7_721_324_544, None),
    "qwen2.5-math-7b": (7_615_616_512, None), "yi-1.5-34b": (34_388_917_248, None),
    "poro-34b": (34_216_949_760, None), "bilingual-gpt-neox-4b": (3_796_120_064, None),
    "prott5-xl-u50": (2_818_830_336, None), "prott5-xxl": (11_274_553_344, None),
    "codet5-large": (737_639_424, None), "multilingual-e5-large": (559_890_432, None),
    "arabert": (135_258_880, None), "arabert-large-v2": (369_489_408, None),
    "amber-7b": (6_738_415_616, None), "skywork-13b": (13_854_269_952, None),
    "internlm2-20b": (19_861_149_696, None), "protbert-bfd": (419_933_214, None),
    "mt5-xxl": (11_896_598_528, None),
}


def config(name: str) -> dict:
    return dict(load_yaml_file(ARCH / f"{name}.yaml")["config"])


def counted(name: str):
    return analyze(load_spec(ARCH / f"{name}.yaml"))


def test_every_config_archspec_is_listed():
    files = {p.stem for p in ARCH.glob("*.yaml") if "config" in load_yaml_file(p)}
    assert files == set(EXPECTED) and len(files) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_count(name):
    r = counted(name)
    params, active = EXPECTED[name]
    assert r.params == params
    assert r.active_params == (active or params)


def by_hand(c: dict) -> tuple[int, int]:
    """Params and active params of a rotary decoder from its config values: embedding V·d
    (twice unless tied); per layer q d·h·e, k and v d·g·e each, o h·e·d (Qwen2, Qwen2-MoE: biases
    on q, k, v; Qwen3: 2·e q/k norms; OLMoE: h·e + g·e), norms (2 d-vectors; Gemma 2: 4; OLMo:
    none), a SwiGLU of 3·d·f or, MoE, a router d·E plus E experts of 3·d·f_e (top k active)
    (Qwen1.5-MoE: a shared expert 3·d·f_s and its gate d); the final norm d."""
    mt = c["model_type"]
    d, L, h, v = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"], c["vocab_size"]
    g = c.get("num_key_value_heads", h)
    e = c.get("head_dim", d // h)
    tied = c.get("tie_word_embeddings", mt == "gemma" or mt == "gemma2")
    attn = 2 * d * h * e + 2 * d * g * e
    if mt == "qwen2" or (mt == "qwen2_moe" and c.get("qkv_bias", True)):
        attn += h * e + 2 * g * e
    if mt in ("qwen3", "qwen3_moe"):
        attn += 2 * e
    if mt == "olmoe":
        attn += h * e + g * e
    norms = {"gemma2": 4, "olmo": 0}.get(mt, 2) * d
    final_norm = 0 if mt == "olmo" else d
    experts = c.get("num_local_experts", c.get("num_experts"))
    if experts:
        f = c.get("moe_intermediate_size", c["intermediate_size"])
        k = c["num_experts_per_tok"]
        router = d * experts
        shared = 3 * d * c["shared_expert_intermediate_size"] + d if mt == "qwen2_moe" else 0
        layer = attn + norms + router + shared + experts * 3 * d * f
        active_layer = attn + norms + router + shared + k * 3 * d * f
    else:
        layer = active_layer = attn + norms + 3 * d * c["intermediate_size"]
    emb = v * d * (1 if tied else 2)
    return emb + L * layer + final_norm, emb + L * active_layer + final_norm


@pytest.mark.parametrize("name", [n for n in sorted(EXPECTED) if n.split("-")[0] in
                                  ("qwen2.5", "qwen2", "qwen1.5", "qwen3", "gemma", "phi", "llama",
                                   "mixtral", "olmo", "olmoe")])
def test_rotary_decoders_by_hand(name):
    params, active = by_hand(config(name))
    assert (params, active) == (EXPECTED[name][0], EXPECTED[name][1] or EXPECTED[name][0])


def test_other_families():
    # GPT-J-6B: wte 50,400*4,096 = 206,438,400; layer: LN 8,192, q k v o 4*4,096^2 = 67,108,864,
    # MLP 2*4,096*16,384 + 16,384 + 4,096 = 134,238,208 -> 201,355,264 x 28 = 5,637,947,392;
    # ln_f 8,192; untied head 206,438,400 + bias 50,400 -> 6,050,882,784
    assert EXPECTED["gpt-j-6b"][0] == 206_438_400 + 28 * 201_355_264 + 8_192 + 206_438_400 + 50_400
    # GPT-NeoX-20B: two tables 2*50,432*6,144 = 619,708,416; layer: 2 LNs 24,576, qkv
    # 6,144*18,432 + 18,432, dense 6,144^2 + 6,144, MLP 2*6,144*24,576 + 24,576 + 6,144
    # = 453,064,704 x 44 = 19,934,846,976; final LN 12,288
    assert 24_576 + 6_144 * 18_432 + 18_432 + 6_144 ** 2 + 6_144 + 2 * 6_144 * 24_576 \
        + 24_576 + 6_144 == 453_064_704
    assert EXPECTED["gpt-neox-20b"][0] == 619_708_416 + 44 * 453_064_704 + 12_288
    # Falcon-40B: table 65,024*8,192 = 532,676,608 (tied); layer: ln_attn + ln_mlp 32,768,
    # qkv 8,192*(128 + 2*8)*64 = 75,497,472, dense 8,192^2 = 67,108,864, MLP 2*8,192*32,768
    # = 536,870,912 -> 679,510,016 x 60; ln_f 16,384
    assert 32_768 + 75_497_472 + 67_108_864 + 536_870_912 == 679_510_016
    assert EXPECTED["falcon-40b"][0] == 532_676_608 + 60 * 679_510_016 + 16_384
    # Falcon-180B: 65,024*14,848 = 965,476,352; layer 2 LNs 59,392, qkv 14,848*(232 + 16)*64
    # = 235,667,456, dense 14,848^2 = 220,463,104, MLP 2*14,848*59,392 = 1,763,704,832
    layer = 59_392 + 235_667_456 + 220_463_104 + 1_763_704_832
    assert EXPECTED["falcon-180b"][0] == 965_476_352 + 80 * layer + 29_696
    # BLOOM: table 250,880*14,336 = 3,596,615,680 + its LayerNorm 28,672 (tied head); layer
    # 2 LNs 57,344, qkv 3*14,336^2 + 43,008, dense 14,336^2 + 14,336, MLP 8*14,336^2 + 57,344
    # + 14,336 -> 12*14,336^2 + 186,368 = 2,466,437,120 x 70; ln_f 28,672
    assert EXPECTED["bloom"][0] == 3_596_615_680 + 28_672 + 70 * (12 * 14_336 ** 2 + 186_368) \
        + 28_672
    # BLOOM-7B1: 250,880*4,096 = 1,027,604,480 + 8,192; 30 x (12*4,096^2 + 13*4,096); ln_f 8,192
    assert EXPECTED["bloom-7b1"][0] == 1_027_604_480 + 8_192 + 30 * (12 * 4_096 ** 2 + 13 * 4_096) \
        + 8_192
    # Flan-T5-XXL (gated-GELU, tied in transformers 5): shared 32,128*4,096 = 131,596,288;
    # encoder layer attention 4*4,096*4,096 + FFN 3*4,096*10,240 + 2 norms 8,192
    # = 192,946,176 x 24; decoder layer + cross-attention 67,108,864 + norm 4,096 = 260,059,136
    # x 24; two bias tables 2*32*64 = 4,096; two final norms 8,192
    assert EXPECTED["flan-t5-xxl"][0] == 131_596_288 + 24 * 192_946_176 + 24 * 260_059_136 \
        + 4_096 + 8_192
    # RoBERTa-base (RobertaForMaskedLM): words 50,265*768 = 38,603,520, positions 514*768 =
    # 394,752, token type 768, LN 1,536; layer 4*(768^2 + 768) + 2*768*3,072 + 3,072 + 768
    # + 2 LNs 3,072 = 7,087,872 x 12 = 85,054,464; head dense 590,592 + LN 1,536 + bias 50,265
    assert EXPECTED["roberta-base"][0] == 38_603_520 + 394_752 + 768 + 1_536 + 85_054_464 \
        + 590_592 + 1_536 + 50_265
    # DeepSeek-R1 = DeepSeek-V3's architecture less the 58 routing-bias buffers of 256
    v3 = analyze(load_spec(ARCH / "deepseek-v3.yaml"))
    assert EXPECTED["deepseek-r1"][0] == v3.params - 58 * 256
    for name in ("falcon-7b", "llama-3-1-8b"):
        assert counted(name).params == EXPECTED[name][0]


def test_llama_3_1_8b_is_llama_3_8b():
    # the same architecture and count as archspecs/llama-3-8b.yaml: 8,030,261,248
    assert counted("llama-3-1-8b").params == analyze(load_spec(ARCH / "llama-3-8b.yaml")).params


def test_show_spec_of_an_archspec(cli):
    code, out, err = cli(str(ARCH / "qwen2.5-7b.yaml"), "--show-spec")
    assert code == 0, err
    assert "config:" not in out and "kind: attention" in out and "name: Qwen2.5-7B" in out


@pytest.mark.parametrize("written,name", [
    # as the Epoch sample (shared/data) and curators spell them
    ("Qwen2.5-7B", "Qwen2.5-7B"), ("Qwen2.5-32B", "Qwen2.5-32B"), ("Qwen2-72B", "Qwen2-72B"),
    ("Qwen3-235B-A22B", "Qwen3-235B-A22B"), ("Llama 3.1-8B", "Llama 3.1 8B"),
    ("Llama 3.3 70B", "Llama 3.3 70B"), ("Llama 3.2 3B", "Llama 3.2 3B"),
    ("Flan-T5 11B", "Flan-T5 XXL"), ("Falcon-180B", "Falcon-180B"), ("BLOOM-176B", "BLOOM"),
    ("BLOOM-7.1B", "BLOOM-7B1"), ("GPT-J-6B", "GPT-J-6B"), ("GPT-NeoX-20B", "GPT-NeoX-20B"),
    ("DeepSeek-V2 (MoE-236B)", "DeepSeek-V2"), ("DeepSeek-R1", "DeepSeek-R1"),
    ("phi-3-medium 14B", "Phi-3-medium"), ("Gemma 2 27B", "Gemma 2 27B"), ("Gemma 7B", "Gemma 7B"),
    ("OLMoE", "OLMoE-1B-7B"), ("OLMo-7B", "OLMo-7B"), ("RoBERTa Large", "RoBERTa Large"),
    ("RoBERTa Base", "RoBERTa Base"), ("Mixtral 8x22B", "Mixtral 8x22B"),
])
def test_curators_spellings_resolve(written, name):
    from estimator.curation.catalog import lookup

    assert lookup(written).name == name
