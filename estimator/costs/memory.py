"""Training memory by the published formulas, sharded, and whether it fits (torch-free).

Model states (Rajbhandari et al. 2020, "ZeRO", s3.1 and Figure 1): with Ψ parameters,
mixed-precision Adam holds 2Ψ bytes of fp16/bf16 weights, 2Ψ of gradients and KΨ = 12Ψ of
optimizer states (fp32 master weights, momentum and variance): 16Ψ in all. By precision and
optimizer (bytes per parameter: weights + gradients + states):

==============  ==========  ===========  ==============  =========
precision       SGD         momentum     Adam / AdamW    source
==============  ==========  ===========  ==============  =========
fp32            4 + 4 + 0   4 + 4 + 4    4 + 4 + 8       optimizer state sizes (torch.optim)
bf16/fp16-mixed 2 + 2 + 4   2 + 2 + 8    2 + 2 + 12      ZeRO s3.1 (K = 12 for Adam)
==============  ==========  ===========  ==============  =========

ZeRO sharding over N_d data-parallel ranks (ZeRO Figure 1): stage 1 shards the optimizer
states (w + g + k/N_d), stage 2 also the gradients (w + (g + k)/N_d), stage 3 also the weights
((w + g + k)/N_d). Tensor (t) and pipeline (p) parallelism split the model states by t·p.

Activations of one transformer layer (Korthikanti et al. 2022, "Reducing Activation
Recomputation in Large Transformer Models", s4.1 eq. 1, s4.2 and Table 2), sequence s,
micro-batch b, hidden h, heads a, 16-bit activations and 1-byte dropout masks:

* no recomputation: ``s·b·h·(34 + 5·a·s/h)`` bytes;
* tensor parallel t with sequence parallelism: ``s·b·h·(34 + 5·a·s/h) / t``;
* selective recomputation (attention's softmax/dropout recomputed) + sequence parallel:
  ``34·s·b·h / t``;
* full recomputation (only each layer's input kept): ``2·s·b·h`` (s4.3).

With the 1F1B pipeline schedule the first stage keeps p micro-batches in flight, so its
activation memory equals that of all L layers (s4.2.3): ``L x per-layer`` whatever p. The
embedding, final norm and logits terms are left out, as in the paper (s4.3: under ~1%
for large models). fp32 activations: twice the 16-bit bytes (masks unchanged) -- an
extension of the formula, flagged in the notes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from ..errors import InputError

#: the most parameters ``--params`` may name: a million times the largest model published
MAX_PARAMS = 1e18

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
PRECISIONS = ("fp32", "bf16-mixed", "fp16-mixed")
RECOMPUTE = ("none", "selective", "full")
_PREC_ALIASES = {"bf16": "bf16-mixed", "fp16": "fp16-mixed", "mixed": "bf16-mixed",
                 "float32": "fp32", "bfloat16": "bf16-mixed", "float16": "fp16-mixed"}


def precision_name(text: str) -> str:
    key = str(text).lower()
    key = _PREC_ALIASES.get(key, key)
    if key == "fp8" or key == "fp8-mixed":
        raise InputError("fp8 training keeps 16-bit weights and fp32 master weights and Adam "
                         "states (e.g. Transformer Engine's recipe): its memory is bf16-mixed's "
                         "with fp8 copies of the matrices; use --precision bf16", key="precision")
    if key not in PRECISIONS:
        raise InputError(f"precision {text!r}: one of fp32, bf16 (bf16-mixed), fp16 "
                         "(fp16-mixed)", key="precision")
    return key


def bytes_per_param(precision: str, optimizer: str) -> tuple[int, int, int]:
    """(weights, gradients, optimizer states) bytes per parameter (table above)."""
    precision = precision_name(precision)
    optimizer = str(optimizer).lower()
    if optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer {optimizer!r}: one of {', '.join(OPTIMIZERS)}",
                         key="optimizer")
    moments = {"sgd": 0, "momentum": 4, "adam": 8, "adamw": 8}[optimizer]
    if precision == "fp32":
        return 4, 4, moments
    return 2, 2, moments + 4  # fp32 master weights join the optimizer states (ZeRO's K)


def activation_bytes_per_layer(s: int, b: int, h: int, a: int, *, t: int = 1,
                               recompute: str = "none", sequence_parallel: bool = True,
                               precision: str = "bf16-mixed") -> float:
    """Korthikanti et al. 2022 (module docstring). Without sequence parallelism and t > 1,
    eq. 2: ``s·b·h·(10 + 24/t + 5·a·s/(h·t))``."""
    if recompute not in RECOMPUTE:
        raise InputError(f"recompute {recompute!r}: one of {', '.join(RECOMPUTE)}",
                         key="recompute")
    if recompute == "full":
        out = 2 * s * b * h
    elif recompute == "selective":
        out = 34 * s * b * h / (t if sequence_parallel else 1) if sequence_parallel or t == 1 \
            else s * b * h * (10 + 24 / t)
    elif sequence_parallel or t == 1:
        out = s * b * h * (34 + 5 * a * s / h) / t
    else:
        out = s * b * h * (10 + 24 / t + 5 * a * s / (h * t))
    if precision_name(precision) == "fp32":
        # the 16-bit tensors double; the 1-byte dropout masks (2sbh, and a·s²·b in attention
        # when it is not recomputed) stay 1 byte
        masks = {"none": 2 * s * b * h + a * s * s * b, "selective": 2 * s * b * h,
                 "full": 0}[recompute] / t
        out = 2 * out - masks
    return out


@dataclass
class MemoryEstimate:
    """Bytes per device of one training step by the formulas (and the totals before
    sharding)."""

    name: str
    params: int
    precision: str
    optimizer: str
    per_param: tuple[int, int, int]
    weights: float
    gradients: float
    optimizer_states: float
    activations: float
    activations_per_layer: float
    layers: int
    seq_len: int
    batch: int
    hidden: int
    heads: int
    recompute: str
    zero: int
    dp: int
    tp: int
    pp: int
    hardware: Optional[str] = None
    device_bytes: Optional[float] = None
    notes: list[str] = field(default_factory=list)

    @property
    def model_states(self) -> float:
        return self.weights + self.gradients + self.optimizer_states

    @property
    def total(self) -> float:
        return self.model_states + self.activations

    @property
    def fits(self) -> Optional[bool]:
        return None if self.device_bytes is None else self.total <= self.device_bytes

    @property
    def margin(self) -> Optional[float]:
        """Device memory left (negative: short by)."""
        return None if self.device_bytes is None else self.device_bytes - self.total

    def to_dict(self) -> dict:
        w, g, k = self.per_param
        return {"name": self.name, "params": self.params, "precision": self.precision,
                "optimizer": self.optimizer,
                "bytes_per_param": {"weights": w, "gradients": g, "optimizer_states": k},
                "weights": self.weights, "gradients": self.gradients,
                "optimizer_states": self.optimizer_states, "model_states": self.model_states,
                "activations": self.activations,
                "activations_per_layer": self.activations_per_layer, "layers": self.layers,
                "seq_len": self.seq_len, "batch": self.batch, "hidden": self.hidden,
                "heads": self.heads, "recompute": self.recompute, "zero": self.zero,
                "dp": self.dp, "tp": self.tp, "pp": self.pp, "total": self.total,
                "hardware": self.hardware, "device_bytes": self.device_bytes,
                "fits": self.fits, "margin": self.margin, "notes": list(self.notes)}


def transformer_shape(spec, overrides: Optional[dict] = None) -> dict:
    """Layers L, hidden h, heads a, sequence s, params Ψ of a decoder spec."""
    from .inference import decoder

    dec = decoder(spec, overrides)
    return {"name": dec.name, "layers": len(dec.layers), "hidden": dec.hidden,
            "heads": dec.layers[0].heads, "seq_len": dec.seq_len, "params": dec.params}


def training_memory(spec=None, *, params: Optional[int] = None, layers: Optional[int] = None,
                    hidden: Optional[int] = None, heads: Optional[int] = None,
                    seq_len: Optional[int] = None, batch: int = 1, precision: str = "bf16",
                    optimizer: str = "adamw", recompute: str = "none", zero: int = 0,
                    dp: int = 1, tp: int = 1, pp: int = 1, sequence_parallel: bool = True,
                    hardware: Optional[str] = None, overrides: Optional[dict] = None,
                    name: Optional[str] = None) -> MemoryEstimate:
    """Training memory per device by the formulas of the module docstring. A decoder spec
    supplies Ψ, L, h, a, s; any of them may be given or overridden by keyword."""
    shape = transformer_shape(spec, overrides) if spec is not None else {}
    params = params if params is not None else shape.get("params")
    L = layers or shape.get("layers")
    h = hidden or shape.get("hidden")
    a = heads or shape.get("heads")
    s = seq_len or shape.get("seq_len")
    if params is None:
        raise InputError("training memory needs a spec or --params")
    if isinstance(params, bool) or not isinstance(params, (int, float)) \
            or not math.isfinite(params) or not 1 <= params < MAX_PARAMS:
        raise InputError(f"--params must be a number of parameters from 1 to {MAX_PARAMS:.0e}, "
                         f"got {params!r}", key="params")
    for key, v in (("batch", batch), ("dp", dp), ("tp", tp), ("pp", pp), ("seq", seq_len)):
        if key == "seq" and v is None:
            continue
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise InputError(f"--{key} must be an integer >= 1, got {v!r}", key=key)
    # layouts that cannot exist (Megatron-LM: tensor parallelism splits the heads and the
    # hidden size; pipeline stages hold equal numbers of layers)
    if tp > 1 and a and a % tp:
        raise InputError(f"--tp {tp}: {a} attention heads do not split evenly over {tp} "
                         "tensor-parallel ranks (tensor parallelism splits the heads)", key="tp")
    if tp > 1 and h and h % tp:
        raise InputError(f"--tp {tp}: a hidden size of {h} does not split evenly over {tp} "
                         "tensor-parallel ranks", key="tp")
    if pp > 1 and L and L % pp:
        raise InputError(f"--pp {pp}: {L} layers do not split evenly into {pp} pipeline "
                         "stages" + (" (more stages than layers)" if pp > L else ""), key="pp")
    if zero not in (0, 1, 2, 3):
        raise InputError(f"--zero {zero!r}: ZeRO stage 0, 1, 2 or 3", key="zero")
    prec = precision_name(precision)
    w, g, k = bytes_per_param(prec, optimizer)
    per_rank = params / (tp * pp)
    weights = per_rank * w / (dp if zero >= 3 else 1)
    grads = per_rank * g / (dp if zero >= 2 else 1)
    states = per_rank * k / (dp if zero >= 1 else 1)
    notes = [f"model states: {w}+{g}+{k} bytes per parameter ({prec}, {optimizer}; ZeRO, "
             "Rajbhandari et al. 2020 s3.1)"]
    if zero:
        notes.append(f"ZeRO stage {zero} over {dp} data-parallel ranks: "
                     + {1: "optimizer states", 2: "optimizer states and gradients",
                        3: "optimizer states, gradients and weights"}[zero] + f" / {dp}")
    elif dp > 1:
        notes.append(f"{dp} data-parallel ranks without ZeRO: every rank holds all model states")
    per_layer = act = 0.0
    if L and h and a and s:
        per_layer = activation_bytes_per_layer(s, batch, h, a, t=tp, recompute=recompute,
                                               sequence_parallel=sequence_parallel,
                                               precision=prec)
        act = per_layer * L  # 1F1B: the first stage holds p micro-batches of L/p layers
        notes.append(f"activations: Korthikanti et al. 2022 ({recompute} recomputation"
                     + (", sequence parallel" if tp > 1 and sequence_parallel else "")
                     + f"), s={s}, b={batch}, h={h}, a={a}, {L} layers"
                     + (f" (first of {pp} pipeline stages holds {pp} micro-batches of "
                        f"{L // pp} layers)" if pp > 1 else ""))
        if prec == "fp32":
            notes.append("fp32 activations: the 16-bit figures doubled, dropout masks 1 byte")
    else:
        notes.append("activations not estimated: the transformer shape (layers, hidden, "
                     "heads, sequence) is incomplete")
    device_bytes = acc_name = None
    if hardware:
        from .hardware import load_table

        acc = load_table().lookup(hardware)
        if acc.memory is None:
            raise InputError(f"{acc.name}: the accelerator table has no memory figure",
                             key="hardware")
        device_bytes = acc.memory * 1e9 / acc.chips
        acc_name = acc.name
        notes.append(f"{acc.name}: {acc.memory:g} GB per {acc.kind} (accelerator table)"
                     + (f", {acc.chips} chips: {acc.memory / acc.chips:g} GB each"
                        if acc.chips > 1 else ""))
    return MemoryEstimate(name=name or shape.get("name") or "model", params=int(params),
                          precision=prec, optimizer=optimizer, per_param=(w, g, k),
                          weights=weights, gradients=grads, optimizer_states=states,
                          activations=act, activations_per_layer=per_layer, layers=L or 0,
                          seq_len=s or 0, batch=batch, hidden=h or 0, heads=a or 0,
                          recompute=recompute, zero=zero, dp=dp, tp=tp, pp=pp,
                          hardware=acc_name, device_bytes=device_bytes, notes=notes)
