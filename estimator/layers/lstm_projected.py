"""LSTM with a projected recurrent state (LSTMP): the cell state stays h wide while the output
and the recurrent input are projected to p (Sak, Senior & Beaufays 2014; ELMo's biLM)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from .recurrent import LSTM
from .registry import Ctx, Formula, Shape, ShapeError, Size, normal_weights, register


@functools.cache
def _module():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Weights(nn.Module):
        """The tensors under PyTorch's nn.LSTM names (weight_ih_l0, weight_hr_l0_reverse, ...)."""

    class ProjectedLSTM(nn.Module):
        """nn.LSTM(proj_size=p)'s computation written out step by step, so that every exporter
        sees plain matrix products (ONNX's LSTM operator has no projection): at each step
        gates = W_ih x_t + b_ih + W_hh r_{t-1} + b_hh, c_t = f c_{t-1} + i g, r_t = W_hr (o tanh c_t)."""

        def __init__(self, i, h, p, layers, bidirectional, bias, last):
            super().__init__()
            self.h, self.p, self.layers, self.last = h, p, layers, last
            self.dirs = 2 if bidirectional else 1
            self.rnn = Weights()
            for layer in range(layers):
                width = i if layer == 0 else p * self.dirs
                for dr in range(self.dirs):
                    sfx = f"l{layer}" + ("_reverse" if dr else "")
                    for name, shape in ((f"weight_ih_{sfx}", (4 * h, width)), (f"weight_hh_{sfx}", (4 * h, p)),
                                        *(((f"bias_ih_{sfx}", (4 * h,)), (f"bias_hh_{sfx}", (4 * h,))) if bias else ()),
                                        (f"weight_hr_{sfx}", (p, h))):
                        setattr(self.rnn, name, nn.Parameter(normal_weights(shape, std=h ** -0.5)))

        def _run(self, x, sfx, reverse):
            w = {k: getattr(self.rnn, f"{k}_{sfx}", None) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")}
            b, t = x.shape[0], x.shape[1]
            r = x.new_zeros(b, self.p)
            c = x.new_zeros(b, self.h)
            out = [None] * t
            for step in (range(t - 1, -1, -1) if reverse else range(t)):
                # F.linear, not x @ W.t(): an exporter folds no transposed copy of W per step
                gates = F.linear(x[:, step], w["weight_ih"], w["bias_ih"]) + \
                    F.linear(r, w["weight_hh"], w["bias_hh"])
                i, f, g, o = gates.chunk(4, dim=-1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                r = F.linear(torch.sigmoid(o) * torch.tanh(c), w["weight_hr"])
                out[step] = r
            return torch.stack(out, dim=1)

        def forward(self, x):
            for layer in range(self.layers):
                runs = [self._run(x, f"l{layer}" + ("_reverse" if dr else ""), dr == 1)
                        for dr in range(self.dirs)]
                x = torch.cat(runs, dim=-1) if self.dirs > 1 else runs[0]
            return x[:, -1] if self.last else x

    return ProjectedLSTM


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
        return self.stacked(x, self.proj, proj=True)

    def build(self, x: Shape, ctx: Ctx):
        return _module()(x[1], self.hidden, self.proj, self.layers, self.bidirectional, self.bias,
                         self.last)
