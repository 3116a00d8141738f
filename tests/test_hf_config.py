"""Hugging Face models counted from their config.json alone (meta device, no weights, no hub).

The configs in tests/data/hf/ are written by tests/data/hf/make_configs.py from transformers'
own config classes with the released checkpoints' hyperparameters.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("torch")
pytest.importorskip("transformers")

from estimator.graphs.hf_config import count_config as count  # noqa: E402  (the meta-device route)

pytestmark = pytest.mark.torch
HF = Path(__file__).resolve().parent / "data" / "hf"


def test_llama_2_7b():
    r = count(HF / "llama-2-7b.json")
    # embed 32,000*4,096 = 131,072,000; per layer attention 4*4,096^2 = 67,108,864, SwiGLU
    # 3*4,096*11,008 = 135,266,304, two RMSNorms 8,192 -> 202,383,360 x 32 = 6,476,267,520;
    # final norm 4,096; untied head 131,072,000 -> 6,738,415,616 (Touvron et al. 2023: 7B)
    assert r.params == r.active_params == 6_738_415_616
    # default input: the declared context, 4,096 tokens
    assert r.tokens == 4096 and r.extra["built_with"] == "LlamaForCausalLM"
    # matmuls per token 2*(6,476,267,520 - 32*8,192 + 131,072,000) = 13,214,154,752 FLOP;
    # attention 32 layers x 2 x 2*4,096*4,096*4,096 = 8,796,093,022,208 over the sequence
    assert r.forward_flops == 4096 * 13_214_154_752 + 8_796_093_022_208


def test_mixtral_total_and_active():
    r = count(HF / "mixtral-8x7b.json")
    # the same figures as archspecs/mixtral-8x7b.yaml: "46.7B total, 12.9B active"
    assert r.params == 46_702_792_704 and r.active_params == 12_879_925_248


def test_t5_base_encoder_decoder():
    r = count(HF / "t5-base.json")
    # shared embedding 32,128*768 = 24,674,304 (tied to the head); encoder layer: attention
    # 4*768^2 = 2,359,296 + feed-forward 2*768*3,072 = 4,718,592 + 2 norms 1,536 = 7,079,424
    # x 12 = 84,953,088; decoder layer adds cross-attention 2,359,296 and a norm 768:
    # 9,439,488 x 12 = 113,273,856; relative bias 32*12 per stack = 2 x 384; final norms 2 x 768
    assert r.params == 24_674_304 + 84_953_088 + 113_273_856 + 2 * 384 + 2 * 768 == 222_903_552
    assert r.extra["built_with"] == "T5ForConditionalGeneration"
    assert "decoder_input_ids 1 x 512" in r.notes[-1]


def test_whisper_small_speech():
    r = count(HF / "whisper-small.json")
    # convs 80*768*3+768 = 185,088 and 768*768*3+768 = 1,770,240; encoder positions
    # 1,500*768 = 1,152,000; encoder layer 7,087,104 x 12 = 85,045,248 (+ final norm 1,536);
    # decoder tokens 51,865*768 = 39,832,320, positions 448*768 = 344,064, layer 9,450,240
    # x 12 = 113,402,880 (+ final norm 1,536); the head is tied -> 241,734,912
    assert r.params == 241_734_912
    assert "input_features 1 x 80 x 3000" in r.notes[-1]


def test_vit_b16_image():
    r = count(HF / "vit-b-16.json")
    # google/vit-base-patch16-224: 86,567,656 (Dosovitskiy et al. 2021, Table 1: 86M)
    assert r.params == 86_567_656
    assert "pixel_values 1 x 3 x 224 x 224" in r.notes[-1]


def test_deepseek_v2_lite_mla_moe():
    r = count(HF / "deepseek-v2-lite.json")
    # DeepSeek-AI 2024 (App. B): "15.7B total parameters, 2.4B activated for each token"
    assert r.params == 15_706_484_224
    # active: shared parts + router + 6 of 64 routed experts, embedding tables whole
    # (DESIGN's convention); DeepSeek's 2.4B leaves the input embedding (a lookup,
    # 102,400*2,048 = 209,715,200) out: 2,661,150,208 - 209,715,200 = 2,451,435,008
    assert r.active_params == 2_661_150_208


@pytest.mark.parametrize("name,params", [
    ("bart-base", 139_420_416),      # facebook/bart-base: 139M (Lewis et al. 2020)
    ("mbart-large", 610_851_840),    # facebook/mbart-large-cc25: 610M
    # google/pegasus-large: embed 96,103*1,024 = 98,409,472; encoder layer 12,596,224 x 16;
    # decoder layer 16,796,672 x 16; 2 final norms 4,096 -> 568,699,904 (the paper's 568M),
    # plus the two sinusoidal position tables 2 x 1,024*1,024 = 2,097,152 that transformers
    # stores as (frozen) parameters -> 570,797,056
    ("pegasus-large", 570_797_056),
])
def test_encoder_decoders_count_on_meta(name, params):
    """BART-style decoders build an all-ones mask and read it (transformers' SDPA skip
    check): on meta that read is answered 'keep the mask', and the count goes through."""
    r = count(HF / f"{name}.json")
    assert r.params == params and r.forward_flops > 0 and r.unknown_ops == {}


def test_input_override_and_cli(cli):
    code, out, err = cli("model", str(HF / "llama-2-7b.json"), "--input", "1x128", "--json")
    assert code == 0, err
    d = json.loads(out)
    # 128 tokens: 128 x 13,214,154,752 + 32 x 2 x 2*128*128*4,096 = 1,700,001,742,848
    assert d["params"] == 6_738_415_616 and d["tokens"] == 128
    assert d["forward_flops"] == 128 * 13_214_154_752 + 32 * 2 * 2 * 128 * 128 * 4096


@pytest.mark.parametrize("text,message", [
    ('{"model_type": "llamma"}', "unknown model type 'llamma'"),
    ("not json at all", "not JSON"),
    ("[1, 2]", "a JSON object"),
    ('{"hidden_size": 8}', "model_type: missing"),
])
def test_bad_configs_are_one_line(cli, tmp_path, text, message):
    p = tmp_path / "config.json"
    p.write_text(text)
    code, out, err = cli("model", str(p))
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
