"""How transformers reads each supported family's config.json, as data.

For every family: the keys the analytic reader uses, with the default transformers gives a
key the config leaves out (read from ``configuration_<family>.py`` of transformers 5.x: the
config dataclass's field defaults and what its ``__post_init__`` derives), and the other names
the same attribute goes by (the class's ``attribute_map`` and the legacy keyword arguments its
``__post_init__`` accepts, e.g. BLOOM's ``n_embed``).

A default written ``"=EXPR"`` is derived from other keys (a spec expression over them), as
``__post_init__`` or the modeling code derives it when the key is absent or null:
``num_key_value_heads = num_attention_heads``, ``head_dim = hidden_size //
num_attention_heads``. ``tests/test_hf_analytic_torch.py`` checks every literal default
against transformers' own config class so the two cannot drift.
"""
from __future__ import annotations

_LLAMA_LIKE = {
    "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
    "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": "=num_attention_heads",
    "head_dim": "=hidden_size // num_attention_heads",
    "hidden_act": "silu", "max_position_embeddings": 2048, "rms_norm_eps": 1e-6,
    "tie_word_embeddings": False,
}

DEFAULTS: dict[str, dict] = {
    "llama": {**_LLAMA_LIKE, "attention_bias": False, "mlp_bias": False},
    "mistral": {**_LLAMA_LIKE, "intermediate_size": 14336, "num_key_value_heads": 8,
                "max_position_embeddings": 131072},
    "mixtral": {**_LLAMA_LIKE, "intermediate_size": 14336, "num_key_value_heads": 8,
                "max_position_embeddings": 131072, "rms_norm_eps": 1e-5,
                "num_local_experts": 8, "num_experts_per_tok": 2},
    "qwen2": {**_LLAMA_LIKE, "vocab_size": 151936, "intermediate_size": 22016,
              "num_key_value_heads": 32, "max_position_embeddings": 32768},
    "qwen2_moe": {**_LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 2048,
                  "intermediate_size": 5632, "num_hidden_layers": 24, "num_attention_heads": 16,
                  "num_key_value_heads": 16, "max_position_embeddings": 32768,
                  "decoder_sparse_step": 1, "moe_intermediate_size": 1408,
                  "shared_expert_intermediate_size": 5632, "num_experts_per_tok": 4,
                  "num_experts": 60, "mlp_only_layers": [], "qkv_bias": True},
    "qwen3": {**_LLAMA_LIKE, "vocab_size": 151936, "intermediate_size": 22016,
              "num_key_value_heads": 32, "head_dim": 128, "max_position_embeddings": 32768,
              "attention_bias": False},
    "qwen3_moe": {**_LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 2048,
                  "intermediate_size": 6144, "num_hidden_layers": 24, "num_attention_heads": 32,
                  "num_key_value_heads": 4, "max_position_embeddings": 32768,
                  "attention_bias": False, "decoder_sparse_step": 1, "moe_intermediate_size": 768,
                  "num_experts_per_tok": 8, "num_experts": 128, "mlp_only_layers": []},
    "gemma": {**_LLAMA_LIKE, "vocab_size": 256000, "hidden_size": 3072,
              "intermediate_size": 24576, "num_hidden_layers": 28, "num_attention_heads": 16,
              "num_key_value_heads": 16, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
              "max_position_embeddings": 8192, "tie_word_embeddings": True,
              "attention_bias": False},
    "gemma2": {**_LLAMA_LIKE, "vocab_size": 256000, "hidden_size": 2304,
               "intermediate_size": 9216, "num_hidden_layers": 26, "num_attention_heads": 8,
               "num_key_value_heads": 4, "head_dim": 256,
               "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 8192,
               "tie_word_embeddings": True, "attention_bias": False},
    "phi3": {**_LLAMA_LIKE, "vocab_size": 32064, "hidden_size": 3072, "intermediate_size": 8192,
             "max_position_embeddings": 4096, "rms_norm_eps": 1e-5},
    "olmo": {**_LLAMA_LIKE, "vocab_size": 50304, "attention_bias": False},
    "olmoe": {**_LLAMA_LIKE, "vocab_size": 50304, "hidden_size": 2048, "intermediate_size": 2048,
              "num_hidden_layers": 16, "num_attention_heads": 16,
              "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "attention_bias": False,
              "num_experts_per_tok": 8, "num_experts": 64},
    "deepseek_v2": {**_LLAMA_LIKE, "vocab_size": 102400, "attention_bias": False,
                    "mlp_bias": False, "first_k_dense_replace": 0, "kv_lora_rank": 512,
                    "q_lora_rank": 1536, "n_routed_experts": 64, "n_shared_experts": 2,
                    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
                    "num_experts_per_tok": None, "moe_intermediate_size": 1407},
    "deepseek_v3": {**_LLAMA_LIKE, "vocab_size": 129280, "hidden_size": 7168,
                    "intermediate_size": 18432, "moe_intermediate_size": 2048,
                    "num_hidden_layers": 61, "num_attention_heads": 128,
                    "num_key_value_heads": 128, "n_shared_experts": 1, "n_routed_experts": 256,
                    "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64,
                    "v_head_dim": 128, "qk_nope_head_dim": 128, "num_experts_per_tok": 8,
                    "first_k_dense_replace": 3, "max_position_embeddings": 4096,
                    "attention_bias": False},
    "gpt2": {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12,
             "n_head": 12, "n_inner": "=4 * n_embd", "activation_function": "gelu_new",
             "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True},
    "gpt_neox": {"vocab_size": 50432, "hidden_size": 6144, "num_hidden_layers": 44,
                 "num_attention_heads": 64, "intermediate_size": 24576, "hidden_act": "gelu",
                 "max_position_embeddings": 2048, "layer_norm_eps": 1e-5,
                 "tie_word_embeddings": False, "use_parallel_residual": True,
                 "attention_bias": True},
    "gptj": {"vocab_size": 50400, "n_positions": 2048, "n_embd": 4096, "n_layer": 28,
             "n_head": 16, "rotary_dim": 64, "n_inner": "=4 * n_embd",
             "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
             "tie_word_embeddings": False},
    "falcon": {"vocab_size": 65024, "hidden_size": 4544, "num_hidden_layers": 32,
               "num_attention_heads": 71, "num_ln_in_parallel_attn": None,
               "layer_norm_epsilon": 1e-5, "num_kv_heads": "=num_attention_heads",
               "alibi": False, "new_decoder_architecture": False, "multi_query": True,
               "parallel_attn": True, "bias": False, "max_position_embeddings": 2048,
               "ffn_hidden_size": "=4 * hidden_size", "activation": "gelu",
               "tie_word_embeddings": True},
    "bloom": {"vocab_size": 250880, "hidden_size": 64, "n_layer": 2, "n_head": 8,
              "layer_norm_epsilon": 1e-5, "apply_residual_connection_post_layernorm": False,
              "tie_word_embeddings": True},
    "opt": {"vocab_size": 50272, "hidden_size": 768, "num_hidden_layers": 12, "ffn_dim": 3072,
            "max_position_embeddings": 2048, "do_layer_norm_before": True,
            "_remove_final_layer_norm": False, "word_embed_proj_dim": "=hidden_size",
            "num_attention_heads": 12, "activation_function": "relu", "enable_bias": True,
            "layer_norm_elementwise_affine": True, "tie_word_embeddings": True},
    "t5": {"vocab_size": 32128, "d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6,
           "num_decoder_layers": "=num_layers", "num_heads": 8,
           "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
           "layer_norm_epsilon": 1e-6, "feed_forward_proj": "relu"},
    "bert": {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12,
             "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
             "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
             "tie_word_embeddings": True, "pad_token_id": 0},
    "roberta": {"vocab_size": 50265, "hidden_size": 768, "num_hidden_layers": 12,
                "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
                "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
                "tie_word_embeddings": True, "pad_token_id": 1},
}
del DEFAULTS["gemma2"]["hidden_act"]     # Gemma 2 names it hidden_activation
del DEFAULTS["olmo"]["rms_norm_eps"]     # OLMo's LayerNorm has no parameters, no epsilon key
for _fam in ("deepseek_v2", "deepseek_v3"):  # MLA sizes its heads with qk_*_head_dim, v_head_dim
    del DEFAULTS[_fam]["head_dim"], DEFAULTS[_fam]["num_key_value_heads"]

#: other names of an attribute: alias -> the name transformers stores it under
ALIASES: dict[str, dict[str, str]] = {
    "mixtral": {"num_experts": "num_local_experts"},
    "qwen3_moe": {"num_local_experts": "num_experts"},
    "olmoe": {"num_local_experts": "num_experts"},
    "deepseek_v2": {"num_experts": "n_routed_experts"},
    "deepseek_v3": {"num_local_experts": "n_routed_experts"},
    "gpt2": {"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
             "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"},
    "gptj": {"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
             "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"},
    "bloom": {"num_hidden_layers": "n_layer", "num_attention_heads": "n_head",
              "n_embed": "hidden_size"},
    "falcon": {"n_embed": "hidden_size"},
    "t5": {"hidden_size": "d_model", "num_attention_heads": "num_heads",
           "num_hidden_layers": "num_layers", "head_dim": "d_kv"},
}

#: Rotary settings (rope_parameters, GPT-NeoX's rotary_pct, Phi-3's partial_rotary_factor)
#: and sliding windows change no count: rotary has no parameters, and transformers computes
#: the full score matrix under a mask. They are not read.
FAMILIES = tuple(DEFAULTS)
