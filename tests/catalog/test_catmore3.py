"""Released configs added for systems the shared sample names without a recount (KoGPT,
INTELLECT-1, Marin 8B, Amber, Skywork-13B, InternLM2-20B, Poro 34B, bilingual-gpt-neox-4b,
OpenDiLoCo 1.1B, DeepSeek Coder 33B / 6.7B, Code Llama 34B, DeepSeekMath 7B, Qwen-7B / 14B,
Qwen2.5-Math-7B, Yi-1.5-34B, ProtT5-XL / XXL, ProtBERT-BFD, mT5-XXL, Multilingual-E5-large,
AraBERT base / large v2, CodeT5-large): each exact count from the config values by its family's formula, and the sample's
spellings resolving to the entry."""
from __future__ import annotations

from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec
from estimator.curation import catalog as cat

ARCH = Path(__file__).resolve().parents[2] / "archspecs"


def dense(V, h, L, q, kv, ffn, qkv_bias=False):
    """An untied llama-style decoder: input and output tables 2 x V x h; per layer q and o
    projections h x q, k and v h x kv (biases q + 2 kv if qkv_bias), two RMSNorms 2h, SwiGLU
    3 h ffn; a final RMSNorm h."""
    layer = 2 * h * q + 2 * h * kv + (q + 2 * kv if qkv_bias else 0) + 2 * h + 3 * h * ffn
    return 2 * V * h + L * layer + h


def gptj(V, d, L, ffn):
    """GPT-J: word table V d; per layer one LayerNorm 2d, q k v o 4 d^2 (no biases), MLP
    2 d ffn + ffn + d; final LayerNorm 2d; untied head V d + bias V."""
    return V * d + L * (2 * d + 4 * d * d + 2 * d * ffn + ffn + d) + 2 * d + V * d + V


def bloom(V, d, L):
    """BLOOM: word table V d and its LayerNorm 2d (tied head); per layer two LayerNorms 4d, qkv
    3d^2 + 3d, dense d^2 + d, MLP 8d^2 + 4d + d: 12 d^2 + 13 d; final LayerNorm 2d."""
    return V * d + 2 * d + L * (12 * d * d + 13 * d) + 2 * d


def gpt_neox(V, d, L, ffn):
    """GPT-NeoX: untied tables 2 V d; per layer two LayerNorms 4d, qkv 3d^2 + 3d, dense d^2 + d,
    MLP 2 d ffn + ffn + d; final LayerNorm 2d."""
    return 2 * V * d + L * (4 * d + 3 * d * d + 3 * d + d * d + d + 2 * d * ffn + ffn + d) + 2 * d


def t5_tied(V, d, L, heads, d_kv, ffn):
    """T5 v1.0 (ReLU, output tied to the shared table): shared V d; encoder blocks of attention
    4 d (heads d_kv) + FFN 2 d ffn + two RMSNorms 2d; decoder blocks add cross-attention and a
    third norm; two relative-bias tables 2 x 32 x heads; two final norms 2d."""
    attn = 4 * d * heads * d_kv
    enc = attn + 2 * d * ffn + 2 * d
    dec = 2 * attn + 2 * d * ffn + 3 * d
    return V * d + L * enc + L * dec + 2 * 32 * heads + 2 * d


def t5_gated(V, d, L, heads, d_kv, ffn):
    """T5.1.1 (gated GELU: wi_0, wi_1, wo = 3 d ffn), the lm_head tied to the shared table as
    transformers 5 builds it; otherwise as t5_tied."""
    attn = 4 * d * heads * d_kv
    return V * d + L * (attn + 3 * d * ffn + 2 * d) + L * (2 * attn + 3 * d * ffn + 3 * d) \
        + 2 * 32 * heads + 2 * d


def bert_layers(d, L, ffn):
    """Post-norm BERT layers: q k v o 4 (d^2 + d), FFN 2 d ffn + ffn + d, two LayerNorms 4d."""
    return L * (4 * (d * d + d) + 2 * d * ffn + ffn + d + 4 * d)


CASES = [
    # stem, count by the family formula (config values), the exact figure
    # KoGPT: 64,512 x 4,096 + 28 x (8,192 + 4 x 4,096^2 + 2 x 4,096 x 16,384 + 16,384 + 4,096)
    # + 8,192 + 64,512 x 4,096 + 64,512 = the README's n_parameters 6,166,502,400
    ("kogpt", gptj(64512, 4096, 28, 16384), 6_166_502_400),
    # INTELLECT-1: 128,256 x 4,096 x 2 + 42 x (2 x 4,096^2 + 2 x 4,096 x 1,024 + 8,192 + 3 x 4,096
    # x 14,336) + 4,096
    ("intellect-1", dense(128256, 4096, 42, 4096, 8 * 128, 14336), 10_211_381_248),
    # Marin 8B: the Llama 3.1 8B shape, 128,256 x 4,096 x 2 + 32 x (same layer) + 4,096
    ("marin-8b", dense(128256, 4096, 32, 4096, 8 * 128, 14336), 8_030_261_248),
    # OpenDiLoCo 1.1B (TinyLlama): 32,000 x 2,048 x 2 + 22 x (2 x 2,048^2 + 2 x 2,048 x 256
    # + 4,096 + 3 x 2,048 x 5,632) + 2,048
    ("opendiloco-1.1b", dense(32000, 2048, 22, 2048, 4 * 64, 5632), 1_100_048_384),
    # DeepSeek Coder 33B: 32,256 x 7,168 x 2 + 62 x (2 x 7,168^2 + 2 x 7,168 x 1,024 + 14,336
    # + 3 x 7,168 x 19,200) + 7,168
    ("deepseek-coder-33b", dense(32256, 7168, 62, 7168, 8 * 128, 19200), 33_342_991_360),
    # DeepSeek Coder 6.7B: 32,256 x 4,096 x 2 + 32 x (4 x 4,096^2 + 8,192 + 3 x 4,096 x 11,008)
    # + 4,096
    ("deepseek-coder-6.7b", dense(32256, 4096, 32, 4096, 4096, 11008), 6_740_512_768),
    # Code Llama 34B: 32,000 x 8,192 x 2 + 48 x (2 x 8,192^2 + 2 x 8,192 x 1,024 + 16,384
    # + 3 x 8,192 x 22,016) + 8,192
    ("code-llama-34b", dense(32000, 8192, 48, 8192, 8 * 128, 22016), 33_743_970_304),
    # DeepSeekMath 7B: the DeepSeek LLM 7B shape, 102,400 x 4,096 x 2 + 30 x (4 x 4,096^2 + 8,192
    # + 3 x 4,096 x 11,008) + 4,096
    ("deepseek-math-7b", dense(102400, 4096, 30, 4096, 4096, 11008), 6_910_365_696),
    # Qwen-14B (Qwen 1 as Qwen2): 152,064 x 5,120 x 2 + 40 x (4 x 5,120^2 + biases 15,360 + 10,240
    # + 3 x 5,120 x 13,696) + 5,120; 13,696 = the config's intermediate_size 27,392 / 2
    ("qwen-14b", dense(152064, 5120, 40, 5120, 5120, 27392 // 2, qkv_bias=True), 14_167_290_880),
    # Qwen-7B: 151,936 x 4,096 x 2 + 32 x (4 x 4,096^2 + 12,288 + 8,192 + 3 x 4,096 x 11,008)
    # + 4,096; 11,008 = 22,016 / 2
    ("qwen-7b", dense(151936, 4096, 32, 4096, 4096, 22016 // 2, qkv_bias=True), 7_721_324_544),
    # Qwen2.5-Math-7B: Qwen2.5-7B's shapes, 152,064 x 3,584 x 2 + 28 x (2 x 3,584^2 + 2 x 3,584
    # x 512 + 4,608 + 7,168 + 3 x 3,584 x 18,944) + 3,584
    ("qwen2.5-math-7b", dense(152064, 3584, 28, 3584, 4 * 128, 18944, qkv_bias=True),
     7_615_616_512),
    # Yi-1.5-34B: Yi-34B's shapes, 64,000 x 7,168 x 2 + 60 x (2 x 7,168^2 + 2 x 7,168 x 1,024
    # + 14,336 + 3 x 7,168 x 20,480) + 7,168
    ("yi-1.5-34b", dense(64000, 7168, 60, 7168, 8 * 128, 20480), 34_388_917_248),
    # Amber: the LLaMA 7B shape, 32,000 x 4,096 x 2 + 32 x (4 x 4,096^2 + 8,192 + 3 x 4,096 x 11,008)
    # + 4,096
    ("amber-7b", dense(32000, 4096, 32, 4096, 4096, 11008), 6_738_415_616),
    # Skywork-13B: 65,536 x 4,608 x 2 + 52 x (4 x 4,608^2 + 9,216 + 3 x 4,608 x 12,288) + 4,608
    ("skywork-13b", dense(65536, 4608, 52, 4608, 4608, 12288), 13_854_269_952),
    # InternLM2-20B: 92,544 x 6,144 x 2 + 48 x (2 x 6,144^2 + 2 x 6,144 x 1,024 + 12,288
    # + 3 x 6,144 x 16,384) + 6,144
    ("internlm2-20b", dense(92544, 6144, 48, 6144, 8 * 128, 16384), 19_861_149_696),
    # Poro 34B (BLOOM): 128,000 x 7,168 + 14,336 + 54 x (12 x 7,168^2 + 13 x 7,168) + 14,336
    ("poro-34b", bloom(128000, 7168, 54), 34_216_949_760),
    # bilingual-gpt-neox-4b: 2 x 65,536 x 2,816 + 36 x 95,194,880 + 5,632
    ("bilingual-gpt-neox-4b", gpt_neox(65536, 2816, 36, 11264), 3_796_120_064),
    # ProtT5-XL-U50 (t5-3b shapes, vocabulary 128): 131,072 + 24 x 50,333,696 + 24 x 67,111,936
    # + 2,048 + 2,048
    ("prott5-xl-u50", t5_tied(128, 1024, 24, 32, 128, 16384), 2_818_830_336),
    # ProtT5-XXL (t5-11b shapes): 131,072 + 24 x 201,328,640 + 24 x 268,438,528 + 8,192 + 2,048
    ("prott5-xxl", t5_tied(128, 1024, 24, 128, 128, 65536), 11_274_553_344),
    # CodeT5-large (T5-large shapes, vocabulary 32,100): 32,870,400 + 24 x 12,584,960
    # + 24 x 16,780,288 + 1,024 + 2,048
    ("codet5-large", t5_tied(32100, 1024, 24, 16, 64, 4096), 737_639_424),
    # Multilingual-E5-large (bare XLM-R large + pooler): words 250,002 x 1,024, positions 514 x 1,024,
    # one token type 1,024, LayerNorm 2,048; 24 layers of 12,596,224; pooler 1,024^2 + 1,024
    ("multilingual-e5-large", 250002 * 1024 + 514 * 1024 + 1024 + 2048 + bert_layers(1024, 24, 4096)
     + 1024 * 1024 + 1024, 559_890_432),
    # mT5-XXL: shared 250,112 x 4,096 + 24 x (67,108,864 + 125,829,120 + 8,192) + 24 x (134,217,728
    # + 125,829,120 + 12,288) + 2 x 32 x 64 + 8,192 (the released separate lm_head left out, see
    # the entry's discrepancy)
    ("mt5-xxl", t5_gated(250112, 4096, 24, 64, 64, 10240), 11_896_598_528),
    # ProtBERT-BFD (BertForMaskedLM): words 30 x 1,024, positions 40,000 x 1,024, two token types,
    # LayerNorm 2,048; 30 layers of 12,596,224; head dense 1,024^2 + 1,024, LayerNorm 2,048, bias 30
    ("protbert-bfd", 30 * 1024 + 40000 * 1024 + 2 * 1024 + 2048 + bert_layers(1024, 30, 4096)
     + 1024 * 1024 + 1024 + 2048 + 30, 419_933_214),
    # AraBERT (BERT-base, vocabulary 64,000, MLM head): words 64,000 x 768, positions 512 x 768,
    # two token types, LayerNorm 1,536; 12 layers of 7,087,872; head dense 768^2 + 768, LayerNorm
    # 1,536, decoder bias 64,000 (its weight tied to the word table)
    ("arabert", 64000 * 768 + 512 * 768 + 2 * 768 + 1536 + bert_layers(768, 12, 3072)
     + 768 * 768 + 768 + 1536 + 64000, 135_258_880),
    # AraBERT Large v2 (BERT-large, vocabulary 64,000, MLM head)
    ("arabert-large-v2", 64000 * 1024 + 512 * 1024 + 2 * 1024 + 2048 + bert_layers(1024, 24, 4096)
     + 1024 * 1024 + 1024 + 2048 + 64000, 369_489_408),
]


@pytest.mark.parametrize("stem,formula,count", CASES, ids=[c[0] for c in CASES])
def test_counts(stem, formula, count):
    assert formula == count
    r = analyze(load_spec(ARCH / f"{stem}.yaml"))
    assert r.params == r.active_params == count


def test_intellect_1_ffn_is_the_llama_rule_of_its_training_code():
    # prime's llama3_configs["10B"]: dim 4,096, ffn_dim_multiplier 1.3, multiple_of 1,024:
    # int(2 x 4 x 4,096 / 3) = 10,922 -> int(1.3 x 10,922) = 14,198 -> next multiple of 1,024 = 14,336
    hidden = int(2 * 4 * 4096 / 3)
    hidden = int(1.3 * hidden)
    assert (hidden, -(-hidden // 1024) * 1024) == (14198, 14336)


def test_kogpt_equals_the_readme_figure_exactly():
    # the README's n_parameters is the count, to the parameter
    r = analyze(load_spec(ARCH / "kogpt.yaml"))
    assert r.params == r.extra["published"]["params"]["value"] == 6_166_502_400


def test_same_shapes_same_counts():
    # Marin 8B is Llama 3.1 8B's shape; Yi-1.5-34B is Yi-34B's; DeepSeekMath 7B is DeepSeek LLM 7B's;
    # Qwen2.5-Math-7B is Qwen2.5-7B's; Qwen-7B's shapes are Qwen1.5-7B's; Amber is LLaMA 7B's
    for a, b in (("amber-7b", "llama-7b"), ("marin-8b", "llama-3-1-8b"),
                 ("yi-1.5-34b", "yi-34b"),
                 ("deepseek-math-7b", "deepseek-llm-7b"), ("qwen2.5-math-7b", "qwen2.5-7b"),
                 ("qwen-7b", "qwen1.5-7b")):
        assert analyze(load_spec(ARCH / f"{a}.yaml")).params == \
            analyze(load_spec(ARCH / f"{b}.yaml")).params, (a, b)


# the spelling in the shared sample (Model or Base model column) -> the entry it names
SPELLINGS = {
    "KoGPT": "KoGPT", "INTELLECT-1": "INTELLECT-1", "Marin 8B": "Marin 8B", "Poro 34B": "Poro 34B",
    "bilingual-gpt-neox-4b": "bilingual-gpt-neox-4b", "OpenDiLoCo 1.1B": "OpenDiLoCo 1.1B",
    "DeepSeek Coder 33B": "DeepSeek Coder 33B", "DeepSeek Coder 6.7B": "DeepSeek Coder 6.7B",
    "Code Llama-34B": "Code Llama 34B", "DeepSeekMath 7B": "DeepSeekMath 7B", "Qwen-14B": "Qwen-14B",
    "Qwen-7B": "Qwen-7B", "Qwen2.5-Math-7B-Base": "Qwen2.5-Math-7B", "Yi-1.5-34B": "Yi-1.5-34B",
    "ProtT5-XXL": "ProtT5-XXL", "ProtT5-XXL-BFD": "ProtT5-XXL", "ProtT5-XL-U50": "ProtT5-XL-U50",
    "Multilingual-E5-large": "Multilingual-E5-large", "AraBERT": "AraBERT",
    "AraBERT LArge v2": "AraBERT Large v2", "CodeT5-large": "CodeT5-large",
    "Whisper v2": "Whisper large", "wave2vec 2.0 LARGE": "wav2vec 2.0 LARGE", "Amber": "Amber",
    "Skywork-13B": "Skywork-13B", "InternLM2-20B": "InternLM2-20B",
    "ProtBERT-BFD": "ProtBERT-BFD", "mT5-XXL": "mT5-XXL",
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_sample_spelling_resolves(spelling):
    entry = cat.lookup(spelling)
    assert entry is not None and entry.name == SPELLINGS[spelling]


def test_neighbours_keep_their_own_entries():
    # the new entries must not capture an older system's name
    assert cat.lookup("Whisper v3").name != "Whisper large"
    assert cat.lookup("Qwen2.5-7B").name == "Qwen2.5-7B"
    assert cat.lookup("Qwen1.5-7B").name == "Qwen1.5-7B"
    assert cat.lookup("Yi-34B").name == "Yi-34B"
    assert cat.lookup("DeepSeek LLM 7B").name == "DeepSeek LLM 7B"
    assert cat.lookup("T5-Large").name == "T5-Large"
    assert cat.lookup("XLM-R").name != "Multilingual-E5-large"
    # other sizes of these families are other systems
    for name in ("Code Llama 7B", "Qwen-72B", "DeepSeek Coder 1.3B", "ProtT5-XL-BFD-50",
                 "AraBERT v2 base"):
        assert cat.lookup(name) is None, name
