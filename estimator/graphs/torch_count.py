"""``count(nn.Module)``: parameters, active parameters and FLOPs of a PyTorch model.

How it counts
-------------
* **Parameters** are the model's unique tensors (tied or shared weights once), split into
  trainable and frozen; buffers (BatchNorm running statistics, rotary tables) are reported
  apart and never added to ``params``.
* **FLOPs** come from a ``TorchDispatchMode`` that sees every ATen operator the forward
  dispatches (the principle of PyTorch's ``FlopCounterMode``); the per-operator formulas live
  in :mod:`estimator.graphs.torch_ops`. Matrix-class work goes to ``forward_flops``, elementwise work
  to ``other_flops``, operators it does not know to ``unknown_ops`` (name -> call count).
* **No real arithmetic.** By default (``device="meta"``) every parameter, buffer and input is
  swapped for a meta tensor for the duration of one forward (``torch.func.functional_call``),
  so a 175B-parameter model is counted without memory for its weights. ``device="real"`` runs
  the forward on the given tensors instead (for small models whose forward branches on data
  values, which the meta device cannot follow).
* **The model is left unchanged**: parameters, buffers, ``training`` flags, registered hooks,
  devices and any temporary MoE switches are restored in ``finally`` blocks, also after an
  exception inside the model's forward.
* The forward is counted in eval mode under ``torch.no_grad()`` (inference forward: dropout
  off), whatever mode the model is in, so train/eval and grad/no-grad give the same FLOPs.
* **Mixture of experts**: routed-expert blocks are detected structurally (Hugging Face fused
  experts as in Mixtral, Qwen2-MoE, DeepSeek-V3; any block with a ``ModuleList`` of experts and
  a top-k attribute). Active parameters = total - (E - k) experts per block. On the meta device
  routing cannot run on values, so every token is sent through k experts: the Hugging Face
  ``batched_mm`` experts path (exact shapes, one gathered expert weight per token and choice)
  or, for a ``ModuleList`` block, the first k experts run on all tokens. Either way the routed
  work is exactly tokens x k x (one expert's work), which is what any routing costs when no
  token is dropped. The result's notes say which rule determined the active set.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from ..count import Count, CountResult, LayerRow
from ..errors import InputError, ModelError, require
from ..spec.yamlload import paused_gc

_INT_INPUT_NAMES = {"input_ids", "attention_mask", "token_type_ids", "position_ids",
                    "decoder_input_ids", "decoder_attention_mask", "labels", "cache_position"}
_TOPK_ATTRS = ("top_k", "num_experts_per_tok", "topk", "k", "num_selected", "moe_top_k",
               "n_activated_experts", "num_active_experts")
_DTYPES = {"float32": "float32", "float": "float32", "fp32": "float32", "float16": "float16",
           "fp16": "float16", "half": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float64": "float64", "double": "float64", "int64": "int64", "long": "int64",
           "int32": "int32", "int": "int64", "bool": "bool", "uint8": "uint8", "int8": "int8"}


# ----------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------

def parse_shape(text: str, torch=None):
    """``"1x3x224x224"`` -> ``(1, 3, 224, 224)``; ``"1x128:int64"`` -> ``((1, 128), int64)``."""
    torch = torch or require("torch", "torch")
    s, _, dt = str(text).strip().partition(":")
    try:
        if not re.fullmatch(r"\d+([x,* ]+\d+)*", s.strip().lower()):
            raise ValueError(s)
        shape = tuple(int(p) for p in re.split(r"[x,* ]+", s.strip().lower()))
    except ValueError:
        raise InputError(f"input shape {text!r}: expected sizes like 1x3x224x224 "
                         "(optionally :dtype, e.g. 1x128:int64)") from None
    if not shape or any(d < 0 for d in shape):
        raise InputError(f"input shape {text!r}: expected positive sizes like 1x3x224x224")
    dtype = None
    if dt:
        name = _DTYPES.get(dt.strip().lower())
        if name is None:
            raise InputError(f"input shape {text!r}: unknown dtype {dt!r} "
                             f"(one of {', '.join(sorted(_DTYPES))})")
        dtype = getattr(torch, name)
    return shape, dtype


def _takes_token_ids(model, torch) -> bool:
    """Does the model start by looking up token ids (its first module with weights an
    embedding table)? Then an input given only as a shape is int64 token ids."""
    for m in model.modules():
        if next(m.parameters(recurse=False), None) is not None:
            return isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag))
    return False


def _is_shape(x) -> bool:
    return isinstance(x, (tuple, list)) and len(x) > 0 and all(
        isinstance(d, int) and not isinstance(d, bool) for d in x)


def _to_input(x, key, default_dtype, meta: bool, torch, ids_default: bool = False):
    """One input value -> tensor (meta when counting on meta). Shapes become empty tensors."""
    dtype = None
    if isinstance(x, torch.Size):
        x = tuple(x)
    if isinstance(x, str):
        x, dtype = parse_shape(x, torch)
    elif (isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], torch.dtype)
          and (_is_shape(x[0]) or isinstance(x[0], (str, torch.Size)))):
        shape, dtype = x
        x = parse_shape(shape, torch)[0] if isinstance(shape, str) else tuple(shape)
    if _is_shape(x):
        if dtype is None:
            ids = key in _INT_INPUT_NAMES or (key is not None and (
                key == "ids" or key.endswith("_ids") or "mask" in key)) or (
                key is None and ids_default)
            dtype = torch.long if ids else default_dtype
        return torch.zeros(x, dtype=dtype, device="meta" if meta else "cpu")
    if isinstance(x, torch.Tensor):
        if meta and x.device.type != "meta":
            return torch.empty(x.shape, dtype=x.dtype, device="meta")
        return x
    if isinstance(x, (tuple, list)):
        return type(x)(_to_input(v, None, default_dtype, meta, torch, ids_default) for v in x)
    if isinstance(x, dict):
        return {k: _to_input(v, k, default_dtype, meta, torch, ids_default) for k, v in x.items()}
    return x  # ints, flags, None: passed through unchanged


def _prepare_inputs(inputs, default_dtype, meta, torch, ids_default=False):
    """Inputs as (args, kwargs): meta tensors for ``meta``, the given tensors otherwise."""
    if inputs is None:
        raise InputError("count(model) needs an example input: a tensor, a tuple or dict of "
                         "tensors, or shapes such as (1, 3, 224, 224) or {'input_ids': (1, 128)}")
    if isinstance(inputs, dict):
        return (), {k: _to_input(v, k, default_dtype, meta, torch, ids_default)
                    for k, v in inputs.items()}
    if isinstance(inputs, (torch.Tensor, str, torch.Size)) or _is_shape(inputs) or (
            isinstance(inputs, tuple) and len(inputs) == 2 and isinstance(inputs[1], torch.dtype)):
        return (_to_input(inputs, None, default_dtype, meta, torch, ids_default),), {}
    if isinstance(inputs, (tuple, list)):
        return tuple(_to_input(v, None, default_dtype, meta, torch, ids_default)
                     for v in inputs), {}
    raise InputError(f"inputs of type {type(inputs).__name__} not understood: pass a tensor, "
                     "a tuple or dict of tensors, or shapes")


def _shapes(obj, torch, prefix="") -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    if isinstance(obj, torch.Tensor):
        out[prefix or "0"] = tuple(obj.shape)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_shapes(v, torch, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, (tuple, list)):
        for i, v in enumerate(obj):
            out.update(_shapes(v, torch, f"{prefix}.{i}" if prefix else str(i)))
    return out


def _batch_of(args, kwargs, torch) -> int | None:
    """Examples in the input: the leading dim of the first input (``input_ids`` first) when it
    has two or more dims, or the length of a list of tensors (a detection model's images)."""
    first = kwargs.get("input_ids")
    if not isinstance(first, torch.Tensor):
        vals = list(kwargs.values()) if kwargs else list(args)
        first = vals[0] if vals else None
    if isinstance(first, (list, tuple)) and first and all(
            isinstance(t, torch.Tensor) for t in first):
        return len(first)
    if isinstance(first, torch.Tensor) and first.dim() >= 2:
        return int(first.shape[0])
    return None


def _first_tensor(obj, torch):
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, dict) or hasattr(obj, "values") and callable(obj.values):
        try:
            vals = list(obj.values())
        except Exception:
            vals = []
        for v in vals:
            t = _first_tensor(v, torch)
            if t is not None:
                return t
    if isinstance(obj, (tuple, list)):
        for v in obj:
            t = _first_tensor(v, torch)
            if t is not None:
                return t
    return None


# ----------------------------------------------------------------------------------------
# parameter typology
# ----------------------------------------------------------------------------------------

def _param_type(module, path: str, torch, expert_paths) -> str:
    nn = torch.nn
    if any(path == p or path.startswith(p + ".") for p in expert_paths):
        return "expert"
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return "embedding"
    cls = type(module).__name__.lower()
    if isinstance(module, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)) or \
            "norm" in cls:
        return "norm"
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if isinstance(module, (nn.RNNBase, nn.RNNCellBase)):
        return "recurrent"
    if isinstance(module, nn.MultiheadAttention) or "attention" in cls or re.search(
            r"(^|\.)(self_?)?(attn|attention)(\.|$)|(^|\.)(c_attn|q_proj|k_proj|v_proj|o_proj)$",
            path):
        return "attention"
    return "dense"


# ----------------------------------------------------------------------------------------
# mixture of experts
# ----------------------------------------------------------------------------------------

def _top_k_of(*objs):
    for o in objs:
        if o is None:
            continue
        for a in _TOPK_ATTRS:
            v = getattr(o, a, None)
            if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                return v
    return None


def _find_moe(model, torch, top_k_override=None) -> list[dict]:
    """Routed-expert blocks: fused HF experts (3-D weights, first dim = E) and ModuleList ones."""
    nn = torch.nn
    mods = dict(model.named_modules())
    found = []
    for path, m in mods.items():
        parent_path = path.rpartition(".")[0] if path else None
        parent = mods.get(parent_path) if parent_path is not None else None
        cfg = getattr(m, "config", None)
        e = getattr(m, "num_experts", None)
        own3d = [p for p in m.parameters(recurse=False) if p.dim() == 3]
        if not isinstance(e, int) and own3d and parent is not None and \
                len({p.shape[0] for p in own3d}) == 1:
            # stacked experts without a num_experts attribute: E is the common first dim,
            # confirmed by a sibling router with E output rows
            e0 = own3d[0].shape[0]
            for sib_name, sib in parent.named_children():
                w = getattr(sib, "weight", None)
                if sib is not m and isinstance(w, torch.Tensor) and w.dim() == 2 \
                        and w.shape[0] == e0:
                    e = int(e0)
                    break
        if isinstance(e, int) and e > 1 and own3d and all(p.shape[0] == e for p in own3d):
            k = top_k_override or _top_k_of(parent, getattr(parent, "gate", None),
                                            getattr(parent, "router", None), cfg)
            if k is None:
                continue
            found.append({"path": path, "style": "fused", "experts": e, "top_k": k,
                          "module": m, "block": parent_path,
                          "hf": cfg is not None and hasattr(cfg, "_experts_implementation")})
            continue
        for name, child in m.named_children():
            if not isinstance(child, nn.ModuleList) or len(child) < 2:
                continue
            sizes = {sum(p.numel() for p in c.parameters()) for c in child}
            if len(sizes) != 1 or 0 in sizes:
                continue
            kinds = {type(c) for c in child}
            if len(kinds) != 1:
                continue
            e = len(child)
            router_name = None
            for rn, rc in m.named_children():
                if rc is child:
                    continue
                w = getattr(rc, "weight", None)
                if isinstance(w, torch.Tensor) and w.dim() == 2 and w.shape[0] == e:
                    router_name = rn
                    break
            if router_name is None and "expert" not in name:
                continue
            k = top_k_override or _top_k_of(m, getattr(m, router_name, None) if router_name
                                            else None)
            if k is None or k >= e:
                continue
            shared = [n for n, _ in m.named_children() if "shared" in n]
            found.append({"path": f"{path}.{name}" if path else name, "style": "modulelist",
                          "experts": e, "top_k": k, "module": child, "block": path,
                          "block_module": m, "router": router_name, "shared": shared})
    return found


def _modulelist_stand_in(block, info, torch):
    """Forward used on meta for a ModuleList MoE block: router on every token, then the first
    k experts on every token (tokens x k expert passes, as any drop-free routing costs), shared
    experts on every token. Returns a tensor shaped like the input's hidden states."""
    experts = info["module"]
    k = info["top_k"]

    def forward(*args, **kwargs):
        x = args[0] if args else next(v for v in kwargs.values() if isinstance(v, torch.Tensor))
        flat = x.reshape(-1, x.shape[-1])
        if info["router"]:
            getattr(block, info["router"])(flat)
        out = None
        for i in range(k):
            y = experts[i](flat)
            out = y if out is None else out + y
        for n in info["shared"]:
            y = getattr(block, n)(flat)
            if y.shape == out.shape:
                out = out + y
        return out.reshape(*x.shape[:-1], out.shape[-1])

    return forward


# ----------------------------------------------------------------------------------------
# the dispatch-level counter
# ----------------------------------------------------------------------------------------

class _DataDependent(Exception):
    def __init__(self, op):
        self.op = op
        super().__init__(op)


def refuse_value_reads(func, args, torch) -> None:
    """Raise :class:`_DataDependent` when ``func`` would read the values of a meta or fake
    tensor (``.item()``, ``nonzero``...): the counters' shared guard."""
    from . import torch_ops

    if torch_ops.is_data_dependent(func):
        from torch._subclasses.fake_tensor import FakeTensor

        if any(isinstance(a, torch.Tensor) and (a.device.type == "meta" or isinstance(a, FakeTensor))
               for a in args):
            raise _DataDependent(torch_ops.op_name(func))


def _make_counter(torch):
    from torch.utils._python_dispatch import TorchDispatchMode

    from . import torch_ops

    class Counter(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            # torch wraps a mode's __torch_dispatch__ in torch._dynamo.disable unless the
            # mode opts out (torch.utils._python_dispatch.TorchDispatchMode): the wrapper's
            # first call imports torch._dynamo, about 1 s of CPU, for a counter that never
            # runs under torch.compile
            return False

        def __init__(self, stack: list[str]):
            super().__init__()
            self.stack = stack
            self.flops: dict[str, int] = defaultdict(int)
            self.other: dict[str, int] = defaultdict(int)
            self.unknown: dict[str, int] = defaultdict(int)
            self.by_op: dict[str, int] = defaultdict(int)

        #: on the meta device, (op, argument shapes/strides/dtypes and values) -> the
        #: output's metadata: identical calls (the copies of a repeated block) run torch's
        #: meta kernel, mostly Python reference code, once; None off meta
        cache: dict | None = None

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            _, reads_values, _, cls, mm, oth, name = _op_info(func)
            if reads_values:
                refuse_value_reads(func, args, torch)
            out = func(*args, **kwargs) if self.cache is None else \
                _remembered_call(self.cache, func, args, kwargs, torch)
            if cls == "free":
                return out
            if cls == "unknown":
                self.unknown[name] += 1
                return out
            f = mm(args, kwargs, out) if mm is not None else 0
            o = oth(args, kwargs, out) if oth is not None else 0
            self.add(name, f, o)
            return out

        def add(self, op: str, f: int, o: int) -> None:
            """``f`` matrix and ``o`` other FLOPs of ``op`` to every module on the stack."""
            if not (f or o):
                return
            if f:
                self.by_op[op] += f
            seen = set()
            for p in self.stack:
                if p in seen:
                    continue
                seen.add(p)
                if f:
                    self.flops[p] += f
                if o:
                    self.other[p] += o

    return Counter


#: id(op) -> (op, reads values, cacheable, class, matmul formula, other formula, name): all
#: the counter asks of an op, in one lookup by id (an OpOverload hashes in Python, and each
#: dispatched op was looked up in four dicts); the op is kept, so no other object takes its id
_OPS: dict[int, tuple] = {}


def _op_info(func) -> tuple:
    hit = _OPS.get(id(func))
    if hit is None:
        from . import torch_ops

        hit = _OPS[id(func)] = (func, torch_ops.is_data_dependent(func), _cacheable(func),
                                *torch_ops.classify(func), torch_ops.op_name(func))
    return hit


def _cacheable(func) -> bool:
    """An op whose output is a fresh tensor made from its inputs' metadata alone: no
    mutation, no output aliasing an input (views, in-place and out= forms excluded)."""
    schema = getattr(func, "_schema", None)
    return schema is not None and not schema.is_mutable and not any(
        r.alias_info is not None for r in schema.returns) and not getattr(
        func, "is_view", False)


_PLAIN = (int, float, bool, str, type(None))


def _arg_key(a, torch):
    if isinstance(a, torch.Tensor):
        if a.device.type != "meta" or type(a) is not torch.Tensor and \
                not isinstance(a, torch.nn.Parameter):
            raise TypeError
        return ("T", tuple(a.shape), a.stride(), a.dtype, a.storage_offset())
    if isinstance(a, _PLAIN):
        return (type(a), a)
    if isinstance(a, (torch.dtype, torch.device, torch.layout, torch.memory_format)):
        return a
    if isinstance(a, (list, tuple)):
        return tuple(_arg_key(x, torch) for x in a)
    raise TypeError  # SymInt, a Python object...: not cached


def _cache_key(func, args, kwargs, torch):
    if not _op_info(func)[2]:
        return None
    if not any(isinstance(a, torch.Tensor) for a in args):
        return None  # factories and ops on lists of tensors: not cached
    try:
        return (id(func), _arg_key(args, torch),
                _arg_key(tuple(sorted(kwargs.items())), torch) if kwargs else ())
    except TypeError:
        return None


def _meta_spec(out, torch):
    if isinstance(out, torch.Tensor):
        if out.device.type != "meta" or type(out) is not torch.Tensor:
            return None
        return ("T", tuple(out.shape), out.stride(), out.dtype)
    if isinstance(out, (list, tuple)):
        parts = tuple(_meta_spec(o, torch) if o is not None else ("N",) for o in out)
        return None if any(p is None for p in parts) else (type(out), parts)
    return None


def _from_meta_spec(spec, torch):
    if spec[0] == "T":
        return torch.empty_strided(spec[1], spec[2], dtype=spec[3], device="meta")
    if spec[0] == "N":
        return None
    kind, parts = spec
    items = [_from_meta_spec(p, torch) for p in parts]
    return items if kind is list else tuple(items)


def _remembered_call(cache: dict, func, args, kwargs, torch):
    """``func(*args, **kwargs)`` on meta tensors, its output made again from ``cache`` for a
    call identical to an earlier one (op, argument shapes, strides, dtypes and values): torch's
    meta kernel, mostly Python reference code, runs once per distinct call."""
    key = _cache_key(func, args, kwargs, torch)
    hit = cache.get(key) if key is not None else None
    if hit is not None:
        return _from_meta_spec(hit, torch)
    out = func(*args, **kwargs)
    if key is not None:
        spec = _meta_spec(out, torch)
        if spec is not None:
            cache[key] = spec
    return out


def remembered_meta_calls():
    """A dispatch mode that runs each distinct meta-device call once
    (:func:`_remembered_call`), for a tracer on meta tensors (fvcore's ``torch.jit`` trace
    records each op above this mode, at the op, whatever the mode returns)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Remembered(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            return False   # as the Counter's: no torch._dynamo.disable wrapper to import

        def __init__(self):
            super().__init__()
            self.cache: dict = {}

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return _remembered_call(self.cache, func, args, kwargs or {}, torch)

    return Remembered()


def _make_recurrent_mode(torch):
    """A ``TorchFunctionMode`` that counts ``torch._VF.lstm`` / ``gru`` / ``rnn_tanh`` /
    ``rnn_relu`` on meta or fake tensors at the op (:func:`torch_ops.recurrent`) and returns
    empty outputs of the op's shapes: ATen would decompose each into per-step cells run by
    torch's Python reference kernels (thousands of dispatched ops for one layer). The
    counts equal the decomposed cells' exactly. On real tensors the op runs as usual."""
    from torch.overrides import TorchFunctionMode

    from . import torch_ops

    names = {getattr(torch._VF, n): n for n in torch_ops.GATES if hasattr(torch._VF, n)}

    class Recurrent(TorchFunctionMode):
        def __init__(self, counter):
            super().__init__()
            self.counter = counter

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = names.get(func)
            x = args[0] if args else None
            if name is None or kwargs or not isinstance(x, torch.Tensor) or (
                    x.device.type != "meta" and not _is_fake(x)):
                return func(*args, **kwargs)
            f, o, outs = torch_ops.recurrent(name, args, kwargs)
            self.counter.add(f"aten.{name}", f, o)
            return outs

    return Recurrent


def _is_fake(t) -> bool:
    from torch._subclasses.fake_tensor import FakeTensor

    return isinstance(t, FakeTensor)


# ----------------------------------------------------------------------------------------
# count_module
# ----------------------------------------------------------------------------------------

def count_module(model, inputs=None, *, name: str | None = None, device: str = "meta",
                 mode: str = "eval", top_k: int | None = None, **options) -> CountResult:
    """Count ``model`` on ``inputs`` (tensor, tuple/list, dict, or shapes like ``(1, 3, 224, 224)``,
    ``"1x128:int64"``, ``((1, 128), torch.long)``).

    ``device``: ``"meta"`` (default: no real arithmetic, any size) or ``"real"`` (run on the
    given tensors; for forwards that branch on data values). ``mode``: ``"eval"`` (default) or
    ``"train"``: the mode the forward is counted in; the model's own flags are restored after.
    ``top_k`` overrides the number of experts per token for MoE blocks.
    """
    torch = require("torch", "torch")
    nn = torch.nn
    if options:
        raise InputError(f"count(model): unknown option(s) {', '.join(sorted(options))}")
    if not isinstance(model, nn.Module):
        raise ModelError(f"count(model) needs a torch.nn.Module, got {type(model).__name__}")
    if device not in ("meta", "real"):
        raise InputError(f"device={device!r}: expected 'meta' or 'real'")
    if mode not in ("eval", "train"):
        raise InputError(f"mode={mode!r}: expected 'eval' or 'train'")
    meta = device == "meta"
    name = name or type(model).__name__
    _refuse_lazy(model, torch)

    # -- parameters: unique tensors, owners, types -----------------------------------------
    modules = dict(model.named_modules())
    moe = _find_moe(model, torch, top_k)
    expert_paths = [b["path"] for b in moe]
    owner: dict[int, str] = {}          # id(tensor) -> dotted name of its first owner
    tied: dict[str, str] = {}           # later name -> first name
    unique = []
    for pname, p in model.named_parameters(remove_duplicate=False):
        if id(p) in owner:
            tied[pname] = owner[id(p)]
            continue
        owner[id(p)] = pname
        unique.append((pname, p))
    params_total = sum(p.numel() for _, p in unique)
    trainable = sum(p.numel() for _, p in unique if p.requires_grad)
    buffers_seen: set[int] = set()
    buffers_total = 0
    for _, b in model.named_buffers(remove_duplicate=False):
        if id(b) not in buffers_seen:
            buffers_seen.add(id(b))
            buffers_total += b.numel()

    def active_numel(pname, p) -> int:
        for b in moe:
            pre = b["path"] + "."
            if not pname.startswith(pre):
                continue
            if b["style"] == "fused":
                return p.numel() * b["top_k"] // b["experts"]
            idx = int(pname[len(pre):].split(".")[0])
            return p.numel() if idx < b["top_k"] else 0
        return p.numel()

    per_tensor = []  # (owner module path, numel, active, type)
    for pname, p in unique:
        mpath = pname.rpartition(".")[0]
        mod = modules.get(mpath, model)
        per_tensor.append((mpath, p.numel(), active_numel(pname, p),
                           _param_type(mod, mpath, torch, expert_paths)))

    # -- inputs ------------------------------------------------------------------------------
    default_dtype = unique[0][1].dtype if unique and unique[0][1].is_floating_point() \
        else torch.float32
    args, kwargs = _prepare_inputs(inputs, default_dtype, meta, torch,
                                   ids_default=_takes_token_ids(model, torch))
    input_shapes = _shapes(kwargs, torch) if kwargs else (
        {"input": tuple(args[0].shape)} if len(args) == 1 and isinstance(args[0], torch.Tensor)
        else _shapes(args, torch, "input"))
    tokens = None
    cands = ([kwargs["input_ids"]] if isinstance(kwargs.get("input_ids"), torch.Tensor) else []) \
        + (list(kwargs.values()) if kwargs else list(args))
    for v in cands:
        if isinstance(v, torch.Tensor) and not v.is_floating_point() and v.dim() == 2 and \
                v.dtype != torch.bool:
            tokens = int(v.numel())
            break

    # -- run one forward under the counter, everything restored afterwards ----------------
    notes: list[str] = []
    engines = ["meta", "fake"] if meta else ["real"]
    for engine in engines:
        # the forward makes no reference cycles to collect, but many objects (a dispatched op,
        # its arguments, hooks): the collector, left running, walks the whole model again and
        # again (a quarter of Llama 3.1 405B's count on meta)
        with paused_gc():
            run = _forward(model, modules, moe, args, kwargs, engine, mode, top_k, torch)
        if run["error"] is None:
            break
        if engine == "meta" and _device_mismatch(run["error"]):
            # the model keeps plain CPU tensors (not parameters or buffers): count again on
            # fake tensors, which mix with them and still allocate nothing
            continue
        raise _model_error(run["error"], run["failed_at"], modules, engine != "real") from (
            None if isinstance(run["error"], _DataDependent) else run["error"])
    counter, out_shapes, output = run["counter"], run["out_shapes"], run["output"]
    if engine == "fake":
        notes.append("counted on fake tensors (the model holds tensors that are not "
                     "parameters or buffers, which the meta device cannot mix with)")
    meta = engine != "real"

    # -- rows --------------------------------------------------------------------------------
    # inclusive sums: each tensor adds to its owner module and every ancestor
    agg_p: dict[str, int] = defaultdict(int)
    agg_a: dict[str, int] = defaultdict(int)
    agg_t: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for mpath, n, act, typ in per_tensor:
        parts = mpath.split(".") if mpath else []
        for i in range(len(parts) + 1):
            pre = ".".join(parts[:i])
            agg_p[pre] += n
            agg_a[pre] += act
            agg_t[pre][typ] += n
    tied_at: dict[str, list[str]] = defaultdict(list)
    for n, t in tied.items():
        tied_at[n.rpartition(".")[0]].append(f"{n.rpartition('.')[2]} tied to {t}")
    moe_at = {b["path"]: f"{b['experts']} experts, top-{b['top_k']} active" for b in moe}

    # a container that is never called itself (a ModuleList: its parent calls the items)
    # has no FLOPs on the call stack; its row covers its subtree, so it sums its children
    fwd = {path: int(counter.flops.get(path, 0)) for path in modules}
    oth = {path: int(counter.other.get(path, 0)) for path in modules}
    for path in sorted(modules, key=lambda q: -q.count(".") if q else 1):
        if path and not fwd[path] and not oth[path]:
            kids = [f"{path}.{n}" for n, _ in modules[path].named_children()]
            fwd[path] = sum(fwd.get(k, 0) for k in kids)
            oth[path] = sum(oth.get(k, 0) for k in kids)
    rows = []
    for path, m in modules.items():
        c = Count(params=agg_p.get(path, 0), active_params=agg_a.get(path, 0),
                  forward_flops=fwd[path], other_flops=oth[path],
                  by_type={k: v for k, v in agg_t[path].items() if v} if path in agg_t else {})
        row_notes = list(tied_at.get(path, ()))
        if path in moe_at:
            row_notes.append(moe_at[path])
        children = any(True for _ in m.children())
        out_shape = out_shapes.get(path)
        rows.append(LayerRow(path=path, kind=type(m).__name__, count=c, output_shape=out_shape,
                             depth=0 if not path else path.count(".") + 1, leaf=not children,
                             note="; ".join(row_notes)))
    root = rows.pop(0)  # the model itself: its figures are the totals, not a row
    total = Count(params=params_total, active_params=sum(t[2] for t in per_tensor),
                  forward_flops=root.count.forward_flops, other_flops=root.count.other_flops,
                  by_type=root.count.by_type)

    if moe:
        how = []
        for b in moe:
            if b["style"] == "fused" and b["hf"] and meta:
                rule = ("Hugging Face batched_mm experts path: every token gathers its k "
                        "expert weights")
            elif b["style"] == "fused":
                rule = ("stacked expert weights: the block's own forward gathers each token's "
                        "k experts" + ("" if meta else "; routing ran on the given values"))
            elif meta:
                rule = "first k experts run on every token"
            else:
                rule = "routing ran on the given input values"
            how.append(f"{b['path']}: top-{b['top_k']} of {b['experts']} ({rule})")
        notes.append("mixture of experts: active params = shared + router + top-k experts per "
                     "block (embeddings whole); active FLOPs = tokens x k expert passes. "
                     "Active set: " + "; ".join(how[:3]) + (f"; ... ({len(how)} blocks)"
                                                           if len(how) > 3 else ""))
    if tied:
        notes.append("tied weights counted once: " + ", ".join(
            f"{a} = {b}" for a, b in list(tied.items())[:5]))
    where = {"meta": "the meta device (no real arithmetic)",
             "fake": "fake tensors (no real arithmetic)", "real": "the given tensors"}[engine]
    notes.append(f"counted in {mode} mode under no_grad on {where}")
    if counter.unknown:
        notes.append("operators without a FLOP formula (listed in unknown_ops, not counted): "
                     + ", ".join(f"{k} x{v}" for k, v in sorted(counter.unknown.items())))

    out_t = _first_tensor(output, torch)
    return CountResult(
        name=name, total=total, layers=rows, source="torch", input_shapes=input_shapes,
        output_shape=tuple(out_t.shape) if out_t is not None else None, tokens=tokens,
        batch=_batch_of(args, kwargs, torch),
        unknown_ops=dict(sorted(counter.unknown.items())), notes=notes,
        extra={"trainable_params": trainable, "frozen_params": params_total - trainable,
               "buffers": buffers_total, "tied_weights": dict(tied),
               "flops_by_op": dict(sorted(counter.by_op.items())),
               "device": engine, "mode": mode,
               "moe": [{"path": b["path"], "experts": b["experts"], "top_k": b["top_k"],
                        "style": b["style"]} for b in moe]})


def _refuse_lazy(model, torch) -> None:
    """A ``Lazy*`` module has no sizes until a real forward materialises it (and that forward
    would change the model): refuse it with one clear line."""
    from torch.nn.parameter import is_lazy

    for path, m in model.named_modules():
        if any(is_lazy(t) for t in (*m.parameters(recurse=False), *m.buffers(recurse=False))):
            raise ModelError(
                f"module '{path or '<root>'}' ({type(m).__name__}) has uninitialized lazy "
                "parameters: their sizes are unknown until a real forward materialises them, "
                "which would change the model; run one forward on a real input first (or use "
                f"the non-lazy {type(m).__name__.removeprefix('Lazy')}), then count")


def _snapshot_modules(modules) -> list:
    """Each module's class and own attributes (``__dict__``), and a copy of every dict or list
    it holds (``_parameters``, ``_buffers``, ``_modules``, hook tables, plain lists of
    tensors): enough to put back exactly the objects a forward replaced or added."""
    saved = []
    for m in modules.values():
        state = dict(m.__dict__)
        contents = {k: (dict(v) if isinstance(v, dict) else list(v))
                    for k, v in state.items() if isinstance(v, (dict, list))}
        saved.append((m, m.__class__, state, contents))
    return saved


def _restore_modules(saved) -> None:
    """Undo any change to the modules' attributes since :func:`_snapshot_modules`: the same
    parameter, buffer and submodule objects under the same names, however the module graph
    shares submodules (``functional_call`` alone leaves a module registered under two names
    holding meta tensors), and attributes a forward set (cached anchors, step counters)."""
    for m, cls, state, contents in saved:
        if m.__class__ is not cls:
            m.__class__ = cls
        d = m.__dict__
        for k in [k for k in d if k not in state]:
            del d[k]
        for k, v in state.items():
            if d.get(k, state) is not v:
                d[k] = v
        for k, c in contents.items():
            v = state[k]
            if isinstance(v, dict):
                if len(v) != len(c) or any(v.get(n, c) is not x for n, x in c.items()):
                    v.clear()
                    v.update(c)
            elif len(v) != len(c) or any(a is not b for a, b in zip(v, c)):
                v[:] = c


def _device_mismatch(exc) -> bool:
    t = str(exc)
    return "meta" in t and ("device" in t or "Device" in t) and not isinstance(exc, _DataDependent)


def _value_free_library_paths() -> list:
    """Make library code that reads tensor values only to choose a faster path take the path
    that reads none, for a count on meta or fake tensors; returns the undo callables.

    transformers' ``masking_utils`` reads the padding mask to decide whether a causal or
    bidirectional mask can be dropped in favour of SDPA's ``is_causal`` flag; on meta tensors
    that read fails (BART, mBART, Pegasus decoders build an all-ones mask first). Answered
    "keep the mask", SDPA receives it: the matrix FLOPs are the same either way, since the
    counter counts the full score matrix."""
    import sys

    mu = sys.modules.get("transformers.masking_utils")
    undo = []
    for fname in ("_ignore_causal_mask_sdpa", "_ignore_bidirectional_mask_sdpa"):
        old = getattr(mu, fname, None) if mu is not None else None
        if old is not None:
            setattr(mu, fname, lambda *a, **k: False)
            undo.append(lambda fname=fname, old=old: setattr(mu, fname, old))
    return undo


def _forward(model, modules, moe, args, kwargs, engine, mode, top_k, torch) -> dict:
    """One counted forward on ``engine`` ('meta', 'fake' or 'real'); the model is restored."""
    stack: list[str] = []
    inputs_at: dict[str, Any] = {}  # path -> the call's inputs while the module runs
    out_shapes: dict[str, tuple] = {}
    counter = _make_counter(torch)(stack)
    if engine == "meta":
        counter.cache = {}
    handles = []
    saved = _snapshot_modules(modules)
    restore = []  # callables undone in reverse order
    output = None
    error: BaseException | None = None
    failed_at: list[tuple[str, dict]] = []
    novalues = engine != "real"

    def pre_hook(path):
        # O(1) per call: shapes are read only for the modules an error names (a module's
        # inputs may hold every earlier output, so reading them on every call is quadratic)
        def hook(mod, a, kw):
            stack.append(path)
            inputs_at[path] = (a, kw) if kw else a
        return hook

    def post_hook(path):
        def hook(mod, a, kw, out):
            inputs_at.pop(path, None)
            t = _first_tensor(out, torch)
            if t is not None:
                out_shapes[path] = tuple(t.shape)
            if stack and stack[-1] == path:
                stack.pop()
            elif path in stack:
                del stack[len(stack) - 1 - stack[::-1].index(path)]
        return hook

    fake_mode = None
    try:
        for path, m in modules.items():
            handles.append(m.register_forward_pre_hook(pre_hook(path), with_kwargs=True))
            # no always_call: after an exception the stack keeps the module that failed
            handles.append(m.register_forward_hook(post_hook(path), with_kwargs=True))
        model.train(mode == "train")
        if novalues:
            restore.extend(_value_free_library_paths())
        for b in moe:
            if top_k is not None:  # the override routes too, not only the accounting
                blk = modules.get(b["block"]) if b["block"] is not None else None
                for holder in (blk, getattr(blk, "gate", None), getattr(blk, "router", None)):
                    if holder is not None and isinstance(getattr(holder, "top_k", None), int):
                        old_k = holder.top_k
                        object.__setattr__(holder, "top_k", top_k)
                        restore.append(lambda h=holder, v=old_k: object.__setattr__(h, "top_k", v))
            if b["style"] == "fused" and b["hf"] and novalues:
                cfg = b["module"].config
                old = getattr(cfg, "_experts_implementation", None)
                if old != "batched_mm":
                    object.__setattr__(cfg, "_experts_implementation", "batched_mm")
                    restore.append(lambda cfg=cfg, old=old:
                                   object.__setattr__(cfg, "_experts_implementation", old))
            elif b["style"] == "modulelist" and novalues:
                blk = b["block_module"]
                had = "forward" in blk.__dict__
                old_fwd = blk.__dict__.get("forward")
                blk.forward = _modulelist_stand_in(blk, b, torch)

                def undo(blk=blk, had=had, old_fwd=old_fwd):
                    if had:
                        blk.forward = old_fwd
                    else:
                        del blk.forward
                restore.append(undo)

        tensors = list(model.named_parameters(remove_duplicate=False)) + \
            list(model.named_buffers(remove_duplicate=False))
        mapping: dict[str, Any] = {}
        if engine == "real":  # parameters as they are, buffers cloned so updates don't stick
            mapping = {n: b.clone() for n, b in model.named_buffers(remove_duplicate=False)}
        else:
            if engine == "fake":
                fake_mode = _fake_mode()

                def to_fake(x):
                    if isinstance(x, torch.Tensor):
                        with fake_mode:
                            return torch.zeros(x.shape, dtype=x.dtype, device="cpu")
                    if isinstance(x, (tuple, list)):
                        return type(x)(to_fake(v) for v in x)
                    if isinstance(x, dict):
                        return {k: to_fake(v) for k, v in x.items()}
                    return x

                args, kwargs = to_fake(args), to_fake(kwargs)
            memo: dict[int, Any] = {}
            for pname, t in tensors:
                if id(t) not in memo:
                    if engine == "meta":
                        memo[id(t)] = t if t.device.type == "meta" else torch.empty(
                            t.shape, dtype=t.dtype, device="meta")
                    else:
                        with fake_mode:
                            memo[id(t)] = torch.empty(t.shape, dtype=t.dtype, device="cpu")
                mapping[pname] = memo[id(t)]
        import contextlib

        # the function mode sees every torch call: installed only where a recurrent module is
        recurrent = _make_recurrent_mode(torch)(counter) if novalues and any(
            isinstance(m, torch.nn.RNNBase) for m in modules.values()) else \
            contextlib.nullcontext()
        with torch.no_grad(), (fake_mode or contextlib.nullcontext()), counter, recurrent:
            output = torch.func.functional_call(model, mapping, args, kwargs,
                                                tie_weights=True, strict=False)
    except BaseException as exc:  # noqa: BLE001 - re-raised by the caller as one clear error
        if isinstance(exc, KeyboardInterrupt):
            raise
        error = exc
        failed_at = [(p, _shapes(inputs_at.get(p, ()), torch)) for p in stack[-1:]]
    finally:
        for h in handles:
            h.remove()
        for undo in reversed(restore):
            undo()
        _restore_modules(saved)
    return {"counter": counter, "out_shapes": out_shapes, "output": output, "error": error,
            "failed_at": failed_at}


def _fake_mode():
    from torch._subclasses.fake_tensor import FakeTensorMode

    return FakeTensorMode(allow_non_fake_inputs=True)


def _model_error(exc, failed_at, modules, meta) -> Exception:
    from ..errors import PCError

    if isinstance(exc, PCError):
        return exc
    where = ""
    if failed_at:
        path, shapes = failed_at[-1]
        mod = modules.get(path)
        label = path or "<root>"
        try:
            rep = mod.extra_repr() if mod is not None else ""
        except Exception:  # noqa: BLE001 - a broken extra_repr must not hide the real error
            rep = ""
        rep = rep if len(rep) <= 80 else rep[:77] + "..."
        shown = [f"{tuple(v)}" for v in list(shapes.values())[:6]]
        shp = ", ".join(shown + (["..."] if len(shapes) > 6 else [])) if shapes else "no tensors"
        where = f"module '{label}' ({type(mod).__name__}({rep})) with input shapes {shp}: "
    if isinstance(exc, _DataDependent) or (meta and _looks_data_dependent(exc)):
        op = exc.op if isinstance(exc, _DataDependent) else "a value-dependent operation"
        return ModelError(f"{where}the forward depends on data values ({op}), which the meta "
                          "device cannot follow; pass small real inputs and device='real' "
                          "(CLI: --real)")
    if isinstance(exc, KeyboardInterrupt):
        return exc
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelError(f"{where}forward failed: {type(exc).__name__}: {msg}")


def _looks_data_dependent(exc) -> bool:
    s = str(exc).lower()
    return any(t in s for t in ("item() cannot be called on meta", "data-dependent",
                                "data dependent", "cannot be called on meta tensors",
                                "meta tensors do not support"))


def input_shapes_to_inputs(shapes: list[str], lists: list[str] = ()):
    """CLI helper: ``["1x3x224x224"]`` -> one shape; several -> a tuple; ``name=1x128`` -> dict.

    Each item of ``lists`` (``--input-list``) is ONE argument that is a list of tensors, its
    shapes separated by commas: ``"3x224x224,3x200x300"`` (the images of a detection model);
    ``name=3x224x224,3x200x300`` passes it by keyword. Positional lists follow the positional
    ``--input`` shapes, in the order given. Items are all positional or all named."""
    items = [(s, False) for s in shapes] + [(s, True) for s in lists]
    named = [s for s, _ in items if "=" in s]
    if named and len(named) != len(items):
        raise InputError("--input/--input-list: use either all positional shapes or all "
                         "name=shape")

    def value(text: str, is_list: bool):
        if not is_list:
            return text
        parts = [p.strip() for p in text.split(",")]
        if not all(parts):
            raise InputError(f"--input-list {text!r}: expected shapes separated by commas, "
                             "e.g. 3x224x224,3x200x300")
        for p in parts:
            parse_shape(p)  # one clear error for a bad item
        return [p for p in parts]

    if named:
        return {s.partition("=")[0].strip(): value(s.partition("=")[2].strip(), is_list)
                for s, is_list in items}
    values = [value(s, is_list) for s, is_list in items]
    if len(values) == 1 and not lists:
        return values[0]
    return tuple(values)
