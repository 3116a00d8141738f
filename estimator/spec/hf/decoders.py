"""Rotary pre-norm decoders: the Llama family and its relatives (Mistral, Mixtral, Qwen2,
Qwen2-MoE, Qwen3, Qwen3-MoE, Gemma, Gemma 2, Phi-3, OLMo, OLMoE, DeepSeek-V2/V3).

Each reads as transformers' ``modeling_<family>.py`` builds the model: embed_tokens, N
decoder layers (norm -> attention -> residual, norm -> MLP or MoE -> residual), a final
norm and the ``lm_head`` (tied to the embedding where ``tie_word_embeddings``).
"""
from __future__ import annotations

from .common import Built, lm_head, residual, runs, stack
from .read import Config, MAX_LIST

_QKV_BIAS = {"qwen2": True}                      # Qwen2Attention: q, k, v biased, o not
_QK_NORM = {"qwen3": "head", "qwen3_moe": "head", "olmoe": "all"}
_MOE = {"mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek_v2", "deepseek_v3"}


def build(cfg: Config, b: Built) -> list:
    fam = cfg.family
    vocab = b.var("vocab", cfg.size("vocab_size"))
    d = b.var("d_model", cfg.size("hidden_size"))
    n = cfg.size("num_hidden_layers")
    heads = cfg.size("num_attention_heads")
    b.tokens(cfg.size("max_position_embeddings"))
    eps = None if fam == "olmo" else cfg.number("rms_norm_eps")
    norm = ({"kind": "layernorm", "affine": False} if fam == "olmo"  # OlmoLayerNorm: no params
            else {"kind": "rmsnorm", "eps": eps})
    if fam == "olmo":
        b.notes.append("OLMo's LayerNorm has no parameters (OlmoLayerNorm: no scale, no shift).")

    if fam.startswith("deepseek"):
        attn = _mla(cfg, b, heads, eps)
    else:
        attn = _attention(cfg, b, heads)
    act = b.act("hidden_activation" if fam == "gemma2" else "hidden_act")
    dense_mlp = {"kind": "mlp", "name": "mlp", "hidden": b.var("ffn", cfg.size("intermediate_size")),
                 "activation": act, "gated": True,
                 "bias": cfg.flag("mlp_bias") if "mlp_bias" in cfg.values else False}
    groups = _layer_groups(cfg, n)
    moe = _moe(cfg, b, act) if any(g[0] == "moe" for g in groups) else None
    post = fam == "gemma2"  # Gemma 2: a norm after attention and after the MLP too

    def block(kind: str) -> list:
        a = [dict(norm, name="norm"), attn] + ([dict(norm, name="post_norm")] if post else [])
        f = [dict(norm, name="norm"), moe if kind == "moe" else dense_mlp] + (
            [dict(norm, name="post_norm")] if post else [])
        return [residual("attn", a), residual("mlp", f)]

    layers: list = [{"kind": "embedding", "name": "embed_tokens", "vocab": vocab, "dim": d}]
    if len(groups) == 1:
        layers.append(stack("layers", b.var("layers", n), block(groups[0][0])))
    elif [g[0] for g in groups] == ["dense", "moe"]:  # DeepSeek: first_k_dense_replace
        b.var("layers", n)
        layers.append(stack("dense_layers", b.var("dense_layers", groups[0][2]), block("dense")))
        layers.append(stack("moe_layers", "layers - dense_layers", block("moe")))
    else:
        for kind, first, count in groups:
            layers.append(stack(f"layers_{first}", count, block(kind)))
    layers.append(dict(norm, name="norm"))
    tie = cfg.flag("tie_word_embeddings")
    layers.append(lm_head(vocab, "embed_tokens" if tie else None))
    if tie:
        b.notes.append("tie_word_embeddings: the output projection is the embedding table, "
                       "counted once.")
    if fam in ("gemma", "gemma2"):
        b.notes.append("Gemma scales the embeddings by sqrt(hidden_size) and its RMSNorm "
                       "multiplies by (1 + weight): elementwise, no parameters beyond the "
                       "d-vector.")
    return layers


def _attention(cfg: Config, b: Built, heads: int) -> dict:
    fam = cfg.family
    kv = cfg.size("num_key_value_heads")
    e = cfg.size("head_dim")
    if heads % kv:
        raise cfg.fail("num_key_value_heads", f"{kv} must divide num_attention_heads {heads}")
    a = {"kind": "attention", "name": "attn", "heads": b.var("heads", heads),
         "kv_heads": b.var("kv_heads", kv), "head_dim": b.var("head_dim", e),
         "causal": True, "rotary": e % 2 == 0}
    if fam == "qwen2_moe":
        bias = cfg.flag("qkv_bias")
        a.update(bias=False, qkv_bias=bias)
    elif fam in _QKV_BIAS:
        a.update(bias=False, qkv_bias=True)
    elif "attention_bias" in cfg.values:
        a["bias"] = cfg.flag("attention_bias")
    else:  # Mistral, Mixtral, Phi-3: no biases
        a["bias"] = False
    if fam in _QK_NORM:
        a.update(qk_norm=_QK_NORM[fam], qk_norm_eps=cfg.number("rms_norm_eps"))
    if fam == "phi3":
        b.notes.append("Phi-3 fuses q, k, v into one qkv_proj and gate, up into gate_up_proj: "
                       "the same weights and FLOPs as the separate projections.")
    return a


def _mla(cfg: Config, b: Built, heads: int, eps: float) -> dict:
    if cfg.flag("attention_bias"):
        raise cfg.fail("attention_bias", "DeepSeek attention with biases is not supported "
                                          "analytically (the released models have none)")
    q_rank = cfg.opt_size("q_lora_rank")
    a = {"kind": "mla", "name": "attn", "heads": b.var("heads", heads),
         "kv_lora_rank": b.var("kv_rank", cfg.size("kv_lora_rank")),
         "qk_nope_dim": b.var("nope_dim", cfg.size("qk_nope_head_dim")),
         "qk_rope_dim": b.var("rope_dim", cfg.size("qk_rope_head_dim")),
         "v_head_dim": b.var("v_dim", cfg.size("v_head_dim")), "causal": True, "eps": 1e-6}
    if q_rank:
        a["q_lora_rank"] = b.var("q_rank", q_rank)
    if cfg.size("qk_rope_head_dim") % 2:
        raise cfg.fail("qk_rope_head_dim", "must be even (rotary pairs)")
    return a


def _layer_groups(cfg: Config, n: int) -> list[tuple[str, int, int]]:
    """Runs of 'dense' or 'moe' layers [(kind, first index, count)], as each family's decoder
    layer decides which MLP it holds."""
    fam = cfg.family
    if fam not in _MOE:
        return [("dense", 0, n)]
    if fam in ("mixtral", "olmoe"):
        return [("moe", 0, n)]
    if fam.startswith("deepseek"):  # DeepseekV2DecoderLayer: MoE from first_k_dense_replace on
        k = min(cfg.size("first_k_dense_replace", minimum=0), n)
        return [g for g in (("dense", 0, k), ("moe", k, n - k)) if g[2]]
    # Qwen2-MoE / Qwen3-MoE: sparse where (i + 1) % decoder_sparse_step == 0, not listed in
    # mlp_only_layers, and num_experts > 0
    step = cfg.size("decoder_sparse_step")
    experts = cfg.size("num_experts", minimum=0)
    only = cfg.values.get("mlp_only_layers")
    if step == 1 and not only:
        return [("moe" if experts else "dense", 0, n)]
    if n > MAX_LIST:
        raise cfg.fail("num_hidden_layers", f"{n:,} layers with a sparse-layer pattern: at most "
                       f"{MAX_LIST:,}")
    dense_only = set(cfg.int_list("mlp_only_layers", n))
    return runs(["moe" if experts and i not in dense_only and (i + 1) % step == 0 else "dense"
                 for i in range(n)])


def _moe(cfg: Config, b: Built, act: str) -> dict:
    fam = cfg.family
    if fam == "mixtral":
        e_key, hidden_key = "num_local_experts", "intermediate_size"
    elif fam.startswith("deepseek"):
        e_key, hidden_key = "n_routed_experts", "moe_intermediate_size"
    else:
        e_key, hidden_key = "num_experts", ("intermediate_size" if fam == "olmoe"
                                            else "moe_intermediate_size")
    experts = cfg.size(e_key)
    if cfg.values.get("num_experts_per_tok") is None:
        raise cfg.fail("num_experts_per_tok", "missing: how many experts each token visits")
    k = cfg.size("num_experts_per_tok")
    if k > experts:
        raise cfg.fail("num_experts_per_tok", f"{k} is more than the {experts} experts")
    m = {"kind": "moe", "name": "moe", "experts": b.var("experts", experts),
         "top_k": b.var("top_k", k),
         "hidden": b.var("expert_ffn", cfg.size(hidden_key)), "activation": act, "gated": True}
    if fam == "qwen2_moe":
        m.update(shared_experts=1, shared_gate=True,
                 shared_hidden=b.var("shared_ffn", cfg.size("shared_expert_intermediate_size")))
    elif fam.startswith("deepseek"):
        shared = cfg.size("n_shared_experts")
        m.update(shared_experts=1,
                 shared_hidden=b.var("shared_ffn", shared * cfg.size("moe_intermediate_size")))
        if fam == "deepseek_v3":
            m["scoring"] = "sigmoid"
            b.notes.append("DeepSeek-V3's per-expert routing bias (e_score_correction_bias) is a "
                           "buffer in transformers, not a parameter: not counted. The "
                           "multi-token-prediction layers (num_nextn_predict_layers) are not "
                           "part of the transformers model: not counted.")
        b.notes.append("The shared experts are one MLP of n_shared_experts x "
                       "moe_intermediate_size, as transformers builds them.")
    return m
