"""Write the config.json files of this folder from transformers' own config classes, with the
hyperparameters of the released checkpoints (each named below with its source). Run it to
regenerate: python tests/data/hf/make_configs.py"""
from pathlib import Path

import transformers as T

HERE = Path(__file__).resolve().parent

CONFIGS = {
    # meta-llama/Llama-2-7b-hf config.json (Touvron et al. 2023, Table 1)
    "llama-2-7b": T.LlamaConfig(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                                num_hidden_layers=32, num_attention_heads=32,
                                num_key_value_heads=32, max_position_embeddings=4096,
                                rms_norm_eps=1e-5, architectures=["LlamaForCausalLM"]),
    # mistralai/Mixtral-8x7B-v0.1 config.json (Jiang et al. 2024, Table 1)
    "mixtral-8x7b": T.MixtralConfig(vocab_size=32000, hidden_size=4096, intermediate_size=14336,
                                    num_hidden_layers=32, num_attention_heads=32,
                                    num_key_value_heads=8, max_position_embeddings=32768,
                                    num_local_experts=8, num_experts_per_tok=2,
                                    architectures=["MixtralForCausalLM"]),
    # google-t5/t5-base config.json (Raffel et al. 2020, section 3.1.1)
    "t5-base": T.T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12,
                          num_decoder_layers=12, num_heads=12, feed_forward_proj="relu",
                          tie_word_embeddings=True, n_positions=512,
                          architectures=["T5ForConditionalGeneration"]),
    # openai/whisper-small config.json (Radford et al. 2022, Table 1)
    "whisper-small": T.WhisperConfig(vocab_size=51865, num_mel_bins=80, d_model=768,
                                     encoder_layers=12, decoder_layers=12,
                                     encoder_attention_heads=12, decoder_attention_heads=12,
                                     encoder_ffn_dim=3072, decoder_ffn_dim=3072,
                                     max_source_positions=1500, max_target_positions=448,
                                     architectures=["WhisperForConditionalGeneration"]),
    # google/vit-base-patch16-224 config.json (Dosovitskiy et al. 2021, Table 1)
    "vit-b-16": T.ViTConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                            intermediate_size=3072, image_size=224, patch_size=16,
                            num_labels=1000, architectures=["ViTForImageClassification"]),
    # deepseek-ai/DeepSeek-V2-Lite config.json (DeepSeek-AI 2024, section 3.1 and App. B)
    "deepseek-v2-lite": T.DeepseekV2Config(
        vocab_size=102400, hidden_size=2048, intermediate_size=10944, moe_intermediate_size=1408,
        num_hidden_layers=27, num_attention_heads=16, num_key_value_heads=16,
        n_shared_experts=2, n_routed_experts=64, num_experts_per_tok=6, first_k_dense_replace=1,
        kv_lora_rank=512, q_lora_rank=None, qk_rope_head_dim=64, qk_nope_head_dim=128,
        v_head_dim=128, head_dim=64, max_position_embeddings=163840, n_group=1, topk_group=1,
        architectures=["DeepseekV2ForCausalLM"]),
    # facebook/bart-base config.json (Lewis et al. 2020, section 2.1)
    "bart-base": T.BartConfig(vocab_size=50265, d_model=768, encoder_layers=6, decoder_layers=6,
                              encoder_attention_heads=12, decoder_attention_heads=12,
                              encoder_ffn_dim=3072, decoder_ffn_dim=3072,
                              max_position_embeddings=1024,
                              architectures=["BartForConditionalGeneration"]),
    # facebook/mbart-large-cc25 config.json (Liu et al. 2020)
    "mbart-large": T.MBartConfig(vocab_size=250027, d_model=1024, encoder_layers=12,
                                 decoder_layers=12, encoder_attention_heads=16,
                                 decoder_attention_heads=16, encoder_ffn_dim=4096,
                                 decoder_ffn_dim=4096, max_position_embeddings=1024,
                                 architectures=["MBartForConditionalGeneration"]),
    # google/pegasus-large config.json (Zhang et al. 2020)
    "pegasus-large": T.PegasusConfig(vocab_size=96103, d_model=1024, encoder_layers=16,
                                     decoder_layers=16, encoder_attention_heads=16,
                                     decoder_attention_heads=16, encoder_ffn_dim=4096,
                                     decoder_ffn_dim=4096, max_position_embeddings=1024,
                                     architectures=["PegasusForConditionalGeneration"]),
}

if __name__ == "__main__":
    for name, cfg in CONFIGS.items():
        cfg.to_json_file(str(HERE / f"{name}.json"), use_diff=False)
        print("wrote", name)
