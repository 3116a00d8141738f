"""GPT-style decoders with LayerNorm and biases: GPT-2, GPT-NeoX, GPT-J, Falcon, BLOOM, OPT,
each as its transformers ``modeling_<family>.py`` builds the causal LM."""
from __future__ import annotations

from .common import Built, lm_head, residual, stack
from .read import Config


def _ln(eps: float, name: str = "norm", affine: bool = True) -> dict:
    out = {"kind": "layernorm", "name": name, "eps": eps}
    if not affine:
        out["affine"] = False
    return out


def _parallel(attn: list, mlp: list) -> dict:
    """attention and MLP on the same input, summed (GPT-J, GPT-NeoX, Falcon)."""
    return {"kind": "parallel", "name": "parallel", "join": "sum",
            "branches": {"attn": attn, "mlp": mlp}}


def _head(cfg: Config, vocab: str, tie_to: str, bias: bool = False) -> dict:
    return lm_head(vocab, tie_to if cfg.flag("tie_word_embeddings") else None, bias=bias)


def _sequential(eps: float, attn: dict, mlp: dict) -> list:
    """norm -> attention -> residual, norm -> MLP -> residual (pre-norm blocks)."""
    return [residual("attn", [_ln(eps), attn]), residual("mlp", [_ln(eps), mlp])]


def _causal_lm(cfg: Config, b: Built, names: tuple[str, str, str], layers_key: str,
               body: list, eps: float, head_bias: bool = False) -> list:
    """token table -> N blocks -> final LayerNorm -> the head (tied to the table if the
    config says so); ``names``: the table, the stack and the final norm as the family
    calls them."""
    table, blocks, final = names
    vocab, d = "vocab", "d_model"
    return [{"kind": "embedding", "name": table, "vocab": vocab, "dim": d},
            stack(blocks, b.var("layers", cfg.size(layers_key)), body),
            _ln(eps, final),
            _head(cfg, vocab, table, bias=head_bias)]


def gpt2(cfg: Config, b: Built) -> list:
    """GPT2LMHeadModel: wte + wpe, pre-norm blocks (Conv1D projections with biases), ln_f,
    the head tied to wte by default."""
    vocab = b.var("vocab", cfg.size("vocab_size"))
    d = b.var("d_model", cfg.size("n_embd"))
    positions = b.var("positions", cfg.size("n_positions"))
    b.tokens(cfg.size("n_positions"))
    eps = cfg.number("layer_norm_epsilon")
    heads = b.var("heads", _heads(cfg, "n_head", "n_embd"))
    ffn = b.var("ffn", cfg.size("n_inner"))
    act = b.act("activation_function")
    return [
        {"kind": "embedding", "name": "wte", "vocab": vocab, "dim": d},
        {"kind": "pos_embedding", "name": "wpe", "max_len": positions},
        stack("h", b.var("layers", cfg.size("n_layer")), [
            residual("attn", [_ln(eps), {"kind": "attention", "name": "attn", "heads": heads,
                                         "causal": True}]),
            residual("mlp", [_ln(eps), {"kind": "mlp", "name": "mlp", "hidden": ffn,
                                        "activation": act}])]),
        _ln(eps, "ln_f"),
        _head(cfg, vocab, "wte"),
    ]


def gpt_neox(cfg: Config, b: Built) -> list:
    """GPTNeoXForCausalLM: embed_in, layers with a fused biased qkv and partial rotary, the
    attention and MLP in parallel (use_parallel_residual) or in sequence, embed_out."""
    b.var("vocab", cfg.size("vocab_size"))
    b.var("d_model", cfg.size("hidden_size"))
    b.tokens(cfg.size("max_position_embeddings"))
    eps = cfg.number("layer_norm_eps")
    heads = _heads(cfg, "num_attention_heads", "hidden_size")
    attn = {"kind": "attention", "name": "attn", "heads": b.var("heads", heads),
            "bias": cfg.flag("attention_bias"), "causal": True,
            "rotary": (cfg.size("hidden_size") // heads) % 2 == 0}
    mlp = {"kind": "mlp", "name": "mlp", "hidden": b.var("ffn", cfg.size("intermediate_size")),
           "activation": b.act("hidden_act")}
    if cfg.flag("use_parallel_residual"):
        body = [residual("block", [_parallel([_ln(eps), attn], [_ln(eps), mlp])])]
    else:
        body = _sequential(eps, attn, mlp)
    b.notes.append("Rotary embedding on a share of each head (rotary_pct): no parameters.")
    return _causal_lm(cfg, b, ("embed_in", "layers", "final_layer_norm"), "num_hidden_layers",
                      body, eps)


def gptj(cfg: Config, b: Built) -> list:
    """GPTJForCausalLM: one LayerNorm feeding attention (no biases, rotary on rotary_dim)
    and the MLP in parallel; an untied head with a bias."""
    b.var("vocab", cfg.size("vocab_size"))
    b.var("d_model", cfg.size("n_embd"))
    b.tokens(cfg.size("n_positions"))
    eps = cfg.number("layer_norm_epsilon")
    heads = _heads(cfg, "n_head", "n_embd")
    cfg.size("rotary_dim")
    attn = {"kind": "attention", "name": "attn", "heads": b.var("heads", heads), "bias": False,
            "causal": True, "rotary": (cfg.size("n_embd") // heads) % 2 == 0}
    mlp = {"kind": "mlp", "name": "mlp", "hidden": b.var("ffn", cfg.size("n_inner")),
           "activation": b.act("activation_function")}
    b.notes.append("The output head has a bias (GPTJForCausalLM: lm_head bias=True).")
    return _causal_lm(cfg, b, ("wte", "h", "ln_f"), "n_layer",
                      [residual("block", [_ln(eps), _parallel([attn], [mlp])])], eps,
                      head_bias=True)


def falcon(cfg: Config, b: Built) -> list:
    """FalconForCausalLM: multi-query (7B) or grouped-query (new_decoder_architecture: 40B,
    180B) attention, parallel attention and MLP with one or two LayerNorms, no biases by
    default, the head tied to the embedding."""
    b.var("vocab", cfg.size("vocab_size"))
    b.var("d_model", cfg.size("hidden_size"))
    b.tokens(cfg.size("max_position_embeddings"))
    eps = cfg.number("layer_norm_epsilon")
    heads = _heads(cfg, "num_attention_heads", "hidden_size")
    new = cfg.flag("new_decoder_architecture")
    parallel = cfg.flag("parallel_attn")
    n_ln = cfg.opt_size("num_ln_in_parallel_attn")
    if new:
        kv = cfg.size("num_kv_heads")
        if heads % kv:
            raise cfg.fail("num_kv_heads", f"{kv} must divide num_attention_heads {heads}")
        n_ln = 2 if n_ln is None else n_ln
        if not parallel:
            raise cfg.fail("parallel_attn", "false with new_decoder_architecture: transformers' "
                                             "FalconDecoderLayer cannot run that combination")
    else:
        kv = 1 if cfg.flag("multi_query") else heads
        if n_ln not in (None, 1):
            raise cfg.fail("num_ln_in_parallel_attn", "2 needs new_decoder_architecture "
                                                      "(FalconDecoderLayer)")
    bias = cfg.flag("bias")
    alibi = cfg.flag("alibi")
    attn = {"kind": "attention", "name": "attn", "heads": b.var("heads", heads),
            "kv_heads": b.var("kv_heads", kv), "bias": bias, "causal": True,
            "rotary": not alibi and (cfg.size("hidden_size") // heads) % 2 == 0}
    mlp = {"kind": "mlp", "name": "mlp", "hidden": b.var("ffn", cfg.size("ffn_hidden_size")),
           "activation": b.act("activation"), "bias": bias}
    if not parallel:
        body = _sequential(eps, attn, mlp)
    elif n_ln == 2:
        body = [residual("block", [_parallel([_ln(eps, "ln_attn"), attn],
                                             [_ln(eps, "ln_mlp"), mlp])])]
    else:
        body = [residual("block", [_ln(eps), _parallel([attn], [mlp])])]
    b.notes.append("Falcon fuses q, k, v into query_key_value: the same weights and FLOPs as "
                   "separate projections.")
    if alibi:
        b.notes.append("ALiBi positions: a fixed bias on the attention logits, no parameters.")
    return _causal_lm(cfg, b, ("word_embeddings", "h", "ln_f"), "num_hidden_layers", body, eps)


def bloom(cfg: Config, b: Built) -> list:
    """BloomForCausalLM: embeddings followed by a LayerNorm, ALiBi attention (no position
    parameters) with a fused biased qkv, a 4 x hidden GELU MLP, the head tied."""
    vocab = b.var("vocab", cfg.size("vocab_size"))
    d = b.var("d_model", cfg.size("hidden_size"))
    b.tokens(None)
    eps = cfg.number("layer_norm_epsilon")
    heads = b.var("heads", _heads(cfg, "n_head", "hidden_size"))
    cfg.flag("apply_residual_connection_post_layernorm")
    b.notes.append("BLOOM declares no context length; T defaults to 512 (BLOOM was trained on "
                   "2,048-token sequences: --set T=2048).")
    b.notes.append("ALiBi positions: a fixed bias on the attention logits, no parameters.")
    return [{"kind": "embedding", "name": "word_embeddings", "vocab": vocab, "dim": d},
            _ln(eps, "word_embeddings_layernorm"),
            stack("h", b.var("layers", cfg.size("n_layer")), [
                residual("attn", [_ln(eps), {"kind": "attention", "name": "attn",
                                             "heads": heads, "causal": True}]),
                residual("mlp", [_ln(eps), {"kind": "mlp", "name": "mlp", "hidden": "4 * d_model",
                                            "activation": "gelu_tanh"}])]),
            _ln(eps, "ln_f"),
            _head(cfg, vocab, "word_embeddings")]


def opt(cfg: Config, b: Built) -> list:
    """OPTForCausalLM: token table (word_embed_proj_dim wide, projected in and out when that
    differs from hidden_size), learned positions with 2 extra rows (OPTLearnedPositional-
    Embedding's offset), pre- or post-norm blocks with biases, the head tied."""
    vocab = b.var("vocab", cfg.size("vocab_size"))
    d = b.var("d_model", cfg.size("hidden_size"))
    proj = cfg.size("word_embed_proj_dim")
    b.var("positions", cfg.size("max_position_embeddings"))
    b.tokens(cfg.size("max_position_embeddings"))
    pre = cfg.flag("do_layer_norm_before")
    affine = cfg.flag("layer_norm_elementwise_affine")
    bias = cfg.flag("enable_bias")
    heads = b.var("heads", _heads(cfg, "num_attention_heads", "hidden_size"))
    attn = {"kind": "attention", "name": "attn", "heads": heads, "bias": bias, "causal": True}
    mlp = {"kind": "mlp", "name": "mlp", "hidden": b.var("ffn", cfg.size("ffn_dim")),
           "activation": b.act("activation_function"), "bias": bias}
    ln = _ln(1e-5, affine=affine)
    if pre:
        body = [residual("attn", [ln, attn]), residual("mlp", [ln, mlp])]
    else:
        body = [residual("attn", [attn]), dict(ln, name="attn_norm"),
                residual("mlp", [mlp]), dict(ln, name="mlp_norm")]
    out: list = [{"kind": "embedding", "name": "embed_tokens", "vocab": vocab,
                  "dim": b.var("proj_dim", proj) if proj != cfg.size("hidden_size") else d}]
    if proj != cfg.size("hidden_size"):
        out.append({"kind": "linear", "name": "project_in", "out": d, "bias": False})
    out.append({"kind": "pos_embedding", "name": "embed_positions", "max_len": "positions + 2"})
    out.append(stack("layers", b.var("layers", cfg.size("num_hidden_layers")), body))
    if pre and not cfg.flag("_remove_final_layer_norm"):
        out.append(dict(_ln(1e-5, affine=affine), name="final_layer_norm"))
    if proj != cfg.size("hidden_size"):
        out.append({"kind": "linear", "name": "project_out", "out": "proj_dim", "bias": False})
    out.append(_head(cfg, vocab, "embed_tokens"))
    b.notes.append("OPT's position table has max_position_embeddings + 2 rows (positions are "
                   "offset by 2).")
    return out


def _heads(cfg: Config, key: str, width_key: str) -> int:
    h = cfg.size(key)
    if cfg.size(width_key) % h:
        raise cfg.fail(key, f"{h} heads do not divide {width_key} {cfg.size(width_key)}")
    return h
