"""Pieces every family's translation shares: the forward input, activations, norms, the
decoder stack and the language-model head, written as spec layers over spec variables."""
from __future__ import annotations

from .read import Config

#: The forward pass is counted on T tokens: the context the config declares, at most this
#: many (the same default input as ``paramcount model CONFIG.json`` on the meta device).
MAX_DEFAULT_TOKENS = 4096

#: transformers' activation names (``ACT2FN``) -> the spec language's
ACTIVATIONS = {"silu": "silu", "swish": "silu", "gelu": "gelu", "relu": "relu",
               "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu_fast": "gelu_tanh",
               "gelu_python": "gelu", "quick_gelu": "quick_gelu"}


class Built:
    """A spec under construction: its variables (sizes named once) and notes."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.vars: dict[str, int] = {}
        self.notes: list[str] = []

    def var(self, name: str, value: int) -> str:
        self.vars[name] = value
        return name

    def tokens(self, context: int | None) -> str:
        t = min(context or 512, MAX_DEFAULT_TOKENS)
        self.notes.append(f"Forward pass: T = {t} tokens (the config's context, at most "
                          f"{MAX_DEFAULT_TOKENS}), batch 1, logits at every position.")
        return self.var("T", t)

    def act(self, key: str) -> str:
        name = self.cfg.text(key)
        if name not in ACTIVATIONS:
            raise self.cfg.fail(key, f"activation {name[:40]!r} is not one of "
                                     f"{', '.join(sorted(ACTIVATIONS))}")
        return ACTIVATIONS[name]


def residual(name: str, layers: list) -> dict:
    return {"kind": "residual", "name": name, "layers": layers}


def stack(name: str, repeat, layers: list, **kw) -> dict:
    return {"kind": "sequential", "name": name, "repeat": repeat, "layers": layers, **kw}


def lm_head(vocab: str, tie: str | None, bias: bool = False) -> dict:
    head = {"kind": "linear", "name": "lm_head", "out": vocab, "bias": bias, "ptype": "embedding"}
    if tie:
        head["tie"] = tie
    return head


def runs(kinds: list[str]) -> list[tuple[str, int, int]]:
    """Consecutive equal layer kinds: [(kind, first index, count), ...]."""
    out: list[tuple[str, int, int]] = []
    for i, k in enumerate(kinds):
        if out and out[-1][0] == k:
            out[-1] = (k, out[-1][1], out[-1][2] + 1)
        else:
            out.append((k, i, 1))
    return out
