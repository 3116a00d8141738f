"""Encoders and encoder-decoders: BERT, RoBERTa (post-norm encoders with word, position and
token-type tables) and T5 (relative position biases, RMS-style norms, no biases)."""
from __future__ import annotations

from .common import Built, lm_head, residual, stack
from .read import Config

_BARE = ("BertModel", "RobertaModel", "T5Model")


def _arch(raw_arch) -> str | None:
    """The class the config's ``architectures`` names first, if it is a string."""
    if isinstance(raw_arch, list) and raw_arch and isinstance(raw_arch[0], str):
        return raw_arch[0]
    return None


def bert(cfg: Config, b: Built, arch: str | None) -> list:
    """BertForMaskedLM / BertLMHeadModel / RobertaForMaskedLM (the default): embeddings
    (word + position + token type, then LayerNorm), post-norm layers, the MLM head (dense,
    activation, LayerNorm, decoder tied to the word table plus its own bias). ``BertModel``
    / ``RobertaModel``: no head, the pooler (dense + tanh) instead."""
    roberta = cfg.family == "roberta"
    vocab = b.var("vocab", cfg.size("vocab_size"))
    d = b.var("d_model", cfg.size("hidden_size"))
    positions = cfg.size("max_position_embeddings")
    eps = cfg.number("layer_norm_eps")
    heads = cfg.size("num_attention_heads")
    if cfg.size("hidden_size") % heads:
        raise cfg.fail("num_attention_heads", f"{heads} heads do not divide hidden_size")
    if roberta:  # positions start after the padding index: max_position_embeddings - pad - 1 usable
        pad = cfg.size("pad_token_id", minimum=0)
        if pad + 1 >= positions:
            raise cfg.fail("max_position_embeddings", f"{positions} leaves no position after "
                                                      f"pad_token_id {pad}")
        b.tokens(positions - pad - 1)
        b.notes.append("RoBERTa numbers positions from pad_token_id + 1: T is at most "
                       "max_position_embeddings - pad_token_id - 1.")
    else:
        b.tokens(positions)
    act = b.act("hidden_act")
    ln = {"kind": "layernorm", "eps": eps}
    layers: list = [
        {"kind": "embedding", "name": "word_embeddings", "vocab": vocab, "dim": d},
        {"kind": "pos_embedding", "name": "position_embeddings",
         "max_len": b.var("positions", positions)},
        {"kind": "type_embedding", "name": "token_type_embeddings",
         "types": b.var("types", cfg.size("type_vocab_size"))},
        dict(ln, name="embeddings_norm"),
        stack("layer", b.var("layers", cfg.size("num_hidden_layers")), [
            residual("attention", [{"kind": "attention", "name": "attn", "heads": b.var("heads", heads)}]),
            dict(ln, name="attention_norm"),
            residual("ffn", [{"kind": "mlp", "name": "mlp",
                              "hidden": b.var("ffn", cfg.size("intermediate_size")),
                              "activation": act}]),
            dict(ln, name="output_norm")]),
    ]
    if arch in _BARE:
        layers += [{"kind": "select_token", "name": "first_token"},
                   {"kind": "linear", "name": "pooler", "out": d}, {"kind": "tanh", "name": "pooler_act"}]
        b.notes.append(f"{arch}: the bare encoder with its pooler (dense + tanh over the first "
                       "token's state; counted on every position, as a linear layer).")
        return layers
    tied = cfg.flag("tie_word_embeddings")
    layers += [{"kind": "linear", "name": "transform", "out": d},
               _activation(act),
               dict(ln, name="transform_norm"),
               lm_head(vocab, "word_embeddings" if tied else None, bias=True)]
    b.notes.append("The masked-LM head: dense + activation + LayerNorm, then the decoder "
                   "(tied to the word table) with its own bias of vocab_size.")
    return layers


def _activation(act: str) -> dict:
    if act == "gelu_tanh":
        return {"kind": "gelu", "name": "act", "approximate": "tanh"}
    return {"kind": act if act in ("relu", "gelu", "silu") else "gelu", "name": "act"}


def t5(cfg: Config, b: Built, arch: str | None) -> list:
    """T5ForConditionalGeneration: one shared table, an encoder and a decoder stack with one
    relative-position bias table each (relative_attention_num_buckets x num_heads, in the
    first block), RMS-style norms, no biases, ReLU or gated-GELU feed-forward; the lm_head is
    the shared table (transformers 5's T5Config always ties it)."""
    vocab = b.var("vocab", cfg.size("vocab_size"))
    d = b.var("d_model", cfg.size("d_model"))
    heads = b.var("heads", cfg.size("num_heads"))
    d_kv = b.var("d_kv", cfg.size("d_kv"))
    eps = cfg.number("layer_norm_epsilon")
    proj = cfg.text("feed_forward_proj")
    parts = proj.split("-")
    if len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
        raise cfg.fail("feed_forward_proj", "must be ACT or gated-ACT (e.g. relu, gated-gelu)")
    gated = parts[0] == "gated" and len(parts) == 2
    act_name = "gelu_new" if proj == "gated-gelu" else parts[-1]
    from .common import ACTIVATIONS

    if act_name not in ACTIVATIONS:
        raise cfg.fail("feed_forward_proj", f"activation {act_name[:40]!r} is not one of "
                                            f"{', '.join(sorted(ACTIVATIONS))}")
    act = ACTIVATIONS[act_name]
    buckets = b.var("buckets", cfg.size("relative_attention_num_buckets"))
    if cfg.size("relative_attention_num_buckets") < 4:
        raise cfg.fail("relative_attention_num_buckets", "must be at least 4 (bidirectional "
                                                         "buckets split in halves)")
    max_distance = b.var("max_distance", cfg.size("relative_attention_max_distance"))
    t = min(512, 4096)
    b.var("S", t)
    b.var("T", t)
    b.notes.append(f"Forward pass: {t} encoder tokens and {t} decoder tokens (T5 declares no "
                   "context; the same default input as `paramcount model`), batch 1.")
    norm = {"kind": "rmsnorm", "eps": eps}
    attn = {"kind": "attention", "name": "attn", "heads": heads, "head_dim": d_kv, "bias": False}
    ffn = [dict(norm, name="norm"), {"kind": "mlp", "name": "mlp",
                                     "hidden": b.var("d_ff", cfg.size("d_ff")),
                                     "activation": act, "gated": gated, "bias": False}]
    enc = stack("encoder", b.var("layers", cfg.size("num_layers")), [
        residual("self_attn", [dict(norm, name="norm"), dict(attn, position_bias="enc_bias")]),
        residual("ffn", ffn)], **{"from": "shared"})
    layers: list = [
        {"kind": "embedding", "name": "shared", "vocab": vocab, "dim": d},
        {"kind": "relative_bias", "name": "enc_bias", "heads": heads, "buckets": buckets,
         "max_distance": max_distance, "bidirectional": True},
        enc,
        dict(norm, name="enc_norm"),
        {"kind": "embedding", "name": "tgt_embed", "from": "tgt", "vocab": vocab, "dim": d,
         "share": "shared"},
        {"kind": "relative_bias", "name": "dec_bias", "heads": heads, "buckets": buckets,
         "max_distance": max_distance, "bidirectional": False},
        stack("decoder", b.var("decoder_layers", cfg.size("num_decoder_layers")), [
            residual("self_attn", [dict(norm, name="norm"),
                                   dict(attn, causal=True, position_bias="dec_bias")]),
            residual("cross_attn", [dict(norm, name="norm"), dict(attn, memory="enc_norm")]),
            residual("ffn", ffn)], **{"from": "tgt_embed"}),
        dict(norm, name="dec_norm"),
    ]
    if arch != "T5Model":
        layers.append(lm_head(vocab, "shared"))
        b.notes.append("The lm_head is the shared table, counted once: transformers 5's "
                       "T5Config ties it whatever tie_word_embeddings says (false, as in T5 "
                       "v1.1 and Flan-T5, only turns off the d_model^-0.5 output scaling).")
    return layers
