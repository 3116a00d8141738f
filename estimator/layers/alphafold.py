"""The AlphaFold 2 family of layers: the Evoformer's axial gated attention, outer product mean
and triangle multiplicative updates, the structure module's invariant point attention, the
pointwise template attention and the embedders' outer sum and broadcast add.

Source of every equation: Jumper et al. (2021), "Highly accurate protein structure prediction
with AlphaFold", Nature 596, Supplementary Information, section 1.5-1.8 and Algorithms 3, 7-14,
17, 19 and 22 (MSA representation m: N_seq x N_res x c_m; pair representation z: N_res x N_res
x c_z; single representation s: N_res x c_s). The LayerNorm that opens each Evoformer update
(line 1 of each algorithm) is written as its own ``layernorm`` layer in a spec; everything
after it is the kind here. ``LinearNoBias`` of the supplement has no bias, ``Linear`` one.

Shapes are channels-last: an MSA (s, r, c), a pair representation (r, r, c), a single
representation (r, c)."""
import functools
from typing import ClassVar, Literal, Optional

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, numel, register


def _other(ctx: Ctx, path: str, what: str) -> Shape:
    y = ctx.env.get(path)
    if y is None:
        raise ShapeError(f"{what} '{path}' is not an earlier layer or input")
    return tuple(y)


def _three(x: Shape, kind: str) -> None:
    if len(x) != 3:
        raise ShapeError(f"{kind} takes a 3-D (N, L, c) tensor, got {tuple(x)}")


@functools.cache
def _modules():
    import torch
    from torch import nn

    class GatedAttention(nn.Module):
        """Algorithms 7, 8, 13, 14 (and 19 with ``global``) on a (B, N, L, c) tensor."""

        needs_env = True

        def __init__(self, c, heads, head_dim, axis, bias, c_b, is_global, self_bias, n, t):
            super().__init__()
            self.n, self.t = n, t  # batch and attended length, constants (ONNX infers shapes)
            self.h, self.e, self.axis, self.bias_path, self.is_global = heads, head_dim, axis, bias, is_global
            self.self_bias = self_bias
            bias = bias or self_bias
            he = heads * head_dim
            self.q = nn.Linear(c, he, bias=False)
            kv = head_dim if is_global else he
            self.k = nn.Linear(c, kv, bias=False)
            self.v = nn.Linear(c, kv, bias=False)
            self.b = nn.Linear(c_b, heads, bias=False) if bias else None
            self.g = nn.Linear(c, he)
            self.o = nn.Linear(he, c)

        def forward(self, x, env):
            source = x if self.self_bias else (env[self.bias_path] if self.bias_path else None)
            if self.axis == 0:
                x = x.transpose(1, 2)
            n, t, h, e = self.n, self.t, self.h, self.e
            g = torch.sigmoid(self.g(x)).reshape(-1, n, t, h, e)
            if self.is_global:  # Alg. 19: one query per column from the mean over sequences
                q = self.q(x.mean(dim=2)).reshape(-1, n, h, e) * e ** -0.5      # (B, n, h, e)
                k, v = self.k(x), self.v(x)                                       # (B, n, t, e)
                a = torch.softmax(torch.einsum("bnhe,bnte->bnht", q, k), dim=-1)
                o = torch.einsum("bnht,bnte->bnhe", a, v).unsqueeze(2) * g
            else:
                q = self.q(x).reshape(-1, n, t, h, e) * e ** -0.5
                k = self.k(x).reshape(-1, n, t, h, e)
                v = self.v(x).reshape(-1, n, t, h, e)
                logits = torch.einsum("bnqhe,bnkhe->bnhqk", q, k)
                if self.b is not None:
                    bias = self.b(source)                                       # (B, t, t, h)
                    if self.axis == 0:
                        bias = bias.transpose(1, 2)
                    logits = logits + bias.permute(0, 3, 1, 2).unsqueeze(1)
                a = torch.softmax(logits, dim=-1)
                o = torch.einsum("bnhqk,bnkhe->bnqhe", a, v) * g
            y = self.o(o.reshape(-1, n, t, h * e))
            return y.transpose(1, 2) if self.axis == 0 else y

    class OuterProductMean(nn.Module):
        """Algorithm 10 after its LayerNorm: (B, s, r, c_m) -> (B, r, r, c_z)."""

        def __init__(self, c_m, c, c_z):
            super().__init__()
            self.a, self.b = nn.Linear(c_m, c), nn.Linear(c_m, c)
            self.o = nn.Linear(c * c, c_z)

        def forward(self, m):
            a, b = self.a(m), self.b(m)
            outer = torch.einsum("bsic,bsjd->bijcd", a, b) / m.shape[1]
            return self.o(outer.flatten(-2))

    class TriangleMultiplication(nn.Module):
        """Algorithms 11 (outgoing) and 12 (incoming) after their first LayerNorm."""

        def __init__(self, c_z, c, outgoing):
            super().__init__()
            self.outgoing = outgoing
            self.a_p, self.a_g = nn.Linear(c_z, c), nn.Linear(c_z, c)
            self.b_p, self.b_g = nn.Linear(c_z, c), nn.Linear(c_z, c)
            self.g = nn.Linear(c_z, c_z)
            self.ln = nn.LayerNorm(c)
            self.o = nn.Linear(c, c_z)

        def forward(self, z):
            a = torch.sigmoid(self.a_g(z)) * self.a_p(z)
            b = torch.sigmoid(self.b_g(z)) * self.b_p(z)
            eq = "bikc,bjkc->bijc" if self.outgoing else "bkic,bkjc->bijc"
            return torch.sigmoid(self.g(z)) * self.o(self.ln(torch.einsum(eq, a, b)))

    class InvariantPointAttention(nn.Module):
        """Algorithm 22 on (B, r, c_s) with the pair representation (B, r, r, c_z). The
        frames T_i enter only through elementwise rotations of the points; the module keeps
        them at the identity (the counts do not depend on their values)."""

        needs_env = True

        def __init__(self, c_s, c_z, heads, c, pq, pv, pair, r):
            super().__init__()
            self.r = r  # residues, a constant (ONNX infers shapes)
            self.h, self.c, self.pq, self.pv, self.pair = heads, c, pq, pv, pair
            self.q = nn.Linear(c_s, heads * c, bias=False)
            self.k = nn.Linear(c_s, heads * c, bias=False)
            self.v = nn.Linear(c_s, heads * c, bias=False)
            self.q_points = nn.Linear(c_s, heads * pq * 3, bias=False)
            self.k_points = nn.Linear(c_s, heads * pq * 3, bias=False)
            self.v_points = nn.Linear(c_s, heads * pv * 3, bias=False)
            self.b = nn.Linear(c_z, heads, bias=False)
            self.head_weights = nn.Parameter(torch.zeros(heads))
            self.o = nn.Linear(heads * (c_z + c + 4 * pv), c_s)

        def forward(self, s, env):
            z = env[self.pair]
            h, c, pq, pv, r = self.h, self.c, self.pq, self.pv, self.r
            q, k, v = (f(s).reshape(-1, r, h, c) for f in (self.q, self.k, self.v))
            qp = self.q_points(s).reshape(-1, r, h, pq, 3)
            kp = self.k_points(s).reshape(-1, r, h, pq, 3)
            vp = self.v_points(s).reshape(-1, r, h, pv, 3)
            logits = torch.einsum("bihc,bjhc->bhij", q, k) * (1 / (3 * c)) ** 0.5
            logits = logits + self.b(z).permute(0, 3, 1, 2) * (1 / 3) ** 0.5
            d2 = (qp.unsqueeze(2) - kp.unsqueeze(1)).square().sum(dim=(-1, -2))   # (b, i, j, h)
            w = nn.functional.softplus(self.head_weights) * (2 / (9 * pq)) ** 0.5
            logits = logits - 0.5 * (d2 * w).permute(0, 3, 1, 2)
            a = torch.softmax(logits, dim=-1)
            o = torch.einsum("bhij,bjhc->bihc", a, v).reshape(-1, r, h * c)
            op = torch.einsum("bhij,bjhpx->bihpx", a, vp)
            norm = op.square().sum(dim=-1).add(1e-8).sqrt().reshape(-1, r, h * pv)
            opair = torch.einsum("bhij,bijc->bihc", a, z).reshape(-1, r, h * z.shape[-1])
            return self.o(torch.cat([o, op.reshape(-1, r, h * pv * 3), norm, opair], dim=-1))

    class PointwiseAttention(nn.Module):
        """Algorithm 17: each pair position's query attends over its K template entries."""

        needs_env = True

        def __init__(self, c, c_m, heads, head_dim, memory, p, k, out_shape):
            super().__init__()
            self.p, self.n_k, self.out_shape = p, k, out_shape  # constants (ONNX infers shapes)
            self.h, self.e, self.memory = heads, head_dim, memory
            self.q = nn.Linear(c, heads * head_dim, bias=False)
            self.k = nn.Linear(c_m, heads * head_dim, bias=False)
            self.v = nn.Linear(c_m, heads * head_dim, bias=False)
            self.o = nn.Linear(heads * head_dim, c)

        def forward(self, x, env):
            t = env[self.memory]                                   # (B, K, *P, c_m)
            h, e, p, k = self.h, self.e, self.p, self.n_k
            q = self.q(x).reshape(-1, p, h, e) * e ** -0.5                    # (B, P, h, e)
            kk = self.k(t).reshape(-1, k, p, h, e)                            # (B, K, P, h, e)
            v = self.v(t).reshape(-1, k, p, h, e)
            a = torch.softmax(torch.einsum("bphe,bkphe->bphk", q, kk), dim=-1)
            o = torch.einsum("bphk,bkphe->bphe", a, v).reshape(-1, p, h * e)
            return self.o(o).reshape((-1,) + self.out_shape)

    class OuterSum(nn.Module):
        """Algorithm 3 lines 2-3: z_ij = Linear_a(x_i) + Linear_b(x_j)."""

        def __init__(self, f, out):
            super().__init__()
            self.a, self.b = nn.Linear(f, out), nn.Linear(f, out)

        def forward(self, x):
            return self.a(x).unsqueeze(2) + self.b(x).unsqueeze(1)

    class BroadcastAdd(nn.Module):
        needs_env = True

        def __init__(self, other):
            super().__init__()
            self.other = other

        def forward(self, x, env):
            y = env[self.other]
            return x + y.reshape(y.shape[:1] + (1,) * (x.dim() - y.dim()) + y.shape[1:])

    return (GatedAttention, OuterProductMean, TriangleMultiplication, InvariantPointAttention,
            PointwiseAttention, OuterSum, BroadcastAdd)


@register
class GatedAttention(LayerSpec):
    """Gated axial self-attention of AlphaFold 2 on an (N, L, c) tensor: MSA row attention with
    pair bias (Alg. 7: ``axis: 1``, ``bias: PATH`` of the normalised pair representation),
    MSA column attention (Alg. 8: ``axis: 0``), triangle attention around the starting node
    (Alg. 13: ``axis: 1``, ``self_bias``: the bias from its own normalised input) and the
    ending node (Alg. 14: ``axis: 0``, the bias transposed), and the extra MSA stack's global column attention
    (Alg. 19: ``axis: 0``, ``global: true``). Output shape = input shape.

    q, k, v = LinearNoBias(x); b = LinearNoBias(bias); g = sigmoid(Linear(x));
    o = g ⊙ softmax(q·k / sqrt(e) + b) v; y = Linear(o)."""

    kind: Literal["gated_attention"] = "gated_attention"
    heads: Size = Field(..., description="attention heads h")
    head_dim: Size = Field(..., description="per-head width e (c in the supplement)")
    axis: Literal[0, 1] = Field(1, description="1: attend along dim 1 (rows, starting node); 0: along dim 0 (columns, ending node)")
    bias: Optional[str] = Field(None, description="path of a (L, L, c_b) tensor projected to one logit bias per head")
    self_bias: bool = Field(False, description="the bias from this layer's own (L, L, c) input: triangle attention (Alg. 13-14, line 3)")
    global_: bool = Field(False, alias="global", description="Alg. 19: one query per column (mean over the sequences), one shared key/value head")

    family: ClassVar[str] = "alphafold"
    EXAMPLE = {"input": {"shape": [4, 4, 8]},
               "layer": {"kind": "sequential", "name": "row", "layers": [
                   {"kind": "layernorm", "name": "ln"},
                   {"kind": "gated_attention", "name": "att", "heads": 2, "head_dim": 3, "bias": "row.ln"}]}}

    path_keys: ClassVar[tuple[str, ...]] = ("bias",)

    def _dims(self, x: Shape, ctx: Ctx):
        _three(x, self.kind)
        batch, length = (x[0], x[1]) if self.axis == 1 else (x[1], x[0])
        c_b = 0
        if self.self_bias:
            if self.bias or x[0] != x[1]:
                raise ShapeError(f"self_bias takes a square (L, L, c) input and no bias path, got {tuple(x)}")
            c_b = x[2]
        if self.bias:
            y = _other(ctx, self.bias, "bias")
            if len(y) != 3 or y[0] != y[1] or y[0] != length:
                raise ShapeError(f"bias '{self.bias}' must be ({length}, {length}, c), got {y}")
            c_b = y[2]
        if self.global_ and (self.axis != 0 or self.bias or self.self_bias):
            raise ShapeError("global attention is column attention (axis 0) without a bias")
        return batch, length, x[2], c_b

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._dims(x, ctx)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """With B independent rows (or columns) of length T, width c, h heads of e, n = B·T:
        params = 3·c·h·e (q, k, v; global: c·h·e + 2·c·e) + c_b·h (bias) + c·h·e + h·e (gate)
        + h·e·c + c (output); FLOPs = 2·n·c·h·e (q; global 2·B·c·h·e) + 2·2·n·c·h·e (k, v;
        global 2·2·n·c·e) + 2·n·c·h·e (gate) + 2·T²·c_b·h (bias) + 2·2·B·h·T²·e (scores and
        values; global 2·2·B·h·T·e) + 2·n·h·e·c (output). other: softmax 3 per logit, the
        sigmoid and gating product 2·n·h·e, biases."""
        b, t, c, c_b = self._dims(x, ctx)
        h, e = self.heads, self.head_dim
        he, n = h * e, b * t
        kv = e if self.global_ else he
        params = {"q.weight": Param((he, c), "dense"), "k.weight": Param((kv, c), "dense"),
                  "v.weight": Param((kv, c), "dense"), "g.weight": Param((he, c), "dense"),
                  "g.bias": Param((he,), "dense"), "o.weight": Param((c, he), "dense"),
                  "o.bias": Param((c,), "dense")}
        if c_b:
            params["b.weight"] = Param((h, c_b), "dense")
        if self.global_:
            flops = 2 * b * c * he + 2 * 2 * n * c * e + 2 * n * c * he + 2 * 2 * b * h * t * e
            logits = b * h * t
        else:
            flops = 3 * 2 * n * c * he + 2 * n * c * he + 2 * 2 * b * h * t * t * e
            logits = b * h * t * t
        flops += 2 * n * he * c + 2 * t * t * c_b * h
        other = ((costs.SOFTMAX + 1) * logits + 2 * n * he + costs.BIAS * (n * he + n * c)
                 + (logits if c_b else 0))
        return Formula(params, flops=flops, other=other)

    def build(self, x: Shape, ctx: Ctx):
        b, t, c, c_b = self._dims(x, ctx)
        return _modules()[0](c, self.heads, self.head_dim, self.axis, self.bias, c_b, self.global_,
                             self.self_bias, b, t)


@register
class OuterProductMean(LayerSpec):
    """Outer product mean (Alg. 10): the MSA (s, r, c_m) -> a pair update (r, r, c_z):
    a, b = Linear(m); o_ij = Linear(flatten(mean_s a_si ⊗ b_sj))."""

    kind: Literal["outer_product_mean"] = "outer_product_mean"
    hidden: Size = Field(32, description="width c of a and b (32 in AlphaFold 2)")
    out: Size = Field(..., description="pair width c_z")

    family: ClassVar[str] = "alphafold"
    EXAMPLE = {"input": {"shape": [3, 4, 6]}, "layer": {"kind": "outer_product_mean", "hidden": 2, "out": 5}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        _three(x, self.kind)
        return (x[1], x[1], self.out)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """s sequences, r residues, c = hidden: params = 2·(c_m·c + c) + c²·c_z + c_z;
        FLOPs = 2·2·s·r·c_m·c (a, b) + 2·s·r²·c² (the outer products summed over s) +
        2·r²·c²·c_z (output); other = r²·c² (the mean's division) + biases."""
        _three(x, self.kind)
        s, r, cm = x
        c, cz = self.hidden, self.out
        params = {"a.weight": Param((c, cm), "dense"), "a.bias": Param((c,), "dense"),
                  "b.weight": Param((c, cm), "dense"), "b.bias": Param((c,), "dense"),
                  "o.weight": Param((cz, c * c), "dense"), "o.bias": Param((cz,), "dense")}
        flops = 2 * 2 * s * r * cm * c + 2 * s * r * r * c * c + 2 * r * r * c * c * cz
        return Formula(params, flops=flops, other=r * r * c * c + 2 * s * r * c + r * r * cz)

    def build(self, x: Shape, ctx: Ctx):
        _three(x, self.kind)
        return _modules()[1](x[2], self.hidden, self.out)


@register
class TriangleMultiplication(LayerSpec):
    """Triangular multiplicative update using outgoing (Alg. 11) or incoming (Alg. 12) edges,
    after its first LayerNorm, on the pair representation (r, r, c_z): a = sigmoid(Linear(z))
    ⊙ Linear(z), b likewise; outgoing: t_ij = Σ_k a_ik ⊙ b_jk (incoming: Σ_k a_ki ⊙ b_kj);
    y = sigmoid(Linear(z)) ⊙ Linear(LayerNorm(t)). Output shape = input shape."""

    kind: Literal["triangle_multiplication"] = "triangle_multiplication"
    hidden: Size = Field(..., description="width c of a and b (128 in AlphaFold 2)")
    direction: Literal["outgoing", "incoming"] = Field("outgoing", description="which edges of the triangle are multiplied")

    family: ClassVar[str] = "alphafold"
    EXAMPLE = {"input": {"shape": [4, 4, 6]}, "layer": {"kind": "triangle_multiplication", "hidden": 3}}

    def _check(self, x: Shape) -> None:
        _three(x, self.kind)
        if x[0] != x[1]:
            raise ShapeError(f"triangle_multiplication takes a square (r, r, c) pair representation, got {tuple(x)}")

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._check(x)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """r residues, c_z = width, c = hidden: params = 4·(c_z·c + c) (a and b, projections
        and gates) + c_z² + c_z (output gate) + 2·c (LayerNorm) + c·c_z + c_z (output);
        FLOPs = 4·2·r²·c_z·c + 2·r²·c_z² + 2·r³·c (the sum over k) + 2·r²·c·c_z;
        other = sigmoids and products 3·r²·c + 2·r²·c_z, the LayerNorm 7·r²·c, biases."""
        self._check(x)
        r, _, cz = x
        c = self.hidden
        params = {}
        for p in ("a_p", "a_g", "b_p", "b_g"):
            params[f"{p}.weight"] = Param((c, cz), "dense")
            params[f"{p}.bias"] = Param((c,), "dense")
        params.update({"g.weight": Param((cz, cz), "dense"), "g.bias": Param((cz,), "dense"),
                       "ln.weight": Param((c,), "norm"), "ln.bias": Param((c,), "norm"),
                       "o.weight": Param((cz, c), "dense"), "o.bias": Param((cz,), "dense")})
        rr = r * r
        flops = 4 * 2 * rr * cz * c + 2 * rr * cz * cz + 2 * r * rr * c + 2 * rr * c * cz
        other = (3 * rr * c + 2 * rr * cz + (costs.NORM + costs.AFFINE) * rr * c
                 + costs.BIAS * (4 * rr * c + 2 * rr * cz))
        return Formula(params, flops=flops, other=other)

    def build(self, x: Shape, ctx: Ctx):
        self._check(x)
        return _modules()[2](x[2], self.hidden, self.direction == "outgoing")


@register
class InvariantPointAttention(LayerSpec):
    """Invariant point attention (Alg. 22) of the structure module on the single representation
    (r, c_s), with the pair representation at ``pair`` (r, r, c_z): scalar queries, keys and
    values, 3-D query/key/value points in each residue's frame, a pair bias and a per-head
    weight of the point distances; the output concatenates scalar, point (and point-norm) and
    pair results per head and projects them back to c_s. Output shape = input shape."""

    kind: Literal["invariant_point_attention"] = "invariant_point_attention"
    pair: str = Field(..., description="path of the pair representation (r, r, c_z)")
    heads: Size = Field(12, description="heads N_head")
    head_dim: Size = Field(16, description="scalar width c per head")
    qk_points: Size = Field(4, description="query/key points per head N_query_points")
    v_points: Size = Field(8, description="value points per head N_point_values")

    family: ClassVar[str] = "alphafold"
    EXAMPLE = {"input": {"shape": [4, 8]},
               "layer": {"kind": "sequential", "name": "ipa", "layers": [
                   {"kind": "outer_sum", "name": "pair", "from": "input", "out": 6},
                   {"kind": "invariant_point_attention", "name": "att", "from": "input", "pair": "ipa.pair",
                    "heads": 2, "head_dim": 3, "qk_points": 2, "v_points": 2}]}}

    path_keys: ClassVar[tuple[str, ...]] = ("pair",)

    def _dims(self, x: Shape, ctx: Ctx):
        if len(x) != 2:
            raise ShapeError(f"invariant_point_attention takes the (r, c_s) single representation, got {tuple(x)}")
        z = _other(ctx, self.pair, "pair")
        if len(z) != 3 or z[0] != x[0] or z[1] != x[0]:
            raise ShapeError(f"pair '{self.pair}' must be ({x[0]}, {x[0]}, c_z), got {z}")
        return x[0], x[1], z[2]

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._dims(x, ctx)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """r residues, h heads, c scalar width, P_q query/key points, P_v value points:
        params = 3·c_s·h·c + c_s·h·3·(2·P_q + P_v) (all LinearNoBias) + c_z·h (pair bias) + h
        (head weights) + h·(c_z + c + 4·P_v)·c_s + c_s (output Linear);
        FLOPs = 2·r·c_s·h·(3·c + 3·(2·P_q + P_v)) (projections) + 2·r²·c_z·h (pair bias) +
        2·h·r²·c (scalar scores) + 2·h·r²·c (scalar values) + 2·h·r²·3·P_v (point values) +
        2·h·r²·c_z (pair values) + 2·r·h·(c_z + c + 4·P_v)·c_s (output); the point distances
        are elementwise: other = 3·h·r²·3·P_q (subtract, square, sum) + softmax and scaling
        5·h·r², the point norms 3·r·h·3·P_v."""
        r, cs, cz = self._dims(x, ctx)
        h, c, pq, pv = self.heads, self.head_dim, self.qk_points, self.v_points
        cat = h * (cz + c + 4 * pv)
        params = {"q.weight": Param((h * c, cs), "dense"), "k.weight": Param((h * c, cs), "dense"),
                  "v.weight": Param((h * c, cs), "dense"),
                  "q_points.weight": Param((h * pq * 3, cs), "dense"),
                  "k_points.weight": Param((h * pq * 3, cs), "dense"),
                  "v_points.weight": Param((h * pv * 3, cs), "dense"),
                  "b.weight": Param((h, cz), "dense"), "head_weights": Param((h,), "dense"),
                  "o.weight": Param((cs, cat), "dense"), "o.bias": Param((cs,), "dense")}
        rr = r * r
        flops = (2 * r * cs * h * (3 * c + 3 * (2 * pq + pv)) + 2 * rr * cz * h + 2 * h * rr * c
                 + 2 * h * rr * c + 2 * h * rr * 3 * pv + 2 * h * rr * cz + 2 * r * cat * cs)
        other = 3 * h * rr * 3 * pq + 5 * h * rr + 3 * r * h * 3 * pv + costs.BIAS * r * cs
        return Formula(params, flops=flops, other=other)

    def build(self, x: Shape, ctx: Ctx):
        _, cs, cz = self._dims(x, ctx)
        return _modules()[3](cs, cz, self.heads, self.head_dim, self.qk_points, self.v_points, self.pair,
                             x[0])


@register
class PointwiseAttention(LayerSpec):
    """Template pointwise attention (Alg. 17): each position of x (*P, c) (the pair
    representation) is a query over its own K entries of ``memory`` (K, *P, c_m) (the K
    embedded templates at that position): q = LinearNoBias(x), k, v = LinearNoBias(t),
    y = Linear(softmax(q·k / sqrt(e)) v). Output shape = input shape."""

    kind: Literal["pointwise_attention"] = "pointwise_attention"
    memory: str = Field(..., description="path of the (K, *P, c_m) entries each position attends over")
    heads: Size = Field(..., description="attention heads h")
    head_dim: Size = Field(..., description="per-head width e")

    family: ClassVar[str] = "alphafold"
    EXAMPLE = {"input": {"shape": [2, 2, 4]},
               "layer": {"kind": "sequential", "name": "tp", "layers": [
                   {"kind": "select", "name": "query", "from": "input"},
                   {"kind": "pointwise_attention", "name": "att", "memory": "input",
                    "heads": 2, "head_dim": 2}]}}

    path_keys: ClassVar[tuple[str, ...]] = ("memory",)

    def _dims(self, x: Shape, ctx: Ctx):
        t = _other(ctx, self.memory, "memory")
        if len(t) != len(x) + 1 or tuple(t[1:-1]) != tuple(x[:-1]):
            raise ShapeError(f"memory '{self.memory}' must be (K, {', '.join(map(str, x[:-1]))}, c), got {t}")
        return numel(x[:-1]), x[-1], t[0], t[-1]

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._dims(x, ctx)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """P positions, K entries each: params = c·h·e (q) + 2·c_m·h·e (k, v) + h·e·c + c;
        FLOPs = 2·P·c·h·e + 2·2·K·P·c_m·h·e + 2·2·P·h·K·e (scores, values) + 2·P·h·e·c;
        other = softmax and scale 4·P·h·K + the output bias P·c."""
        p, c, k, cm = self._dims(x, ctx)
        he = self.heads * self.head_dim
        params = {"q.weight": Param((he, c), "dense"), "k.weight": Param((he, cm), "dense"),
                  "v.weight": Param((he, cm), "dense"), "o.weight": Param((c, he), "dense"),
                  "o.bias": Param((c,), "dense")}
        flops = 2 * p * c * he + 2 * 2 * k * p * cm * he + 2 * 2 * p * k * he + 2 * p * he * c
        return Formula(params, flops=flops, other=(costs.SOFTMAX + 1) * p * self.heads * k + costs.BIAS * p * c)

    def build(self, x: Shape, ctx: Ctx):
        p, c, k, cm = self._dims(x, ctx)
        return _modules()[4](c, cm, self.heads, self.head_dim, self.memory, p, k, tuple(x))


@register
class OuterSum(LayerSpec):
    """The input embedder's pair initialisation (Alg. 3, lines 2-3): per-residue features
    (r, f) -> (r, r, out) with z_ij = Linear_a(x_i) + Linear_b(x_j)."""

    kind: Literal["outer_sum"] = "outer_sum"
    out: Size = Field(..., description="pair width c_z")

    family: ClassVar[str] = "alphafold"
    EXAMPLE = {"input": {"shape": [4, 3]}, "layer": {"kind": "outer_sum", "out": 5}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if len(x) != 2:
            raise ShapeError(f"outer_sum takes (r, f) per-residue features, got {tuple(x)}")
        return (x[0], x[0], self.out)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = 2·(f·out + out); FLOPs = 2·2·r·f·out; other = r²·out (the outer sum) +
        2·r·out biases."""
        self.output_shape(x, ctx)
        r, f = x
        params = {"a.weight": Param((self.out, f), "dense"), "a.bias": Param((self.out,), "dense"),
                  "b.weight": Param((self.out, f), "dense"), "b.bias": Param((self.out,), "dense")}
        return Formula(params, flops=2 * 2 * r * f * self.out, other=r * r * self.out + 2 * r * self.out)

    def build(self, x: Shape, ctx: Ctx):
        self.output_shape(x, ctx)
        return _modules()[5](x[1], self.out)


@register
class BroadcastAdd(LayerSpec):
    """x + y, with y (at ``other``) broadcast over x's leading dims: y's shape is x's last
    dims (the embedded target features added to every MSA row, Alg. 3 line 5). No
    parameters, no FLOPs; other = numel(x) adds."""

    kind: Literal["broadcast_add"] = "broadcast_add"
    other: str = Field(..., description="path of the tensor to add (x's trailing shape)")

    family: ClassVar[str] = "alphafold"
    EXAMPLE = {"input": {"shape": [3, 4, 5]},
               "layer": {"kind": "sequential", "name": "ba", "layers": [
                   {"kind": "select", "name": "row", "from": "input"},
                   {"kind": "broadcast_add", "name": "plus", "from": "input", "other": "ba.row"}]}}

    path_keys: ClassVar[tuple[str, ...]] = ("other",)

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        y = _other(ctx, self.other, "other")
        if len(y) > len(x) or tuple(x[len(x) - len(y):]) != y:
            raise ShapeError(f"other '{self.other}' {y} is not the trailing shape of {tuple(x)}")
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """params = 0; FLOPs = 0; other = numel(x)."""
        self.output_shape(x, ctx)
        return Formula({}, other=numel(x))

    def build(self, x: Shape, ctx: Ctx):
        self.output_shape(x, ctx)
        return _modules()[6](self.other)
