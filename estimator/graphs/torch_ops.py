"""Per-operator FLOP formulas for the dispatch-level counter in :mod:`estimator.graphs.torch_count`.

Every ATen operator the counter sees falls in exactly one class, decided once per overload
and cached:

``matmul``  matrix-class work, counted in ``forward_flops``. The formulas are PyTorch's own
            (:data:`torch.utils.flop_counter.flop_registry`: mm, addmm, bmm, baddbmm,
            convolution and transposed convolution, the SDPA backends) plus the ones PyTorch
            lacks: the CPU flash SDPA kernel, the fused ``_native_multi_head_attention`` fast
            path of eval-mode ``nn.MultiheadAttention`` and grouped GEMM.
            matmul/einsum/linear reach the counter already decomposed into mm/addmm/bmm by
            ATen, so they are counted by those formulas. LSTM/GRU/RNN on the meta device are
            counted at the op (:func:`recurrent`), before ATen decomposes them into
            thousands of per-step ops run by torch's Python reference kernels.
``other``   elementwise and normalisation work, estimated in ``other_flops`` (never folded
            into ``forward_flops``): 1 FLOP per output element for a pointwise op (bias add,
            activation, residual add, dropout scaling), 5 per element for softmax
            (max, subtract, exp, sum, divide), 5 per element for a norm (+2 when affine),
            1 per input element for a reduction, the window size per output element for
            pooling, 1 per output element for the bias of addmm/baddbmm/convolution.
``free``    data movement and bookkeeping (views, copies, cat, indexing, embedding lookup,
            factories, random fills): 0 FLOPs by definition. An embedding bag's lookup is
            free too; its sum/mean/max over the bag is 1 FLOP per gathered element
            (``other``). In-place forms (``hardswish_``, ``gelu_``) take the class and
            formula of their out-of-place form.
``unknown`` anything else: the counter lists it by name and call count in
            ``CountResult.unknown_ops`` instead of silently counting it as zero.

One multiply-add = 2 FLOPs throughout (DESIGN.md).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch.utils.flop_counter import flop_registry as _TORCH_FLOP_REGISTRY, sdpa_flop_count

aten = torch.ops.aten


def _shape(x) -> tuple[int, ...] | None:
    return tuple(x.shape) if isinstance(x, torch.Tensor) else None


def _numel(x) -> int:
    return x.numel() if isinstance(x, torch.Tensor) else 0


def _first_tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (tuple, list)):
        for item in x:
            t = _first_tensor(item)
            if t is not None:
                return t
    return None


# ----------------------------------------------------------------------------------------
# matrix-class formulas: f(args, kwargs, out) -> FLOPs
# ----------------------------------------------------------------------------------------

def _from_torch(packet) -> Callable:
    f = _TORCH_FLOP_REGISTRY[packet]

    def formula(args, kwargs, out):
        return int(f(*args, **kwargs, out_val=out))

    return formula


def _sdpa_cpu_flash(args, kwargs, out):
    """``_scaled_dot_product_flash_attention_for_cpu(q, k, v, ...)``: q (B,H,L,E), k (B,H,S,E),
    v (B,H,S,Ev). Scores 2*B*H*L*S*E plus values 2*B*H*L*S*Ev (full matrix, as PyTorch)."""
    return int(sdpa_flop_count(_shape(args[0]), _shape(args[1]), _shape(args[2])))


def _native_mha(args, kwargs, out):
    """``_native_multi_head_attention(query, key, value, embed_dim, num_head, qkv_weight,
    qkv_bias, proj_weight, proj_bias, ...)``, the fused eval-mode fast path of
    ``nn.MultiheadAttention`` (raw ``FlopCounterMode`` counts nothing for it).

    Batch-first q (B,L,E), k/v (B,S,E). In-projections 2*B*L*E*E + 2*2*B*S*E*E, scores
    2*B*L*S*E, values 2*B*L*S*E, out-projection 2*B*L*E*E: the same products the unfused
    path dispatches as addmm/bmm, so train and eval modes agree.
    """
    q, k = args[0], args[1]
    e = int(args[3])
    if q.dim() == 2:  # unbatched
        b, lq, s = 1, q.shape[0], k.shape[0]
    else:
        b, lq, s = q.shape[0], q.shape[1], k.shape[1]
    in_proj = 2 * b * lq * e * e + 2 * 2 * b * s * e * e
    attn = 2 * b * lq * s * e * 2
    out_proj = 2 * b * lq * e * e
    return in_proj + attn + out_proj


def _mkldnn_rnn_layer(args, kwargs, out):
    """``mkldnn_rnn_layer(input, w_ih, w_hh, b_ih, b_hh, hx, cx, reverse, ...)``: the CPU LSTM
    kernel (one layer, one direction), which raw ``FlopCounterMode`` does not count. Each step
    multiplies the input by w_ih (G*H x I) and the hidden state by w_hh (G*H x H):
    2 * steps * batch * (numel(w_ih) + numel(w_hh)), as the decomposed (meta) path's addmm/mm."""
    x, w_ih, w_hh = args[0], args[1], args[2]
    rows = _numel(x) // max(int(x.shape[-1]), 1)
    return 2 * rows * (_numel(w_ih) + _numel(w_hh))


def _grouped_mm(args, kwargs, out):
    """``_grouped_mm(a, b, offs)``: each output element is a K-long dot product: 2*numel(out)*K."""
    a = args[0]
    return 2 * _numel(out) * int(a.shape[-1])


MATMUL: dict[Any, Callable] = {p: _from_torch(p) for p in _TORCH_FLOP_REGISTRY
                               if "backward" not in str(p) and not isinstance(p, str)
                               and str(p).startswith("aten.")}
MATMUL[aten._scaled_dot_product_flash_attention_for_cpu] = _sdpa_cpu_flash
MATMUL[aten._native_multi_head_attention] = _native_mha
for _name in ("_scaled_dot_product_fused_attention_overrideable",):
    if hasattr(aten, _name):
        MATMUL[getattr(aten, _name)] = _sdpa_cpu_flash
if hasattr(aten, "mkldnn_rnn_layer"):
    MATMUL[aten.mkldnn_rnn_layer] = _mkldnn_rnn_layer
if hasattr(aten, "_grouped_mm"):
    MATMUL[aten._grouped_mm] = _grouped_mm


# ----------------------------------------------------------------------------------------
# recurrent layers at the op: aten.lstm / gru / rnn_tanh / rnn_relu
# ----------------------------------------------------------------------------------------

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
# other_flops per hidden unit per step, as the decomposed cell dispatches them:
#   LSTM: gate sum ih + hh 4H, sigmoid x3 3H, tanh(g) H, c = f*c + i*g 3H, tanh(c) H,
#         h = o * tanh(c) H -> 13H;
#   GRU: r and z: add + sigmoid 4H, n = tanh(i_n + r*h_n) 3H, h = n + z*(h - n) 3H -> 10H;
#   RNN: add + tanh/relu -> 2H. With biases, each step adds b_ih and b_hh: 2 x G*H more.
CELL_OTHER = {"lstm": 13, "gru": 10, "rnn_tanh": 2, "rnn_relu": 2}


def recurrent(name: str, args, kwargs):
    """``(forward_flops, other_flops, outputs)`` of ``torch._VF.<name>`` (``lstm``, ``gru``,
    ``rnn_tanh``, ``rnn_relu``) from shapes alone; outputs are empty tensors shaped as the
    op's, on the input's device. Both overloads: ``(input, hx, params, has_biases,
    num_layers, dropout, train, bidirectional, batch_first)`` and the packed-sequence one
    ``(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
    bidirectional)``.

    Per layer and direction, every one of the ``rows`` (steps x batch, or the packed data's
    rows) multiplies its input by w_ih (G*H x I) and the previous hidden state by w_hh
    (G*H x H, or x P with an LSTM projection, which adds w_hr, P x H):
    ``forward = 2 * rows * (numel(w_ih) + numel(w_hh) + numel(w_hr))``, the same products
    ATen's decomposed cell dispatches as addmm/mm. ``other = rows * (CELL_OTHER * H
    + 2 * G * H if biases)`` per layer and direction."""
    packed = isinstance(args[1], torch.Tensor) and args[1].dim() == 1 and \
        not args[1].is_floating_point()
    x = args[0]
    if packed:
        _, _, hx, params, bias, layers, _, _, bidir = args[:9]
    else:
        x, hx, params, bias, layers, _, _, bidir, _ = args[:9]
    dirs = 2 if bidir else 1
    g = GATES[name]
    h0 = hx[0] if isinstance(hx, (list, tuple)) else hx        # (D*L, B, H or P)
    c0 = hx[1] if isinstance(hx, (list, tuple)) and len(hx) > 1 else None
    out_h = int(h0.shape[-1])
    hidden = int(c0.shape[-1]) if c0 is not None else out_h
    proj = name == "lstm" and out_h != hidden
    per = 2 + (2 if bias else 0) + (1 if proj else 0)
    if packed:
        rows = int(x.shape[0])
    else:
        rows = int(x.shape[0]) * int(x.shape[1])
    weights = sum(_numel(p) for i, p in enumerate(params) if i % per in (0, 1)
                  or (proj and i % per == per - 1))
    forward = 2 * rows * weights
    other = rows * layers * dirs * (CELL_OTHER[name] * hidden + (2 * g * hidden if bias else 0))
    dev, dt = x.device, x.dtype
    lead = (rows,) if packed else (int(x.shape[0]), int(x.shape[1]))  # batch_first or not
    out = torch.empty((*lead, dirs * out_h), dtype=dt, device=dev)
    h_n = torch.empty(tuple(h0.shape), dtype=dt, device=dev)
    outs = (out, h_n) if c0 is None else (out, h_n, torch.empty(tuple(c0.shape), dtype=dt,
                                                                 device=dev))
    return forward, other, outs


# ----------------------------------------------------------------------------------------
# other_flops estimates (elementwise-class work): f(args, kwargs, out) -> FLOPs
# ----------------------------------------------------------------------------------------

def _bias_out(args, kwargs, out):  # addmm / baddbmm: the added term, one add per element
    return _numel(_first_tensor(out))


def _conv_bias(args, kwargs, out):
    bias = args[2] if len(args) > 2 else kwargs.get("bias")
    return _numel(_first_tensor(out)) if isinstance(bias, torch.Tensor) else 0


def _softmax(args, kwargs, out):
    return 5 * _numel(args[0])


def _layer_norm(args, kwargs, out):  # native_layer_norm(x, shape, weight, bias, eps)
    x = args[0]
    affine = any(isinstance(a, torch.Tensor) for a in args[2:4])
    return (5 + (2 if affine else 0)) * _numel(x)


def _batch_norm(args, kwargs, out):  # (x, weight, bias, ...)
    x = args[0]
    affine = len(args) > 1 and isinstance(args[1], torch.Tensor)
    return (5 + (2 if affine else 0)) * _numel(x)


def _group_norm(args, kwargs, out):  # native_group_norm(x, weight, bias, N, C, HxW, group, eps)
    x = args[0]
    affine = len(args) > 1 and isinstance(args[1], torch.Tensor)
    return (5 + (2 if affine else 0)) * _numel(x)


def _rms_norm(args, kwargs, out):  # _fused_rms_norm(x, normalized_shape, weight, eps)
    x = args[0]
    affine = len(args) > 2 and isinstance(args[2], torch.Tensor)
    return (4 + (1 if affine else 0)) * _numel(x)


def _reduce_input(args, kwargs, out):
    return _numel(args[0]) if args else 0


def _pool_window(args, kwargs, out):  # max_pool2d_with_indices / avg_pool2d(x, kernel, ...)
    """Window size per output element (a 3x3 pool: 9 comparisons or adds per output)."""
    kernel = args[1] if len(args) > 1 else kwargs.get("kernel_size", 1)
    x = args[0]
    if isinstance(kernel, (list, tuple)):
        k = kernel[0] ** max(x.dim() - 2, 1) if len(kernel) == 1 else math.prod(kernel)
    else:
        k = int(kernel) ** max(x.dim() - 2, 1)
    return k * _numel(_first_tensor(out))


def _sdpa_softmax(args, kwargs, out):
    """Score scaling (1) and softmax (5) per element of the B*H*L*S score matrix."""
    q, k = args[0], args[1]
    return 6 * _numel(q) // max(q.shape[-1], 1) * k.shape[-2]


def _mha_other(args, kwargs, out):
    q, k = args[0], args[1]
    e, h = int(args[3]), int(args[4])
    b = 1 if q.dim() == 2 else q.shape[0]
    lq = q.shape[-2]
    s = k.shape[-2]
    biases = b * lq * e + 2 * b * s * e + b * lq * e
    return biases + 6 * b * h * lq * s


def _index_add(args, kwargs, out):  # index_add_(self, dim, index, source)
    return _numel(args[3]) if len(args) > 3 else 0


def _scatter_add(args, kwargs, out):  # scatter_add(self, dim, index, src)
    return _numel(args[3]) if len(args) > 3 else 0


def _interp(per_out: int):
    def f(args, kwargs, out):
        return per_out * _numel(_first_tensor(out))
    return f


def _pointwise(args, kwargs, out):
    return _numel(_first_tensor(out))


def _embedding_bag(args, kwargs, out):
    """``_embedding_bag(weight, indices, offsets, ..., mode, ..., per_sample_weights, ...)``:
    the row lookup is free (as ``embedding``); the bag's sum, mean or max is a reduction,
    1 FLOP per gathered element (indices x D), +1 per element for per-sample weights."""
    weight, indices = args[0], args[1]
    psw = args[6] if len(args) > 6 else kwargs.get("per_sample_weights")
    gathered = _numel(indices) * int(weight.shape[-1])
    return gathered * (2 if isinstance(psw, torch.Tensor) else 1)


OTHER_EXTRA: dict[Any, Callable] = {
    aten.addmm: _bias_out, aten.baddbmm: _bias_out,
    aten.convolution: _conv_bias, aten._convolution: _conv_bias,
    aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_softmax,
    aten._scaled_dot_product_efficient_attention: _sdpa_softmax,
    aten._scaled_dot_product_flash_attention: _sdpa_softmax,
    aten._scaled_dot_product_cudnn_attention: _sdpa_softmax,
    aten._native_multi_head_attention: _mha_other,
}

OTHER: dict[Any, Callable] = {
    aten._softmax: _softmax, aten._log_softmax: _softmax, aten._safe_softmax: _softmax,
    aten.native_layer_norm: _layer_norm, aten.native_batch_norm: _batch_norm,
    aten._native_batch_norm_legit: _batch_norm,
    aten._native_batch_norm_legit_no_training: _batch_norm,
    aten._native_batch_norm_legit_functional: _batch_norm,
    aten.native_group_norm: _group_norm,
    aten.sum: _reduce_input, aten.mean: _reduce_input, aten.prod: _reduce_input,
    aten.var: _reduce_input, aten.std: _reduce_input, aten.var_mean: _reduce_input,
    aten.std_mean: _reduce_input, aten.amax: _reduce_input, aten.amin: _reduce_input,
    aten.max: _reduce_input, aten.min: _reduce_input, aten.argmax: _reduce_input,
    aten.argmin: _reduce_input, aten.logsumexp: _reduce_input, aten.norm: _reduce_input,
    aten.linalg_vector_norm: _reduce_input, aten.cumsum: _reduce_input,
    aten.cumprod: _reduce_input, aten.topk: _reduce_input, aten.sort: _reduce_input,
    aten.any: _reduce_input, aten.all: _reduce_input,
    aten.max_pool1d: _pool_window, aten.max_pool2d: _pool_window,
    aten.max_pool2d_with_indices: _pool_window, aten.max_pool3d_with_indices: _pool_window,
    aten.avg_pool1d: _pool_window, aten.avg_pool2d: _pool_window, aten.avg_pool3d: _pool_window,
    aten._adaptive_avg_pool2d: _reduce_input, aten._adaptive_avg_pool3d: _reduce_input,
    aten.adaptive_max_pool2d: _reduce_input, aten.adaptive_max_pool1d: _reduce_input,
    aten.adaptive_avg_pool1d: _reduce_input,
    aten.index_add: _index_add, aten.index_add_: _index_add,
    aten.scatter_add: _scatter_add, aten.scatter_add_: _scatter_add,
    aten.scatter_reduce: _scatter_add, aten.scatter_reduce_: _scatter_add,
    aten.index_reduce: _index_add,
    aten.upsample_linear1d: _interp(2), aten.upsample_bilinear2d: _interp(4),
    aten.upsample_trilinear3d: _interp(8), aten.upsample_bicubic2d: _interp(16),
    aten.lerp: _pointwise, aten.addcmul: _pointwise, aten.addcdiv: _pointwise,
    aten.gelu: _pointwise, aten.silu: _pointwise, aten.hardswish: _pointwise,
    aten.mish: _pointwise, aten.glu: _pointwise, aten.softplus: _pointwise,
    aten.elu: _pointwise, aten.leaky_relu: _pointwise, aten.hardtanh: _pointwise,
    aten.prelu: _pointwise, aten._prelu_kernel: _pointwise, aten.rrelu_with_noise: _pointwise,
    aten.embedding_bag: _embedding_bag, aten._embedding_bag: _embedding_bag,
    aten._embedding_bag_forward_only: _embedding_bag,
}
if hasattr(aten, "_fused_rms_norm"):
    OTHER[aten._fused_rms_norm] = _rms_norm

# Pointwise ops that select or move values rather than compute them.
_FREE_POINTWISE = {
    "where", "masked_fill", "masked_fill_", "fill", "fill_", "zero_", "copy", "copy_",
    "_to_copy", "clone", "bernoulli", "bernoulli_", "uniform_", "normal_", "random_",
    "exponential_", "geometric_", "cauchy_", "log_normal_", "lift_fresh", "lift_fresh_copy",
    "detach", "alias", "_conj", "conj_physical", "positive", "view_as_real", "view_as_complex",
    "logical_not", "bitwise_not",
}

# Data movement, bookkeeping and factories: zero FLOPs by definition.
FREE_NAMES = _FREE_POINTWISE | {
    "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "zeros",
    "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full",
    "scalar_tensor", "arange", "linspace", "logspace", "eye", "rand", "rand_like", "randn",
    "randn_like", "randint", "randint_like", "randperm", "tril", "triu", "tril_", "triu_",
    "cat", "stack", "split", "split_with_sizes", "unsafe_split", "unsafe_split_with_sizes",
    "chunk", "unbind", "index", "index_select", "index_put", "index_put_", "_index_put_impl_",
    "gather", "scatter", "scatter_", "embedding", "repeat", "repeat_interleave",
    "flip", "roll", "constant_pad_nd", "reflection_pad1d", "reflection_pad2d",
    "replication_pad1d", "replication_pad2d", "_unsafe_view", "contiguous", "slice_scatter",
    "select_scatter", "diagonal_scatter", "as_strided_scatter", "one_hot", "_to_dense",
    "masked_scatter", "masked_scatter_", "set_", "resize_", "resize_as_", "_reshape_alias",
    "_local_scalar_dense", "size", "sym_size", "stride", "sym_stride", "numel", "sym_numel",
    "dim", "is_contiguous", "sym_is_contiguous", "is_strides_like_format",
    "is_non_overlapping_and_dense", "storage_offset", "sym_storage_offset", "equal",
    "is_nonzero", "is_same_size", "nonzero", "nonzero_static", "masked_select",
    "_unique2", "unique_dim", "unique_consecutive", "bucketize", "searchsorted",
    "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
    "_upsample_nearest_exact1d", "_upsample_nearest_exact2d", "_upsample_nearest_exact3d",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_dropout",
    "_assert_async", "_assert_tensor_metadata", "_functional_assert_async", "record_stream",
    "_make_dep_token", "sym_constrain_range", "_has_compatible_shallow_copy_type",
    "im2col", "col2im", "unfold", "_pin_memory", "is_pinned", "item", "to", "type_as",
    "block_diag", "tensor_split", "movedim", "moveaxis", "swapaxes", "swapdims", "narrow_copy",
    "expand_copy", "permute_copy", "view_copy", "t_copy", "transpose_copy", "slice_copy",
    "select_copy", "unsqueeze_copy", "squeeze_copy", "diagonal_copy", "prim.device", "device",
    "layout",
    # in-place views (their out-of-place forms are views, caught by ``is_view``)
    "transpose_", "t_", "squeeze_", "unsqueeze_", "as_strided_", "swapaxes_", "swapdims_",
    "detach_",
}

DATA_DEPENDENT = {"_local_scalar_dense", "nonzero", "masked_select", "_unique2", "unique_dim",
                  "unique_consecutive", "is_nonzero", "equal"}

_CACHE: dict[Any, tuple[str, Callable | None, Callable | None]] = {}


def classify(func) -> tuple[str, Callable | None, Callable | None]:
    """Return ``(class, matmul_formula, other_formula)`` for an OpOverload, cached."""
    hit = _CACHE.get(func)
    if hit is not None:
        return hit
    packet = getattr(func, "overloadpacket", func)
    name = getattr(packet, "__name__", str(packet)).split(".")[-1]
    if packet in MATMUL:
        res = ("matmul", MATMUL[packet], OTHER_EXTRA.get(packet))
    elif packet in OTHER:
        res = ("other", None, OTHER[packet])
    elif name in FREE_NAMES or getattr(func, "is_view", False):
        res = ("free", None, None)
    elif torch.Tag.pointwise in getattr(func, "tags", ()):
        res = ("other", None, _pointwise)
    elif name.endswith("_") and name[:-1] in FREE_NAMES:
        res = ("free", None, None)
    elif name.endswith("_") and _out_of_place(name) is not None:
        # in-place form (hardswish_, gelu_, addcmul_...): same work as its out-of-place form
        res = ("other", None, _out_of_place(name))
    else:
        res = ("unknown", None, None)
    _CACHE[func] = res
    return res


def _out_of_place(name: str) -> Callable | None:
    """The other-FLOPs formula of ``name`` without its trailing ``_`` when that form is a
    known elementwise op (in :data:`OTHER` or tagged pointwise by ATen), else None."""
    packet = getattr(aten, name[:-1], None)
    if packet is None:
        return None
    if packet in OTHER:
        return OTHER[packet]
    overloads = [getattr(packet, o) for o in packet.overloads()]
    if any(torch.Tag.pointwise in op.tags for op in overloads):
        return _pointwise
    return None


def op_name(func) -> str:
    packet = getattr(func, "overloadpacket", func)
    return str(packet)


_DD_CACHE: dict[Any, bool] = {}


def is_data_dependent(func) -> bool:
    """True for operators whose output depends on tensor values (``.item()``, ``nonzero``...)."""
    hit = _DD_CACHE.get(func)
    if hit is None:
        packet = getattr(func, "overloadpacket", func)
        name = getattr(packet, "__name__", str(packet)).split(".")[-1]
        hit = _DD_CACHE[func] = name in DATA_DEPENDENT
    return hit
