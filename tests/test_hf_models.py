"""Hugging Face models built on the meta device from their published configs (no downloads).

Published sizes: GPT-2 small 124,439,808 (the HF checkpoint), BERT-base 110M (109,482,240 in
HF), Llama-2-7B 6.74B (6,738,415,616), Mixtral-8x7B "46.7B total, 12.9B active" (Mistral AI,
Jiang et al. 2024), Qwen1.5-MoE-A2.7B "14.3B total, 2.7B activated" (Qwen team, 2024).
"""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
T = pytest.importorskip("transformers")

from estimator import count  # noqa: E402

pytestmark = pytest.mark.torch


def on_meta(cls, cfg):
    with torch.device("meta"):
        return cls(cfg)


def test_gpt2_small():
    m = on_meta(T.GPT2LMHeadModel, T.GPT2Config())
    r = count(m, {"input_ids": (1, 1024)})
    assert r.params == 124_439_808  # lm_head tied to wte: counted once
    assert r.extra["tied_weights"] == {"lm_head.weight": "transformer.wte.weight"}
    # embeddings: wte 50,257*768 = 38,597,376 + wpe 1,024*768 = 786,432
    assert r.embedding_params == 39_383_808
    # per layer per token 12*768^2 MACs (qkv 3, proj 1, mlp 8): 2*1024*12*589,824*12 layers
    #   = 173,946,175,488; scores + values 2*2*1024^2*768*12 = 38,654,705,664;
    # lm_head 2*1024*768*50,257 = 79,047,426,048
    assert r.forward_flops == 173_946_175_488 + 38_654_705_664 + 79_047_426_048
    assert r.tokens == 1024 and r.unknown_ops == {}
    assert r.layer("transformer.h.0.attn.c_attn").count.forward_flops == 2 * 1024 * 768 * 2304


def test_bert_base():
    m = on_meta(T.BertModel, T.BertConfig())
    r = count(m, {"input_ids": (1, 512)})
    assert r.params == 109_482_240
    # layers 12 x 512 tokens x 12*768^2 MACs = 43,486,543,872; attention 12 x 2 x 512^2 x 768
    # = 4,831,838,208; pooler (CLS token only) 768^2 = 589,824  -> MACs
    assert r.macs == 43_486_543_872 + 4_831_838_208 + 589_824


def test_llama_small_flops_and_llama2_7b_params():
    cfg = T.LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=128,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    r = count(on_meta(T.LlamaForCausalLM, cfg), {"input_ids": (1, 16)})
    # per token per layer: q 64*64 + k,v 2*64*32 + o 64*64 = 12,288, mlp 3*64*128 = 24,576
    # -> 36,864 MACs x 16 tokens x 2 layers = 1,179,648; attention (kv repeated to 4 heads)
    # 2 x 16*16*64 x 2 layers = 65,536; lm_head 16*64*1,000 = 1,024,000
    assert r.macs == 1_179_648 + 65_536 + 1_024_000
    # params: embed 64,000 + 2 x (12,288 + 24,576 + 2 norms 128) + final norm 64 + head 64,000
    assert r.params == 64_000 + 2 * (12_288 + 24_576 + 128) + 64 + 64_000 == 202_048
    big = T.LlamaConfig(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32)
    assert count(on_meta(T.LlamaForCausalLM, big), {"input_ids": (1, 8)}).params \
        == 6_738_415_616


MIXTRAL_8X7B = dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336,
                    num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                    num_local_experts=8, num_experts_per_tok=2, max_position_embeddings=32768,
                    rope_theta=1e6, tie_word_embeddings=False)


def test_mixtral_8x7b_total_and_active():
    m = on_meta(T.MixtralForCausalLM, T.MixtralConfig(**MIXTRAL_8X7B))
    impl = m.config._experts_implementation
    r = count(m, {"input_ids": (1, 128)})
    assert m.config._experts_implementation == impl  # switched for counting, then restored
    assert r.params == 46_702_792_704
    # one expert: 3 x 4096 x 14336 = 176,160,768; 6 idle experts x 32 layers = 33,822,867,456
    assert r.active_params == 46_702_792_704 - 6 * 32 * 176_160_768 == 12_879_925_248
    assert r.params_by_type["expert"] == 8 * 32 * 176_160_768
    assert len(r.extra["moe"]) == 32 and r.extra["moe"][0]["top_k"] == 2
    assert any("batched_mm" in n for n in r.notes)
    # per token per layer: attention projections 2*4096^2 + 2*4096*1024 = 41,943,040 MACs,
    # 2 experts x 176,160,768 = 352,321,536, router 4096*8 = 32,768 -> 394,297,344 MACs;
    # x 32 layers x 128 tokens = 1,615,041,921,024; scores+values 2*128^2*4096*32 layers
    # = 4,294,967,296; lm_head 128*4096*32,000 = 16,777,216,000
    assert r.macs == 1_615_041_921_024 + 4_294_967_296 + 16_777_216_000
    assert r.unknown_ops == {}


def test_qwen15_moe_a27b():
    cfg = T.Qwen2MoeConfig(vocab_size=151936, hidden_size=2048, intermediate_size=5632,
                           moe_intermediate_size=1408, shared_expert_intermediate_size=5632,
                           num_hidden_layers=24, num_attention_heads=16, num_key_value_heads=16,
                           num_experts=60, num_experts_per_tok=4, tie_word_embeddings=False)
    r = count(on_meta(T.Qwen2MoeForCausalLM, cfg), {"input_ids": (1, 8)})
    assert r.params == 14_315_784_192  # "14.3B"
    # 56 idle experts x 3*2048*1408 = 8,650,752 each x 24 layers = 11,626,610,688
    assert r.active_params == 14_315_784_192 - 56 * 24 * 8_650_752 == 2_689_173_504  # "2.7B"


def test_qwen2_moe_and_deepseek_v3_small_flops():
    q = T.Qwen2MoeConfig(vocab_size=1000, hidden_size=64, intermediate_size=128,
                         moe_intermediate_size=32, shared_expert_intermediate_size=96,
                         num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=4,
                         num_experts=8, num_experts_per_tok=2, tie_word_embeddings=False)
    r = count(on_meta(T.Qwen2MoeForCausalLM, q), {"input_ids": (1, 16)})
    # per token: attention projections 4*64*64 = 16,384 MACs; router 64*8 = 512;
    # 2 experts x 3*64*32 = 12,288; shared expert 3*64*96 = 18,432; shared gate 64
    # -> 47,680 x 16 tokens = 762,880; scores+values 2*16*16*64 = 32,768; head 16*64*1000
    assert r.macs == 762_880 + 32_768 + 1_024_000
    # 6 idle experts x 6,144
    assert r.params - r.active_params == 6 * 3 * 64 * 32

    d = T.DeepseekV3Config(vocab_size=1000, hidden_size=64, intermediate_size=128,
                           moe_intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                           num_key_value_heads=4, n_routed_experts=8, num_experts_per_tok=2,
                           n_shared_experts=1, first_k_dense_replace=1, n_group=2, topk_group=1,
                           q_lora_rank=32, kv_lora_rank=16, qk_rope_head_dim=8,
                           qk_nope_head_dim=8, v_head_dim=16, tie_word_embeddings=False)
    m = on_meta(T.DeepseekV3ForCausalLM, d)
    r = count(m, {"input_ids": (1, 16)})
    assert [b["path"] for b in r.extra["moe"]] == ["model.layers.1.mlp.experts"]
    assert r.params - r.active_params == 6 * 3 * 64 * 32  # 6 idle routed experts
    dense = count(m, {"input_ids": (1, 16)}, top_k=8)  # every expert active
    # the two counts differ by 6 more experts x 16 tokens x 2*3*64*32 FLOPs
    assert dense.forward_flops - r.forward_flops == 6 * 16 * 2 * 3 * 64 * 32
    assert m.model.layers[1].mlp.gate.top_k == 2  # the override is undone afterwards


def test_real_weights_hf_model_counts_on_meta_and_is_unchanged():
    cfg = T.GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=100, n_positions=64)
    m = T.GPT2LMHeadModel(cfg)
    m.train()
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    a = count(m, {"input_ids": torch.randint(0, 100, (1, 16))})
    b = count(m, {"input_ids": torch.randint(0, 100, (1, 16))}, device="real")
    assert a.forward_flops == b.forward_flops and a.params == b.params
    assert m.training and all(torch.equal(sd[k], v) for k, v in m.state_dict().items())
    assert m.transformer.wte.weight.device.type == "cpu"


def test_gpt3_175b_shaped_decoder_on_meta():
    cfg = T.GPT2Config(n_embd=12288, n_layer=96, n_head=96, n_positions=2048, vocab_size=50257)
    r = count(on_meta(T.GPT2LMHeadModel, cfg), {"input_ids": (1, 2048)})
    # per layer 12*d^2 + 13*d = 1,812,099,072 (d = 12,288) x 96 = 173,961,510,912; wte
    # 50,257*d = 617,558,016; wpe 2,048*d = 25,165,824; final norm 2*d = 24,576
    assert r.params == 173_961_510_912 + 617_558_016 + 25_165_824 + 24_576 == 174_604_259_328
    # MACs: 12*d^2 x 96 x 2,048 tokens = 356,241,767,399,424; scores+values 2*2048^2*d x 96
    # = 9,895,604,649,984; lm_head 2,048*d*50,257 = 1,264,758,816,768
    assert r.macs == 356_241_767_399_424 + 9_895_604_649_984 + 1_264_758_816_768
