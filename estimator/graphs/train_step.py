"""``count(model, inputs, step="train")``: one training step counted on the meta device.

What runs
---------
The model's parameters are swapped for meta tensors that keep each parameter's
``requires_grad`` for the whole step (``torch.nn.utils.stateless``, the machinery of
``torch.func.functional_call``; tied weights stay tied; restored afterwards), then, under one
dispatch-level counter:

1. **forward** in training mode (dropout on: its masks are free data movement);
2. **loss**: ``loss_fn(output)`` (default: the mean of the first floating-point output; any
   real loss adds only elementwise work, e.g. log-softmax, which lands in ``other_flops``);
3. **backward**: ``loss.backward()``, the autograd engine's own graph, so only the gradients
   autograd needs are computed;
4. **optimizer**: ``torch.optim`` (SGD, SGD with momentum, Adam, AdamW; ``foreach=False``) on
   the meta parameters and gradients, counted at its second step (steady state: SGD with
   momentum only copies the gradient into its buffer at the first).

Per-operator FLOPs are :mod:`estimator.graphs.torch_ops`'s (PyTorch's own formulas for the
matrix class; one multiply-add = 2 FLOPs). Modules are attributed with PyTorch's
``torch.distributed._tools.mod_tracker.ModTracker``, which follows modules into the backward.

How the backward is split
-------------------------
Each matrix-class backward product computes the gradient of one operand of a forward product,
multiplying the upstream gradient by the *other* operand:

* **input gradient** (``dX``): one operand is a parameter (``dX = dY·W``), or neither forward
  operand was a parameter (the attention score and value products ``Q·Kᵀ`` and ``P·V``: both
  operands are activations, so both get input gradients and nothing a weight gradient);
* **weight gradient** (``dW = dYᵀ·X``): the product's result has the shape of a trainable
  parameter of the module running (or its transpose, as ``Linear`` stores ``W`` as out x in);
* ``convolution_backward`` computes both in one operator: its FLOPs are split with PyTorch's
  own formula evaluated once per ``output_mask`` entry;
* fused attention backward (``_scaled_dot_product_*_backward``): PyTorch's formula, all input
  gradient: the four gradient products plus the recomputed score product (flash kernels keep
  no T x S matrix), i.e. 2.5 x the forward score and value products.

The known cases then follow from what autograd computes, not from a rule of thumb:

* a dense layer costs 2 x forward in the backward (``dX`` and ``dW``, one forward's worth each);
* the **first layer** gets no input gradient (its input does not require grad): 1 x forward;
* **frozen** parameters get no weight gradient, and layers below the last trainable one get
  no backward at all;
* an **embedding** has no matrix product: its forward is a gather (free) and its weight
  gradient a scatter-add (``embedding_dense_backward``: one add per gradient element,
  ``other_flops``);
* **activation recomputation** (``torch.utils.checkpoint``): the forward ops that run again
  inside the backward (a module forward firing while the engine runs) are counted apart as
  ``recompute``, not as backward.

The measured backward/forward ratio is ``(input + weight gradient FLOPs) / forward FLOPs``
(matrix class, recomputation excluded: the model-FLOP convention).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..errors import InputError, ModelError, require

OPTIMIZERS = ("none", "sgd", "momentum", "adam", "adamw")
PHASES = ("forward", "loss", "input_grad", "weight_grad", "recompute", "optimizer")


@dataclass
class StepRow:
    """One module: FLOPs (matrix class) and other FLOPs per phase, inclusive of submodules."""

    path: str
    kind: str
    params: int
    trainable: int
    flops: dict[str, int]
    other: dict[str, int]
    depth: int = 0

    @property
    def backward_flops(self) -> int:
        return self.flops.get("input_grad", 0) + self.flops.get("weight_grad", 0)

    @property
    def ratio(self) -> Optional[float]:
        f = self.flops.get("forward", 0)
        return self.backward_flops / f if f else None

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "params": self.params,
                "trainable": self.trainable, "flops": dict(self.flops),
                "other_flops": dict(self.other), "backward_ratio": self.ratio}


@dataclass
class TrainStep:
    """A counted training step. FLOPs per phase: forward, loss, input_grad, weight_grad,
    recompute, optimizer; ``flops`` matrix class, ``other`` elementwise (DESIGN.md)."""

    name: str
    params: int
    trainable_params: int
    optimizer: str
    flops: dict[str, int]
    other: dict[str, int]
    layers: list[StepRow] = field(default_factory=list)
    by_op: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_ops: dict[str, int] = field(default_factory=dict)
    input_shapes: dict[str, tuple] = field(default_factory=dict)
    tokens: Optional[int] = None
    notes: list[str] = field(default_factory=list)

    # the count() contract
    @property
    def active_params(self) -> int:
        return self.params

    @property
    def forward_flops(self) -> int:
        return self.flops["forward"]

    @property
    def macs(self) -> int:
        return self.forward_flops // 2

    @property
    def input_grad_flops(self) -> int:
        return self.flops["input_grad"]

    @property
    def weight_grad_flops(self) -> int:
        return self.flops["weight_grad"]

    @property
    def backward_flops(self) -> int:
        return self.input_grad_flops + self.weight_grad_flops

    @property
    def recompute_flops(self) -> int:
        return self.flops["recompute"]

    @property
    def optimizer_flops(self) -> int:
        """The optimizer update: elementwise work only (other_flops)."""
        return self.other["optimizer"]

    @property
    def backward_ratio(self) -> Optional[float]:
        """Measured backward / forward (matrix-class FLOPs, recomputation excluded)."""
        return self.backward_flops / self.forward_flops if self.forward_flops else None

    @property
    def step_flops(self) -> int:
        """Everything the step computes: all phases, both classes."""
        return sum(self.flops.values()) + sum(self.other.values())

    @property
    def frozen_params(self) -> int:
        return self.params - self.trainable_params

    def layer(self, path: str) -> StepRow:
        for r in self.layers:
            if r.path == path:
                return r
        raise KeyError(path)

    def to_dict(self) -> dict:
        return {"name": self.name, "params": self.params, "active_params": self.params,
                "trainable_params": self.trainable_params, "optimizer": self.optimizer,
                "forward_flops": self.forward_flops, "backward_flops": self.backward_flops,
                "input_grad_flops": self.input_grad_flops,
                "weight_grad_flops": self.weight_grad_flops,
                "recompute_flops": self.recompute_flops,
                "optimizer_flops": self.optimizer_flops,
                "backward_ratio": self.backward_ratio, "step_flops": self.step_flops,
                "flops": dict(self.flops), "other_flops": dict(self.other),
                "input_shapes": {k: list(v) for k, v in self.input_shapes.items()},
                "tokens": self.tokens,
                "layers": [r.to_dict() for r in self.layers], "by_op": self.by_op,
                "unknown_ops": dict(self.unknown_ops), "notes": list(self.notes)}


# ----------------------------------------------------------------------------------------
# backward operators the forward table does not hold
# ----------------------------------------------------------------------------------------

def _backward_other(torch) -> dict:
    """Elementwise estimates (other_flops) for backward kernels, per element of the gradient
    they produce, mirroring the forward estimates of :mod:`torch_ops`: a norm's backward 5 per
    element (+2 affine: the two parameter gradients), softmax 3 (``g·y``, a row sum, a
    subtract-multiply), an activation's 2 (its derivative, times the gradient), dropout 1 (mask
    times gradient), an embedding gradient 1 (the scatter-add of each gradient row)."""
    aten = torch.ops.aten

    def per_elem(k, idx=0):
        def f(args, kwargs, out):
            t = args[idx]
            return k * t.numel() if isinstance(t, torch.Tensor) else 0
        return f

    def norm(args, kwargs, out):
        mask = args[-1] if isinstance(args[-1], (list, tuple)) else [True, True, True]
        return (5 + 2 * int(bool(mask[1] or (len(mask) > 2 and mask[2])))) * args[0].numel()

    table = {
        aten.native_layer_norm_backward: norm, aten.native_batch_norm_backward: norm,
        aten.native_group_norm_backward: norm,
        aten._softmax_backward_data: per_elem(3), aten._log_softmax_backward_data: per_elem(3),
        aten.gelu_backward: per_elem(2), aten.silu_backward: per_elem(2),
        aten.threshold_backward: per_elem(1), aten.tanh_backward: per_elem(2),
        aten.sigmoid_backward: per_elem(2), aten.native_dropout_backward: per_elem(1),
        aten.embedding_dense_backward: per_elem(1),
        aten.hardtanh_backward: per_elem(1), aten.leaky_relu_backward: per_elem(1),
        aten.elu_backward: per_elem(2), aten.hardswish_backward: per_elem(2),
        aten.max_pool2d_with_indices_backward: per_elem(1),
        aten.avg_pool2d_backward: per_elem(1),
        aten._adaptive_avg_pool2d_backward: per_elem(1),
    }
    if hasattr(aten, "_fused_rms_norm_backward"):
        table[aten._fused_rms_norm_backward] = per_elem(5)
    return table


def _make_mode(torch, tracker):
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry, sdpa_backward_flop_count

    from . import torch_ops
    from .torch_count import refuse_value_reads

    aten = torch.ops.aten
    conv_bwd = flop_registry[aten.convolution_backward]
    sdpa_bwd = {getattr(aten, n) for n in (
        "_scaled_dot_product_flash_attention_for_cpu_backward",
        "_scaled_dot_product_efficient_attention_backward",
        "_scaled_dot_product_flash_attention_backward",
        "_scaled_dot_product_cudnn_attention_backward") if hasattr(aten, n)}
    bwd_other = _backward_other(torch)

    class StepCounter(TorchDispatchMode):
        def __init__(self, root: str, param_ids: set, shapes_of: dict):
            super().__init__()
            self.root = root                # ModTracker's name of the root module
            self.param_ids = param_ids      # id() of the parameter tensors
            self.shapes_of = shapes_of      # module path -> shapes of its trainable params
            self.phase = "forward"
            self.fw_depth = 0               # module forwards running (recompute detection)
            self.flops = defaultdict(lambda: defaultdict(int))   # path -> phase -> FLOPs
            self.other = defaultdict(lambda: defaultdict(int))
            self.by_op = defaultdict(lambda: defaultdict(int))   # phase -> op -> FLOPs
            self.unknown: dict[str, int] = defaultdict(int)

        def _paths(self) -> list[str]:
            out = []
            for name in tracker.parents:
                if name == "Global":
                    continue
                out.append("" if name == self.root else name[len(self.root) + 1:])
            if "" not in out:
                out.append("")
            return out

        def _is_param(self, t) -> bool:
            return isinstance(t, torch.Tensor) and (
                id(t) in self.param_ids or id(getattr(t, "_base", None)) in self.param_ids)

        def _grad_kind(self, args, out, paths) -> str:
            """weight_grad when the result has a trainable parameter's shape (or its
            transpose) and no operand is a parameter; otherwise input_grad."""
            if any(self._is_param(a) for a in args):
                return "input_grad"
            t = torch_ops._first_tensor(out)
            if t is None:
                return "input_grad"
            shp = tuple(t.shape)
            flat = tuple(d for d in shp if d != 1)  # a bias gradient may keep a 1 x n shape
            for p in paths:
                for s in self.shapes_of.get(p, ()):
                    if shp == s or (len(s) == 2 and shp == s[::-1]) or (
                            len(s) == 1 and flat == s):
                        return "weight_grad"
            return "input_grad"

        def _add(self, kind, paths, f, o, name):
            if f:
                self.by_op[kind][name] += f
            for p in paths:
                if f:
                    self.flops[p][kind] += f
                if o:
                    self.other[p][kind] += o

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            refuse_value_reads(func, args, torch)
            out = func(*args, **kwargs)
            name = torch_ops.op_name(func)
            if name.startswith("profiler."):  # record_function markers (optimizer.step)
                return out
            packet = func.overloadpacket
            phase = self.phase
            if phase == "backward" and self.fw_depth > 0:
                phase = "recompute"
            if phase == "backward":
                if packet is aten.convolution_backward:
                    paths = self._paths()
                    mask = list(args[10])
                    for i, kind in ((0, "input_grad"), (1, "weight_grad")):
                        if mask[i]:
                            one = [False, False, False]
                            one[i] = True
                            a = list(args)
                            a[10] = one
                            self._add(kind, paths, int(conv_bwd(*a, out_val=out)), 0, name)
                    if mask[2]:  # bias gradient: a sum over batch and positions
                        self._add("weight_grad", paths, 0, args[0].numel(), name)
                    return out
                if packet in sdpa_bwd:
                    paths = self._paths()
                    f = int(sdpa_backward_flop_count(tuple(args[0].shape), tuple(args[1].shape),
                                                     tuple(args[2].shape), tuple(args[3].shape)))
                    self._add("input_grad", paths, f, 5 * args[1].numel() // args[1].shape[-1]
                              * args[2].shape[-2], name)
                    return out
                if packet in bwd_other:
                    paths = self._paths()
                    kind = self._grad_kind(args, out, paths)
                    self._add(kind, paths, 0, int(bwd_other[packet](args, kwargs, out)), name)
                    return out
            cls, mm, oth = torch_ops.classify(func)
            if cls == "free":
                return out
            if cls == "unknown":
                self.unknown[name] += 1
                return out
            f = mm(args, kwargs, out) if mm is not None else 0
            o = oth(args, kwargs, out) if oth is not None else 0
            if not (f or o):
                return out
            paths = self._paths()   # only for an operator that adds work: most are free
            kind = self._grad_kind(args, out, paths) if phase == "backward" else phase
            self._add(kind, paths, int(f), int(o), name)
            return out

    return StepCounter


# ----------------------------------------------------------------------------------------
# the step
# ----------------------------------------------------------------------------------------

def _default_loss(output, torch):
    from .torch_count import _first_tensor

    t = getattr(output, "loss", None)
    if not isinstance(t, torch.Tensor):
        t = getattr(output, "logits", None)
    if not isinstance(t, torch.Tensor):
        t = _first_tensor(output, torch)
    if t is None or not t.is_floating_point():
        raise ModelError("the model returned no floating-point tensor to put a loss on: "
                         "pass loss_fn=callable(output) -> scalar")
    return t.mean()


def make_optimizer(name: str, params: list, torch):
    """The torch.optim optimizer ``name`` (see :data:`OPTIMIZERS`) over ``params``."""
    o = torch.optim
    if name == "sgd":
        return o.SGD(params, lr=0.1, foreach=False)
    if name == "momentum":
        return o.SGD(params, lr=0.1, momentum=0.9, foreach=False)
    if name == "adam":
        return o.Adam(params, foreach=False)
    if name == "adamw":
        return o.AdamW(params, foreach=False)
    raise InputError(f"optimizer {name!r}: one of {', '.join(OPTIMIZERS)}")


def count_train_step(model, inputs=None, *, name: Optional[str] = None,
                     optimizer: str = "adamw", loss_fn: Optional[Callable] = None,
                     dtype=None) -> TrainStep:
    """Count one training step of ``model`` on ``inputs`` (shapes or tensors, as
    :func:`estimator.graphs.torch_count.count_module` takes them) on the meta device."""
    torch = require("torch", "torch")
    from torch.distributed._tools.mod_tracker import ModTracker
    from torch.nn.utils.stateless import _reparametrize_module

    from .torch_count import (_DataDependent, _model_error, _prepare_inputs, _shapes,
                              _takes_token_ids)

    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"count(model, step='train') needs a torch.nn.Module, "
                         f"got {type(model).__name__}")
    optimizer = (optimizer or "none").lower()
    if optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer {optimizer!r}: one of {', '.join(OPTIMIZERS)}")
    name = name or type(model).__name__
    modules = dict(model.named_modules())

    # meta stand-ins that keep requires_grad; tied tensors map to one stand-in
    memo: dict[int, Any] = {}
    mapping: dict[str, Any] = {}
    unique = []
    for pname, p in model.named_parameters(remove_duplicate=False):
        if id(p) not in memo:
            m = torch.empty(p.shape, dtype=dtype or p.dtype, device="meta")
            memo[id(p)] = m.requires_grad_(p.requires_grad)
            unique.append((pname, p))
        mapping[pname] = memo[id(p)]
    for bname, b in model.named_buffers(remove_duplicate=False):
        mapping[bname] = torch.empty(b.shape, dtype=b.dtype, device="meta")
    params = sum(p.numel() for _, p in unique)
    trainable = sum(p.numel() for _, p in unique if p.requires_grad)
    shapes_of = {path: [tuple(p.shape) for p in m.parameters(recurse=False) if p.requires_grad]
                 for path, m in modules.items()}

    default_dtype = dtype or (unique[0][1].dtype if unique and unique[0][1].is_floating_point()
                              else torch.float32)
    args, kwargs = _prepare_inputs(inputs, default_dtype, True, torch,
                                   ids_default=_takes_token_ids(model, torch))
    input_shapes = _shapes(kwargs, torch) if kwargs else _shapes(args, torch, "input")
    tokens = None
    for v in (list(kwargs.values()) if kwargs else list(args)):
        if isinstance(v, torch.Tensor) and not v.is_floating_point() and v.dim() == 2 \
                and v.dtype != torch.bool:
            tokens = int(v.numel())
            break

    tracker = ModTracker()
    counter = _make_mode(torch, tracker)(type(model).__name__, {id(t) for t in memo.values()},
                                         shapes_of)

    def pre(mod, a):
        counter.fw_depth += 1

    def post(mod, a, out):
        counter.fw_depth -= 1

    from torch.nn.modules.module import (register_module_forward_hook,
                                         register_module_forward_pre_hook)

    training = {p: m.training for p, m in modules.items()}
    handles = []
    stack_at_error: list[tuple[str, dict]] = []
    try:
        handles.append(register_module_forward_pre_hook(pre))
        handles.append(register_module_forward_hook(post, always_call=True))
        model.train(True)
        # the meta tensors stay in place for the whole step: a checkpointed block runs its
        # forward again inside the backward
        swap = _reparametrize_module(model, mapping, tie_weights=True, strict=False)
        with torch.enable_grad(), swap, tracker, counter:
            try:
                counter.phase = "forward"
                output = model(*args, **kwargs)
            except _DataDependent as exc:
                raise _model_error(exc, [], modules, True) from None
            except Exception as exc:  # noqa: BLE001 - one clear line, as count(model) does
                raise _model_error(exc, stack_at_error, modules, True) from exc
            counter.phase = "loss"
            loss = (loss_fn or (lambda o: _default_loss(o, torch)))(output)
            if not (isinstance(loss, torch.Tensor) and loss.numel() == 1):
                raise ModelError("the loss must be a one-element tensor")
            counter.phase = "backward"
            if trainable and loss.requires_grad:
                loss.backward()
            leaves = [t for t in memo.values() if t.requires_grad and t.grad is not None]
            counter.phase = "none"
            if optimizer != "none" and leaves:
                opt = make_optimizer(optimizer, leaves, torch)
                opt.step()                 # first step: states created (not counted)
                counter.phase = "optimizer"
                opt.step()                 # steady state, counted
    finally:
        for h in handles:
            h.remove()
        for path, m in modules.items():
            m.training = training[path]

    # rows: inclusive per module
    agg_p: dict[str, int] = defaultdict(int)
    agg_t: dict[str, int] = defaultdict(int)
    for pname, p in unique:
        parts = pname.split(".")[:-1]
        for i in range(len(parts) + 1):
            agg_p[".".join(parts[:i])] += p.numel()
            if p.requires_grad:
                agg_t[".".join(parts[:i])] += p.numel()
    rows = []
    for path, m in modules.items():
        if not path:
            continue
        rows.append(StepRow(path=path, kind=type(m).__name__, params=agg_p.get(path, 0),
                            trainable=agg_t.get(path, 0),
                            flops={k: counter.flops[path].get(k, 0) for k in PHASES},
                            other={k: counter.other[path].get(k, 0) for k in PHASES},
                            depth=path.count(".")))
    flops = {k: counter.flops[""].get(k, 0) for k in PHASES}
    other = {k: counter.other[""].get(k, 0) for k in PHASES}

    notes = [f"one training step on the meta device: forward (train mode), loss, backward, "
             f"{optimizer} update (second step, steady state)" if optimizer != "none" else
             "one training step on the meta device: forward (train mode), loss, backward"]
    if trainable < params:
        notes.append(f"{params - trainable:,} frozen parameters: no weight gradients for them")
    if flops["recompute"]:
        notes.append("activation recomputation: the forward work run again inside the backward "
                     "is counted apart (recompute), not in the backward ratio")
    if counter.unknown:
        notes.append("operators without a FLOP formula (not counted): " + ", ".join(
            f"{k} x{v}" for k, v in sorted(counter.unknown.items())))
    return TrainStep(name=name, params=params, trainable_params=trainable, optimizer=optimizer,
                     flops=flops, other=other, layers=rows,
                     by_op={k: dict(sorted(v.items())) for k, v in counter.by_op.items()},
                     unknown_ops=dict(sorted(counter.unknown.items())),
                     input_shapes=input_shapes, tokens=tokens, notes=notes)


def count_spec_step(spec, *, batch: int = 1, optimizer: str = "adamw",
                    causal: str = "full") -> TrainStep:
    """Build a spec on the meta device and count one training step of it."""
    from ..analytic import load_spec
    from .torch_build import build_module, example_inputs

    spec = load_spec(spec)
    model = build_module(spec, device="meta", causal=causal)
    ins = example_inputs(spec, device="meta", batch=batch)
    return count_train_step(model, ins, name=spec.name, optimizer=optimizer)
