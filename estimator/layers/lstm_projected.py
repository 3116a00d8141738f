"""LSTM with a projected recurrent state (LSTMP): the cell state stays h wide while the output
and the recurrent input are projected to p (Sak, Senior & Beaufays 2014; ELMo's biLM)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from .recurrent import LSTM
from .registry import Ctx, Formula, Param, Shape, ShapeError, Size, register


@register
class LSTMP(LSTM):
    """Long short-term memory with a recurrent projection layer (Sak, Senior & Beaufays 2014,
    "Long Short-Term Memory Recurrent Neural Network Architectures for Large Scale Acoustic
    Modeling", Interspeech, eq. 1-7: r_t = W_rm m_t; PyTorch's nn.LSTM ``proj_size``).

    Per layer and direction with input width i, cell width h, projection p, T steps: params =
    4h·i + 4h·p (the recurrent weights act on the p-wide projected state) + p·h (the projection)
    (+ 2·4h biases, PyTorch's b_ih and b_hh); FLOPs = T · 2·(4h·(i + p) + p·h). Layers after the
    first take i = p x directions. Output (T, p x directions).
    """

    kind: Literal["lstmp"] = "lstmp"
    proj: Size = Field(..., description="projection width p (output and recurrent state)")
    EXAMPLE: ClassVar[dict] = {"input": {"shape": [5, 6]},
                               "layer": {"kind": "lstmp", "hidden": 8, "proj": 3, "layers": 2}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if len(x) != 2:
            raise ShapeError(f"lstmp takes a (T, features) sequence, got {tuple(x)}")
        if self.proj >= self.hidden:
            raise ShapeError(f"proj={self.proj} must be smaller than hidden={self.hidden} "
                             "(PyTorch's proj_size rule)")
        p = self.proj * (2 if self.bidirectional else 1)
        return (p,) if self.last else (x[0], p)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self.output_shape(x, ctx)
        t, i = x
        g, h, q = 4 * self.hidden, self.hidden, self.proj
        dirs = 2 if self.bidirectional else 1
        p, flops = {}, 0
        for layer in range(self.layers):
            width = i if layer == 0 else q * dirs
            for dr in range(dirs):
                sfx = f"l{layer}" + ("_reverse" if dr else "")
                p[f"rnn.weight_ih_{sfx}"] = Param((g, width), "recurrent")
                p[f"rnn.weight_hh_{sfx}"] = Param((g, q), "recurrent")
                if self.bias:
                    p[f"rnn.bias_ih_{sfx}"] = Param((g,), "recurrent")
                    p[f"rnn.bias_hh_{sfx}"] = Param((g,), "recurrent")
                p[f"rnn.weight_hr_{sfx}"] = Param((q, h), "recurrent")
                flops += 2 * t * (g * (width + q) + q * h)
        other = self.layers * dirs * t * (h * self.gate_cost + (2 * g if self.bias else 0))
        return Formula(p, flops=flops, other=other)

    def extra_kwargs(self) -> dict:
        return {"proj_size": self.proj}
