"""Count an ONNX graph: parameters from its initializers, FLOPs from its shape-inferred graph.

This counter shares no code with the analytic engine or the torch counter: it reads the
``.onnx`` protobuf, resolves symbolic input dimensions from shapes the user gives, runs
``onnx.shape_inference`` and applies one formula per operator. Conventions (DESIGN.md):

* **Parameters** are the unique initializers (an initializer used by several nodes counts
  once) whose element type is floating point (float/double/float16/bfloat16/float8) or which
  are low-bit integer weights of quantized ops (int8/uint8/int4/uint4 feeding a weight slot of
  ``MatMulInteger``, ``ConvInteger``, ``QLinear*``, ``DequantizeLinear``). Not parameters:
  integer tensors (shapes, axes, indices), rank-0 scalars (epsilons, ``1/sqrt(d)`` scales,
  pad values), ``Constant`` nodes, the running mean/variance of ``BatchNormalization``
  (buffers), and initializers named in the model's ``paramcount.buffers`` metadata (written
  by :mod:`estimator.graphs.onnx_export`, since ONNX itself cannot tell a buffer from a weight).
  Excluded buffers are reported in ``result.extra["buffers"]``.
* **forward_flops** (2 FLOPs per multiply-add) is the matrix-class work: ``MatMul``,
  ``Gemm``, ``Conv``, ``ConvTranspose``, ``Einsum``, the attention ops (ONNX ``Attention``
  of opset 23, ``com.microsoft`` ``Attention``/``MultiHeadAttention``/``GroupQueryAttention``,
  including their score and value products) and ``LSTM``/``GRU``/``RNN``.
* **other_flops** is an estimate of elementwise work (bias adds, norms, activations,
  softmax, pooling), never folded into ``forward_flops``.
* Operators without a formula are listed in ``result.unknown_ops`` (``domain:Op`` -> count);
  their FLOPs are not counted, never silently zero: ``strict=True`` raises instead.

Per-layer rows group nodes by their name scope: the TorchScript exporter names nodes like
``/blocks.0/attn/q/MatMul`` and the dynamo exporter records ``pkg.torch.onnx.name_scopes``
metadata; both map to the dotted path ``blocks.0.attn.q`` that the spec uses. A parameter
belongs to the scope of the first node that reads it.
"""
from __future__ import annotations

import ast
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Iterable, Mapping

from ..count import Count, CountResult, LayerRow
from ..errors import InputError, ModelError, require
from ..safety import printable

# Element types (onnx.TensorProto enum values, spelled out to avoid importing onnx early).
_FLOAT_TYPES = {1, 10, 11, 16, 17, 18, 19, 20, 23}   # FLOAT, FLOAT16, DOUBLE, BFLOAT16, FLOAT8*, FP4
_LOWBIT_INT_TYPES = {2, 3, 21, 22}                    # UINT8, INT8, UINT4, INT4
_INT_ELEM = {2, 3, 4, 5, 6, 7, 12, 13, 21, 22}         # integer element types (token ids)

# Quantized ops whose listed input slots hold integer weights that are real parameters.
_QUANT_WEIGHT_SLOTS = {
    "MatMulInteger": (1,), "ConvInteger": (1,), "QLinearMatMul": (3,), "QLinearConv": (3,),
    "DequantizeLinear": (0,), "MatMulNBits": (1,), "DynamicQuantizeMatMul": (1,),
}
# Input slots that hold buffers, not parameters.
_BUFFER_SLOTS = {"BatchNormalization": (3, 4)}

# Ops that move or reshape data, compare, or compute shapes: no arithmetic worth counting.
_ZERO_OPS = set("""
Reshape Transpose Shape Size Gather GatherElements GatherND Concat Slice Squeeze Unsqueeze
Constant ConstantOfShape Cast CastLike Identity Expand Flatten Split SplitToSequence Range
Equal Less LessOrEqual Greater GreaterOrEqual Not And Or Xor Tile Pad NonZero ScatterND
ScatterElements Scatter TopK ArgMax ArgMin OneHot Trilu EyeLike Dropout DepthToSpace
SpaceToDepth Resize Upsample Compress Unique If Optional OptionalHasElement OptionalGetElement
SequenceConstruct SequenceAt SequenceEmpty SequenceInsert SequenceLength ConcatFromSequence
IsNaN IsInf Sign Shrink BitShift Mod Round Floor Ceil Det StringNormalizer CenterCropPad
RandomNormal RandomNormalLike RandomUniform RandomUniformLike Bernoulli Multinomial
QuantizeLinear DequantizeLinear DynamicQuantizeLinear
""".split())
# Elementwise ops: ~1 FLOP per output element.
_ELEMENTWISE = set("""
Add Sub Mul Div Pow Sqrt Reciprocal Neg Abs Exp Log Relu LeakyRelu PRelu Elu Selu Celu
Sigmoid HardSigmoid HardSwish Tanh Erf Gelu FastGelu BiasGelu QuickGelu Softplus Softsign
Mish Swish Clip Min Max Sum Mean Where ThresholdedRelu Sin Cos Tan Asin Acos Atan Sinh Cosh
Asinh Acosh Atanh
""".split())
_REDUCE = set("""ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2
ReduceLogSum ReduceLogSumExp ReduceSumSquare CumSum""".split())
_NORMS = set("""LayerNormalization SimplifiedLayerNormalization SkipLayerNormalization
SkipSimplifiedLayerNormalization RMSNormalization BatchNormalization InstanceNormalization
GroupNormalization LpNormalization MeanVarianceNormalization LRN""".split())
_SOFTMAX = {"Softmax", "LogSoftmax", "Hardmax"}
_POOL = {"MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool",
         "GlobalLpPool", "MaxRoiPool", "RoiAlign", "MaxUnpool"}
_CONTROL_FLOW = {"Loop", "Scan"}
# bits per element of the TensorProto types numpy has no plain name for (float8, 4-, 2- and
# 6-bit types: onnx.TensorProto.DataType)
_ELEM_BITS = {17: 8, 18: 8, 19: 8, 20: 8, 24: 8, 21: 4, 22: 4, 23: 4, 25: 2, 26: 2, 27: 6, 28: 6}


def _prod(xs: Iterable[int]) -> int:
    out = 1
    for x in xs:
        out *= int(x)
    return out


class _Shapes:
    """Inferred shapes (tuples of ints, or None where unknown) and element types by value name."""

    def __init__(self, graph):
        self.shape: dict[str, tuple | None] = {}
        self.elem: dict[str, int] = {}
        for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
            self._add(vi)
        for init in graph.initializer:
            self.shape[init.name] = tuple(int(d) for d in init.dims)
            self.elem[init.name] = init.data_type

    def _add(self, vi) -> None:
        t = vi.type
        if not t.HasField("tensor_type"):
            return
        tt = t.tensor_type
        self.elem[vi.name] = tt.elem_type
        if not tt.HasField("shape"):
            self.shape.setdefault(vi.name, None)
            return
        dims = []
        for d in tt.shape.dim:
            dims.append(int(d.dim_value) if d.HasField("dim_value") else None)
        shp = None if any(d is None for d in dims) else tuple(dims)
        if shp is not None or vi.name not in self.shape:
            self.shape[vi.name] = shp

    def get(self, name: str) -> tuple | None:
        if not name:
            return None
        return self.shape.get(name)


def _attr(node, name: str, default=None):
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


class _NeedShape(Exception):
    pass


def _need(shapes: _Shapes, name: str) -> tuple:
    s = shapes.get(name)
    if s is None:
        raise _NeedShape(name)
    return s


# ---------------------------------------------------------------------------------------
# FLOP formulas. Each returns (forward_flops, other_flops); 2 FLOPs per multiply-add.
# ---------------------------------------------------------------------------------------

def _matmul_shape(a: tuple, b: tuple) -> tuple:
    """numpy matmul output shape (used when shape inference left it unknown, e.g. after a
    contrib op whose output shape the ONNX inferencer does not know)."""
    a1, b1 = len(a) == 1, len(b) == 1
    a2 = (1,) + tuple(a) if a1 else tuple(a)
    b2 = tuple(b) + (1,) if b1 else tuple(b)
    ba, bb = a2[:-2], b2[:-2]
    n = max(len(ba), len(bb))
    ba, bb = (1,) * (n - len(ba)) + ba, (1,) * (n - len(bb)) + bb
    batch = tuple(max(x, y) for x, y in zip(ba, bb))
    out = batch + (a2[-2], b2[-1])
    if a1:
        out = out[:-2] + out[-1:]
    if b1:
        out = out[:-1]
    return out


def _matmul(node, sh):
    """MatMul A[..., M, K] x B[..., K, N] -> Y[..., M, N]: 2 * numel(Y) * K (numpy rules)."""
    a = _need(sh, node.input[0])
    y = sh.get(node.output[0])
    if y is None:
        y = _matmul_shape(a, _need(sh, node.input[1]))
        sh.shape[node.output[0]] = y
    k = a[-1] if a else 1
    return 2 * _prod(y) * k, 0


def _gemm(node, sh):
    """Gemm Y = alpha * A' B' + beta * C, Y[M, N], A' [M, K]: 2*M*N*K; bias add M*N (other)."""
    a = _need(sh, node.input[0])
    y = _need(sh, node.output[0])
    k = a[0] if _attr(node, "transA", 0) else a[1]
    other = _prod(y) if len(node.input) > 2 and node.input[2] else 0
    return 2 * _prod(y) * k, other


def _conv(node, sh):
    """Conv W[M, C/g, k...], Y[N, M, o...]: 2 * numel(Y) * (C/g) * prod(k); bias numel(Y)."""
    w = _need(sh, node.input[1])
    y = _need(sh, node.output[0])
    other = _prod(y) if len(node.input) > 2 and node.input[2] else 0
    return 2 * _prod(y) * w[1] * _prod(w[2:]), other


def _conv_transpose(node, sh):
    """ConvTranspose X[N, C, i...], W[C, M/g, k...]: each input element feeds (M/g)*prod(k)
    outputs: 2 * numel(X) * (M/g) * prod(k); bias numel(Y) (other)."""
    x = _need(sh, node.input[0])
    w = _need(sh, node.input[1])
    other = 0
    if len(node.input) > 2 and node.input[2]:
        y = sh.get(node.output[0])
        other = _prod(y) if y else 0
    return 2 * _prod(x) * w[1] * _prod(w[2:]), other


def _einsum(node, sh):
    """Einsum of two operands: 2 * product of the sizes of every distinct index (each output
    element sums over the contracted indices). One operand: no multiply-adds (other)."""
    eq = _attr(node, "equation")
    eq = eq.decode() if isinstance(eq, bytes) else eq
    eq = eq.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    shapes = [_need(sh, n) for n in node.input]
    sizes: dict[str, int] = {}
    for term, shp in zip(terms, shapes):
        if "..." in term:
            pre, post = term.split("...")
            n_ell = len(shp) - len(pre) - len(post)
            ell = shp[len(pre):len(pre) + n_ell]
            # broadcast dims get private letters; align from the right
            for j, d in enumerate(reversed(ell)):
                key = f"...{j}"
                sizes[key] = max(sizes.get(key, 1), int(d))
            letters = list(pre) + list(post)
            dims = list(shp[:len(pre)]) + list(shp[len(shp) - len(post):] if post else [])
        else:
            letters, dims = list(term), list(shp)
        for c, d in zip(letters, dims):
            sizes[c] = max(sizes.get(c, 1), int(d))
    y = sh.get(node.output[0])
    if len(terms) < 2:
        return 0, _prod(shapes[0])
    total = _prod(sizes.values())
    return 2 * total * (len(terms) - 1), 0


def _attention_onnx(node, sh):
    """ONNX Attention (opset 23). Q [B, Hq, S, Dh] or [B, S, Hq*Dh]; K [B, Hkv, L, Dh];
    V [B, Hkv, L, Dv]. Scores Q K^T: 2*B*Hq*S*L*Dh; values P V: 2*B*Hq*S*L*Dv.
    L includes past_key (input 4) when given. Softmax ~ 5 FLOPs per score (other)."""
    q = _need(sh, node.input[0])
    k = _need(sh, node.input[1])
    v = _need(sh, node.input[2])
    if len(q) == 4:
        b, hq, s, dh = q
        length, dv = k[2], v[3]
    else:
        hq = int(_attr(node, "q_num_heads"))
        hkv = int(_attr(node, "kv_num_heads"))
        b, s = q[0], q[1]
        dh = q[2] // hq
        length, dv = k[1], v[2] // hkv
    if len(node.input) > 4 and node.input[4]:
        past = _need(sh, node.input[4])
        length += past[2]
    scores = b * hq * s * length
    return 2 * scores * dh + 2 * scores * dv, 5 * scores


def _ms_attention(node, sh):
    """com.microsoft Attention: input [B, S, Din], weights [Din, Dq+Dk+Dv] (qkv_hidden_sizes or
    three equal parts), num_heads N. Projection 2*B*S*Din*(Dq+Dk+Dv); scores 2*B*S*L*Dq;
    values 2*B*S*L*Dv, L = S + past length. Bias and softmax are other."""
    x = _need(sh, node.input[0])
    w = _need(sh, node.input[1])
    n_heads = int(_attr(node, "num_heads"))
    sizes = _attr(node, "qkv_hidden_sizes")
    if sizes:
        dq, _dk, dv = (int(t) for t in sizes)
    else:
        dq = _dk = dv = w[1] // 3
    b, s, din = x
    length = s
    if len(node.input) > 4 and node.input[4]:
        past = _need(sh, node.input[4])  # [2, B, N, P, H]
        length += past[3]
    sh.shape.setdefault(node.output[0], None)
    if sh.shape[node.output[0]] is None:
        sh.shape[node.output[0]] = (b, s, dv)
    proj = 2 * b * s * din * w[1]
    scores = b * n_heads * s * length
    return proj + 2 * b * s * length * dq + 2 * b * s * length * dv, 5 * scores + b * s * w[1]


def _ms_mha(node, sh):
    """com.microsoft MultiHeadAttention / GroupQueryAttention: query [B, S, Dq]; key/value
    [B, L, Dk] or [B, Nkv, L, H]. Scores 2*B*S*L*Dq, values 2*B*S*L*Dv (Dv = N*Hv)."""
    q = _need(sh, node.input[0])
    n_heads = int(_attr(node, "num_heads"))
    b, s = q[0], q[1]
    if len(q) == 5:  # packed QKV [B, S, N, 3, H]
        dq = dv = q[2] * q[4]
        length = s
    else:
        dq = q[2]
        if len(node.input) > 1 and node.input[1] and sh.get(node.input[1]) is not None:
            k = sh.get(node.input[1])
            length = k[1] if len(k) == 3 else k[2]
            if len(k) == 5:  # packed KV [B, L, N, 2, H]
                length = k[1]
        else:  # packed QKV in query: [B, S, Dq+Dk+Dv]
            kvh = int(_attr(node, "kv_num_heads", n_heads))
            head = dq // (n_heads + 2 * kvh)
            dq = n_heads * head
            length = s
        dv = dq
        if len(node.input) > 2 and node.input[2] and sh.get(node.input[2]) is not None:
            v = sh.get(node.input[2])
            dv = v[2] if len(v) == 3 else None
            if dv is None:  # [B, Nkv, L, Hv]: each query head reads one kv head
                dv = n_heads * v[3]
    if sh.get(node.output[0]) is None:
        sh.shape[node.output[0]] = (b, s, dv)
    scores = b * n_heads * s * length
    return 2 * b * s * length * dq + 2 * b * s * length * dv, 5 * scores


def _rnn(gates: int):
    def formula(node, sh):
        """LSTM/GRU/RNN: X [T, B, I] (layout 0) or [B, T, I]; W [D, G*H, I]; R [D, G*H, H].
        Input and recurrent products: 2*T*B*D*G*H*(I + H); gates/biases/activations other."""
        x = _need(sh, node.input[0])
        w = _need(sh, node.input[1])
        r = _need(sh, node.input[2])
        t, b = (x[1], x[0]) if _attr(node, "layout", 0) else (x[0], x[1])
        d, gh, i = w
        h = r[2]
        fwd = 2 * t * b * d * gh * (i + h)
        other = t * b * d * gh * 3
        return fwd, other
    formula.__doc__ = formula.__doc__.replace("G*", f"{gates}*") if gates else formula.__doc__
    return formula


_FORWARD = {
    ("", "MatMul"): _matmul, ("", "MatMulInteger"): _matmul, ("", "QLinearMatMul"): None,
    ("", "Gemm"): _gemm, ("", "Conv"): _conv, ("", "ConvInteger"): _conv,
    ("", "ConvTranspose"): _conv_transpose, ("", "Einsum"): _einsum,
    ("", "Attention"): _attention_onnx,
    ("com.microsoft", "Attention"): _ms_attention,
    ("com.microsoft", "MultiHeadAttention"): _ms_mha,
    ("com.microsoft", "GroupQueryAttention"): _ms_mha,
    ("com.microsoft", "FusedMatMul"): _matmul,
    ("", "LSTM"): _rnn(4), ("", "GRU"): _rnn(3), ("", "RNN"): _rnn(1),
}


def _qlinear_matmul(node, sh):
    a = _need(sh, node.input[0])
    y = _need(sh, node.output[0])
    return 2 * _prod(y) * a[-1], 0


def _qlinear_conv(node, sh):
    w = _need(sh, node.input[3])
    y = _need(sh, node.output[0])
    return 2 * _prod(y) * w[1] * _prod(w[2:]), 0


_FORWARD[("", "QLinearMatMul")] = _qlinear_matmul
_FORWARD[("", "QLinearConv")] = _qlinear_conv


def _other(node, sh) -> int | None:
    """Estimated elementwise FLOPs of a non-matrix op, or None when the op is unknown."""
    op = node.op_type
    domain = node.domain or ""
    if domain not in ("", "ai.onnx", "com.microsoft"):
        return None
    out = sh.get(node.output[0]) if node.output else None
    n_out = _prod(out) if out is not None else 0
    if op in _ZERO_OPS:
        return 0
    if op in _ELEMENTWISE:
        return n_out
    if op in _NORMS:
        x = sh.get(node.input[0])
        return 5 * (_prod(x) if x is not None else n_out)
    if op in _SOFTMAX:
        return 5 * n_out
    if op in _REDUCE:
        x = sh.get(node.input[0])
        return _prod(x) if x is not None else n_out
    if op in _POOL:
        k = _attr(node, "kernel_shape")
        if k:
            return n_out * _prod(k)
        x = sh.get(node.input[0])
        return _prod(x) if x is not None else n_out
    if op in {"BiasAdd", "SkipLayerNormalization", "BiasSoftmax", "Gelu"}:
        return 5 * n_out
    return None


# ---------------------------------------------------------------------------------------
# Loading, validation, input shapes
# ---------------------------------------------------------------------------------------

def _load(path: Path):
    onnx = require("onnx", "onnx")
    if not path.exists():
        raise InputError("no such file", file=str(path))
    if not path.is_file():
        raise InputError("not a file", file=str(path))
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # DecodeError, truncated files, text files
        raise ModelError(f"not a readable ONNX model ({type(exc).__name__}); is the file "
                         "truncated or of another format?", file=str(path)) from None
    if not model.HasField("graph") or (not model.graph.node and not model.graph.output):
        raise ModelError("not an ONNX model: the file has no graph", file=str(path))
    if not model.opset_import:
        raise ModelError("not an ONNX model: the file declares no opset", file=str(path))
    return model


def external_data_files(model, folder: Path, *, file: str | None = None) -> list[Path]:
    """The external-data files a model names, each checked to lie inside ``folder``.

    Raises :class:`ModelError` for an absolute location or one that escapes the folder
    (``../``, or a symlink pointing out): loading it would read arbitrary files.
    """
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    folder_r = folder.resolve()
    out: list[Path] = []
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        for a in node.attribute:
            if a.HasField("t"):
                tensors.append(a.t)
    for t in tensors:
        if not uses_external_data(t):
            continue
        loc = ExternalDataInfo(t).location
        p = Path(loc)
        target = (folder / p).resolve()
        if p.is_absolute() or ".." in p.parts or not target.is_relative_to(folder_r):
            raise ModelError(f"initializer {t.name!r} points its external data at {loc!r}, "
                             "outside the model's folder; refusing to read it", file=file)
        out.append(target)
    return sorted(set(out))


def _load_small_external(model, folder: Path, names: set[str]) -> None:
    """Read the external data of the named (integer, shape-carrying) initializers only."""
    from onnx.external_data_helper import load_external_data_for_tensor, uses_external_data

    for t in model.graph.initializer:
        if t.name in names and uses_external_data(t):
            load_external_data_for_tensor(t, str(folder))
            del t.external_data[:]
            t.data_location = 0


def _check_order(graph, file: str | None) -> None:
    """ONNX requires a graph's nodes in topological order (a node reads only graph inputs,
    initializers and outputs of nodes before it). A node reading a value that a later node
    makes is out of order, or on a cycle: refused, since its shapes and counts would be
    made up."""
    makers = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    for i, node in enumerate(graph.node):
        for name in node.input:
            j = makers.get(name)
            if j is not None and j >= i:
                what = "on a cycle" if j == i or _reaches(graph, makers, j, i) else "out of order"
                label = " ".join(x for x in (node.op_type, printable(node.name)) if x)
                raise ModelError(f"invalid graph: node {i} ({label}) reads {printable(name)!r}, "
                                 f"made by node {j}: {what} (ONNX requires nodes in topological "
                                 "order)", file=file)


def _reaches(graph, makers: dict, start: int, goal: int) -> bool:
    """Whether node ``goal`` feeds node ``start`` through some path (a cycle when ``goal``
    also reads from ``start``)."""
    seen, todo = set(), [start]
    while todo:
        k = todo.pop()
        if k == goal:
            return True
        if k in seen:
            continue
        seen.add(k)
        todo += [makers[n] for n in graph.node[k].input if n in makers]
    return False


def _check_initializers(model, folder: Path, file: str | None) -> None:
    """Every initializer holds the data its dims declare: inline (raw bytes or typed values)
    or in an external file long enough for it. One that declares 10**12 elements and holds
    none would otherwise count as 10**12 parameters."""
    from onnx import helper
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    for t in model.graph.initializer:
        if any(d < 0 for d in t.dims):
            raise ModelError(f"initializer {printable(t.name)!r} has a negative dimension "
                             f"{list(t.dims)}", file=file)
        numel = _prod(t.dims)
        if numel == 0 or t.data_type == 8:  # empty, or strings (no parameters)
            continue
        bits = _ELEM_BITS.get(t.data_type)
        if bits is None:
            try:
                bits = 8 * helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
            except Exception:  # noqa: BLE001 - a type this onnx does not know
                raise ModelError(f"initializer {printable(t.name)!r} has an unknown data type "
                                 f"{t.data_type}", file=file) from None
        need = (numel * bits + 7) // 8
        if uses_external_data(t):
            info = ExternalDataInfo(t)
            target = folder / info.location
            size = target.stat().st_size if target.is_file() else 0
            have = (info.length if info.length else max(size - (info.offset or 0), 0))
            have = min(have, max(size - (info.offset or 0), 0))
        elif t.raw_data:
            have = len(t.raw_data)
        else:
            values = sum(len(getattr(t, f)) for f in ("float_data", "int32_data", "string_data",
                                                      "int64_data", "double_data",
                                                      "uint64_data"))
            have = need if values >= (numel if bits >= 8 else need) else 0
        if have < need:
            raise ModelError(f"initializer {printable(t.name)!r} declares {numel:,} elements "
                             f"({need:,} bytes) but holds {have:,} bytes of data: not a real "
                             "tensor, not counted", file=file)


def _graph_inputs(model) -> list:
    inits = {i.name for i in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in inits]


def _parse_shape(value, what: str) -> tuple[int, ...]:
    if isinstance(value, str):
        try:
            return tuple(int(x) for x in value.lower().replace(",", "x").split("x") if x.strip())
        except ValueError:
            raise InputError(f"{what}: cannot read shape {value!r}, expected e.g. 1x3x224x224")
    try:
        return tuple(int(x) for x in value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: cannot read shape {value!r}") from None


def _resolve_inputs(model, inputs, file: str | None) -> dict[str, tuple]:
    """Fix every graph input to a concrete shape; returns {input name: shape}.

    ``inputs`` may be None, a shape (one input), a list of shapes (in graph-input order), a
    dict {input name: shape}, a dict {symbolic dim: size}, or tensors/arrays (their shapes).
    """
    real = _graph_inputs(model)
    names = [vi.name for vi in real]
    by_name: dict[str, tuple] = {}
    symbols: dict[str, int] = {}

    def shape_of(v, what):
        shp = getattr(v, "shape", None)
        out = tuple(int(d) for d in shp) if shp is not None else _parse_shape(v, what)
        if not out or any(d <= 0 for d in out):
            raise InputError(f"{what}: shape {'x'.join(map(str, out)) or '(empty)'} must be "
                             "positive sizes, e.g. 1x3x224x224", file=file)
        return out

    if inputs is None:
        pass
    elif isinstance(inputs, Mapping):
        for k, v in inputs.items():
            if k in names:
                by_name[k] = shape_of(v, f"input {k!r}")
            elif isinstance(v, int) and not isinstance(v, bool):
                if v <= 0:
                    raise InputError(f"dimension {k}={v}: a size must be a positive integer",
                                     file=file)
                symbols[str(k)] = int(v)
            else:
                raise InputError(f"the graph has no input named {k!r} (inputs: "
                                 f"{', '.join(names) or 'none'})", file=file)
    else:
        seq = inputs
        if hasattr(inputs, "shape") or isinstance(inputs, str) or (
                isinstance(inputs, (list, tuple)) and inputs and all(
                    isinstance(x, int) for x in inputs)):
            seq = [inputs]
        seq = list(seq)
        if len(seq) > len(names):
            raise InputError(f"{len(seq)} input shapes given but the graph has {len(names)} "
                             f"input(s): {', '.join(names)}", file=file)
        for n, v in zip(names, seq):
            by_name[n] = shape_of(v, f"input {n!r}")

    resolved: dict[str, tuple] = {}
    for vi in real:
        tt = vi.type.tensor_type
        dims = list(tt.shape.dim) if tt.HasField("shape") else None
        given = by_name.get(vi.name)
        if given is not None:
            if dims is not None and len(dims) != len(given):
                raise InputError(f"input {vi.name!r} has rank {len(dims)} but the shape given "
                                 f"{'x'.join(map(str, given))} has rank {len(given)}", file=file)
            for d, g in zip(dims or [], given):
                if d.HasField("dim_value") and d.dim_value != g:
                    raise InputError(f"input {vi.name!r} is fixed at "
                                     f"{'x'.join(str(x.dim_value) if x.HasField('dim_value') else x.dim_param or '?' for x in dims)}"
                                     f"; the shape given {'x'.join(map(str, given))} does not fit",
                                     file=file)
            resolved[vi.name] = given
            continue
        if dims is None:
            raise InputError(f"input {vi.name!r} has no declared shape: give it, e.g. "
                             f"inputs={{{vi.name!r}: (1, 3, 224, 224)}} or --input "
                             f"{vi.name}=1x3x224x224", file=file)
        out, missing = [], []
        for d in dims:
            if d.HasField("dim_value"):
                out.append(int(d.dim_value))
            elif d.dim_param and d.dim_param in symbols:
                out.append(symbols[d.dim_param])
            else:
                missing.append(d.dim_param or "?")
                out.append(None)
        if missing:
            pretty = "x".join(str(x) if x is not None else (dims[i].dim_param or "?")
                              for i, x in enumerate(out))
            raise InputError(f"input {vi.name!r} has symbolic dims {pretty}: give its shape, "
                             f"e.g. --input {vi.name}="
                             f"{'x'.join(str(x) if x is not None else '1' for x in out)}",
                             file=file)
        resolved[vi.name] = tuple(out)
    # write the concrete dims into the graph
    for vi in real:
        shp = resolved[vi.name]
        tt = vi.type.tensor_type
        tt.shape.ClearField("dim")
        for s in shp:
            tt.shape.dim.add().dim_value = int(s)
    return resolved


def _drop_weight_data(model) -> None:
    """Forget the values of large floating-point initializers (their name, type and dims are
    all a count needs): shape inference then serialises kilobytes, not gigabytes."""
    for t in model.graph.initializer:
        if t.data_type in _FLOAT_TYPES and _prod(t.dims) > 4096:
            for f in ("raw_data", "float_data", "double_data", "int32_data"):
                t.ClearField(f)
            del t.external_data[:]
            t.data_location = 0


def _needs_more_shapes(model) -> bool:
    """Whether a matrix-class node still lacks an input shape after ONNX shape inference."""
    sh = _Shapes(model.graph)
    for node in model.graph.node:
        if (node.domain or "", node.op_type) in _FORWARD:
            if any(n and sh.get(n) is None for n in node.input[:2]):
                return True
    return False


def _symbolic_shapes(model):
    """onnxruntime's symbolic shape inference, which follows shape arithmetic (Shape ->
    Gather -> Concat -> Reshape/Expand, as exported ``repeat_interleave`` builds) further
    than ``onnx.shape_inference``; None when it is not installed or fails."""
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
    except Exception:
        return None
    try:
        return SymbolicShapeInference.infer_shapes(model, auto_merge=True)
    except Exception:
        return None


# ---------------------------------------------------------------------------------------
# Scopes
# ---------------------------------------------------------------------------------------

def _reads(node):
    """(slot, name) of every value a node reads: its inputs, then the outer-scope values its
    subgraphs (Loop/If/Scan bodies, e.g. an exported EmbeddingBag) capture (slot -1)."""
    yield from enumerate(node.input)
    for attr in node.attribute:
        for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
            for inner in sub.node:
                for _, name in _reads(inner):
                    yield -1, name


def _scope(node) -> str:
    """Dotted module path of a node: from dynamo name-scope metadata or TorchScript names."""
    for p in node.metadata_props:
        if p.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = ast.literal_eval(p.value)
            except (ValueError, SyntaxError):
                scopes = None
            if isinstance(scopes, list):
                # the module stack, then the node's own fx name ("linear_2"): drop the latter
                parts = [s for s in scopes[:-1] if s]
                # dynamo records one entry per module level; each is either the full path
                # ("blocks.0.attn") or the attribute name ("attn"): rebuild the path.
                path = ""
                for s in parts:
                    path = s if (not path or s.startswith(path + ".")) else f"{path}.{s}"
                return path
    name = node.name or ""
    if name.startswith("/"):
        return _torchscript_path([p for p in name.strip("/").split("/")[:-1] if p])
    return ""


def _node_scopes(nodes) -> list[str]:
    """The dotted path of every node; a graph without scoped names (no node has one) gets a
    row per node, named by the node (``.`` and ``/`` replaced) or ``<Op>_<index>``."""
    scopes = [_scope(n) for n in nodes]
    if any(scopes):
        return scopes
    seen: set[str] = set()
    out = []
    for i, n in enumerate(nodes):
        name = (n.name or f"{n.op_type}_{i}").strip("/").replace(".", "_").replace("/", "_")
        if not name or name in seen:
            name = f"{name or n.op_type}_{i}"
        seen.add(name)
        out.append(name)
    return out


def _torchscript_path(segments: list[str]) -> str:
    """Rebuild a dotted module path from TorchScript scope segments.

    Each segment is a module's name relative to the nearest *called* ancestor, so a child
    of an ``nn.Sequential`` scope ``attn`` is named ``attn.0``, and an ``nn.ModuleList``
    (never called itself) contributes no segment: ``/blocks/blocks.0/attn/attn.0/Gemm``
    is ``blocks.0.attn.0`` and ``/0/0.0/layers.0/layers.0.1/Gemm`` is ``0.0.layers.0.1``.
    """
    path, prev = "", None
    for seg in segments:
        if prev is not None and seg.startswith(prev + "."):
            path += seg[len(prev):]
        else:
            path = f"{path}.{seg}" if path else seg
        prev = seg
    return path


# ---------------------------------------------------------------------------------------
# The counter
# ---------------------------------------------------------------------------------------

def count_onnx(path, inputs=None, *, name: str | None = None, strict: bool = False,
               buffers: Iterable[str] = (), **_ignored) -> CountResult:
    """Count the ONNX model at ``path``; ``inputs`` fixes symbolic input dims (see module doc).

    Raises :class:`ModelError` for an unreadable file, an external-data path outside the
    model's folder or (``strict=True``) unknown ops; :class:`InputError` for missing shapes.
    """
    onnx = require("onnx", "onnx")
    from onnx import shape_inference

    path = Path(path)
    file = str(path)
    model = _load(path)
    for data_file in external_data_files(model, path.parent, file=file):  # refuses escapes
        if not data_file.is_file():
            raise ModelError(f"its external data file {data_file.name!r} is missing (expected "
                             f"in {path.parent}); the weights it names cannot be counted",
                             file=file)
    _check_order(model.graph, file)
    _check_initializers(model, path.parent, file)
    # shape-carrying (integer) initializers must be readable for shape inference
    int_names = {t.name for t in model.graph.initializer
                 if t.data_type not in _FLOAT_TYPES and _prod(t.dims) <= 4096}
    try:
        _load_small_external(model, path.parent, int_names)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read its external data: {exc}", file=file) from None

    if model.functions:
        try:
            from onnx import inliner

            model = inliner.inline_local_functions(model)
        except Exception as exc:  # pragma: no cover - depends on the graph
            raise ModelError(f"cannot inline its local functions: {exc}", file=file) from None

    input_shapes = _resolve_inputs(model, inputs, file)
    del model.graph.value_info[:]
    _drop_weight_data(model)
    try:
        # strict: a graph whose shapes contradict each other (a MatMul of 2x4 by 5x3) is
        # invalid, not countable; ops without a schema (custom domains) are still skipped
        inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise ModelError("invalid graph: shape inference fails: "
                         f"{' '.join(str(exc).split())[:300]}", file=file) from None
    if _needs_more_shapes(inferred):
        inferred = _symbolic_shapes(inferred) or inferred
    graph = inferred.graph
    sh = _Shapes(graph)

    # -- parameters: unique initializers, attributed to the first consumer's scope ---------
    meta = {p.key: p.value for p in inferred.metadata_props}
    buffer_names = set(buffers)
    if meta.get("paramcount.buffers"):
        buffer_names |= {s for s in meta["paramcount.buffers"].split(",") if s}
    inits = OrderedDict((t.name, t) for t in graph.initializer)
    node_scope = _node_scopes(graph.node)
    first_scope: dict[str, str] = {}
    quant_weights: set[str] = set()
    for node, sc in zip(graph.node, node_scope):
        for i, inp in _reads(node):
            if inp in inits:
                first_scope.setdefault(inp, sc)
                if i in _BUFFER_SLOTS.get(node.op_type, ()):
                    buffer_names.add(inp)
                if i in _QUANT_WEIGHT_SLOTS.get(node.op_type, ()):
                    quant_weights.add(inp)
    params_by_scope: Counter = Counter()
    total_params = 0
    buffers_out: dict[str, int] = {}
    unused = 0
    for nm, t in inits.items():
        numel = _prod(t.dims)
        if nm in buffer_names:
            buffers_out[nm] = numel
            continue
        if len(t.dims) == 0:
            continue  # scalar constant
        is_param = t.data_type in _FLOAT_TYPES or (
            t.data_type in _LOWBIT_INT_TYPES and nm in quant_weights)
        if not is_param:
            continue
        if nm not in first_scope:
            unused += numel
            continue  # read by no node: not part of the computation
        params_by_scope[first_scope[nm]] += numel
        total_params += numel

    # -- FLOPs per node --------------------------------------------------------------------
    fwd_by_scope: Counter = Counter()
    other_by_scope: Counter = Counter()
    unknown: Counter = Counter()
    op_counts: Counter = Counter()
    own_ops: dict[str, list[str]] = {}
    last_out: dict[str, str] = {}   # path -> first output of the last node in its subtree
    for node, sc in zip(graph.node, node_scope):
        domain = node.domain if node.domain not in ("ai.onnx",) else ""
        key = (domain, node.op_type)
        op_name = node.op_type if not domain else f"{domain}:{node.op_type}"
        op_counts[op_name] += 1
        if op_name not in own_ops.setdefault(sc, []):
            own_ops[sc].append(op_name)
        if node.output and node.output[0] and sc:
            parts = sc.split(".")
            for j in range(1, len(parts) + 1):
                last_out[".".join(parts[:j])] = node.output[0]
        formula = _FORWARD.get(key)
        try:
            if formula is not None:
                f, o = formula(node, sh)
                fwd_by_scope[sc] += int(f)
                other_by_scope[sc] += int(o)
                continue
            if node.op_type in _CONTROL_FLOW:
                unknown[op_name] += 1
                continue
            o = _other(node, sh)
        except _NeedShape:
            unknown[f"{op_name} (input shape unknown)"] += 1
            continue
        if o is None:
            unknown[op_name] += 1
        else:
            other_by_scope[sc] += int(o)

    if strict and unknown:
        raise ModelError("the graph has ops without a FLOP formula: "
                         + ", ".join(f"{k} x{v}" for k, v in sorted(unknown.items())), file=file)

    # -- rows: every scope prefix, inclusive sums ------------------------------------------
    scopes = set(params_by_scope) | set(fwd_by_scope) | set(other_by_scope) | set(own_ops)
    agg: dict[str, list[int]] = {}
    for sc in scopes:
        parts = sc.split(".") if sc else []
        p, f, o = params_by_scope[sc], fwd_by_scope[sc], other_by_scope[sc]
        for j in range(1, len(parts) + 1):
            pre = ".".join(parts[:j])
            a = agg.setdefault(pre, [0, 0, 0])
            a[0] += p
            a[1] += f
            a[2] += o
    # rows in graph order, each scope under its parent: a scope sorts by where each of its
    # prefixes first appears (conv1 before layer1.0 when the graph runs conv1 first)
    first: dict[str, int] = {}
    for i, sc in enumerate(node_scope):
        parts = sc.split(".") if sc else []
        for j in range(1, len(parts) + 1):
            first.setdefault(".".join(parts[:j]), i)

    def graph_order(q: str) -> tuple:
        parts = q.split(".")
        return tuple(first.get(".".join(parts[:j]), len(node_scope))
                     for j in range(1, len(parts) + 1))

    all_paths = sorted(agg, key=graph_order)
    parents = {q.rpartition(".")[0] for q in all_paths if "." in q}
    rows = []
    for pth in all_paths:
        p, f, o = agg[pth]
        leaf = pth not in parents
        ops = own_ops.get(pth, [])
        kind = ("+".join(ops[:3]) + ("+..." if len(ops) > 3 else "")) if leaf and ops \
            else "onnx-scope"
        rows.append(LayerRow(path=pth, kind=kind, count=Count(p, p, f, o),
                             output_shape=sh.get(last_out.get(pth, "")),
                             depth=pth.count(".") + 1, leaf=leaf))
    total = Count(total_params, total_params, sum(fwd_by_scope.values()),
                  sum(other_by_scope.values()))

    outputs = {o.name: sh.get(o.name) for o in graph.output}
    first_out = next(iter(outputs.values()), None)
    tokens = batch = None
    if len(input_shapes) >= 1:
        first_in = _graph_inputs(inferred)[0]
        shp = input_shapes[first_in.name]
        if first_in.type.tensor_type.elem_type in _INT_ELEM and len(shp) == 2:
            tokens = int(shp[0]) * int(shp[1])   # every token of the batch (B x T)
        if len(shp) >= 2:
            batch = int(shp[0])                   # the leading dim, as for torch inputs
    notes = []
    if unknown:
        notes.append("ops without a FLOP formula (not counted): "
                     + ", ".join(f"{k} x{v}" for k, v in sorted(unknown.items())))
    if buffers_out:
        notes.append(f"{sum(buffers_out.values())} buffer elements in {len(buffers_out)} "
                     "initializer(s) are not parameters")
    if unused:
        notes.append(f"{unused} elements in initializers that no node reads were not counted")
    opsets = {(o.domain or "ai.onnx"): o.version for o in inferred.opset_import}
    return CountResult(
        name=name or (inferred.graph.name if inferred.graph.name not in ("", "main_graph",
                                                                         "torch_jit")
                      else path.stem),
        total=total, layers=rows, source="onnx", input_shapes=input_shapes,
        output_shape=tuple(first_out) if first_out is not None else None, tokens=tokens,
        batch=batch, unknown_ops=dict(sorted(unknown.items())), notes=notes,
        extra={"onnx": {"opsets": opsets, "ops": dict(sorted(op_counts.items())),
                        "output_shapes": {k: list(v) if v is not None else None
                                          for k, v in outputs.items()},
                        "buffers": buffers_out}})
