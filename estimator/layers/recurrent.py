"""Recurrent layers: RNN, LSTM, GRU (stacked, optionally bidirectional), counted per time step."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, register


@functools.cache
def _module():
    from torch import nn

    class Recurrent(nn.Module):
        """Wraps nn.RNN/LSTM/GRU (batch_first); returns the output sequence or the last step.
        Parameters are registered on the wrapper itself so their names match the spec."""

        def __init__(self, cls, last, **kw):
            super().__init__()
            self.rnn = cls(batch_first=True, **kw)
            self.last = last

        def forward(self, x):
            y = self.rnn(x)[0]
            return y[:, -1] if self.last else y

    return Recurrent


class _Recurrent(LayerSpec):
    hidden: Size = Field(..., description="hidden size h")
    layers: Size = Field(1, description="stacked layers")
    bidirectional: bool = Field(False, description="run forwards and backwards, concatenating outputs")
    bias: bool = Field(True, description="input and hidden biases (PyTorch has both)")
    last: bool = Field(False, description="output only the last time step (T, h) -> (h,)")

    family: ClassVar[str] = "recurrent"
    gates: ClassVar[int] = 1
    torch_name: ClassVar[str] = ""
    gate_cost: ClassVar[int] = 1  # elementwise FLOPs per hidden unit per step besides matmuls

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        if len(x) != 2:
            raise ShapeError(f"{self.kind} takes a (T, features) sequence, got {tuple(x)}")
        h = self.hidden * (2 if self.bidirectional else 1)
        return (h,) if self.last else (x[0], h)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """Per layer and direction with g gates, input width i, hidden h, T steps:
        params = g·h·i + g·h·h (+ 2·g·h biases, PyTorch's b_ih and b_hh);
        FLOPs = T · 2·g·h·(i + h) (input and recurrent matmuls at every step).
        g = 4 for LSTM (Hochreiter & Schmidhuber 1997), 3 for GRU (Cho et al. 2014), 1 for RNN.
        Layers after the first take i = h x directions."""
        self.output_shape(x, ctx)
        return self.stacked(x, self.hidden)

    def stacked(self, x: Shape, state: int, proj: bool = False) -> Formula:
        """The stack's tensors under PyTorch's names and its FLOPs, for a recurrent state
        ``state`` wide (the hidden size h, or the projection p of an LSTMP, whose extra
        p x h ``weight_hr`` adds 2·T·p·h FLOPs per layer and direction)."""
        t, i = x
        g, h = self.gates * self.hidden, self.hidden
        dirs = 2 if self.bidirectional else 1
        p, flops = {}, 0
        for layer in range(self.layers):
            width = i if layer == 0 else state * dirs
            for dr in range(dirs):
                sfx = f"l{layer}" + ("_reverse" if dr else "")
                p[f"rnn.weight_ih_{sfx}"] = Param((g, width), "recurrent")
                p[f"rnn.weight_hh_{sfx}"] = Param((g, state), "recurrent")
                if self.bias:
                    p[f"rnn.bias_ih_{sfx}"] = Param((g,), "recurrent")
                    p[f"rnn.bias_hh_{sfx}"] = Param((g,), "recurrent")
                flops += 2 * t * g * (width + state)
                if proj:
                    p[f"rnn.weight_hr_{sfx}"] = Param((state, h), "recurrent")
                    flops += 2 * t * state * h
        other = self.layers * dirs * t * (h * self.gate_cost + (2 * g if self.bias else 0))
        return Formula(p, flops=flops, other=other)

    def build(self, x: Shape, ctx: Ctx):
        from torch import nn

        return _module()(getattr(nn, self.torch_name), self.last, input_size=x[1],
                         hidden_size=self.hidden, num_layers=self.layers,
                         bidirectional=self.bidirectional, bias=self.bias, **self.extra_kwargs())

    def extra_kwargs(self) -> dict:
        return {}


@register
class RNN(_Recurrent):
    """Elman RNN: h_t = act(W_ih x_t + W_hh h_{t-1} + b). One gate."""

    kind: Literal["rnn"] = "rnn"
    nonlinearity: Literal["tanh", "relu"] = Field("tanh", description="tanh or relu")
    torch_name: ClassVar[str] = "RNN"
    EXAMPLE = {"input": {"shape": [5, 6]}, "layer": {"kind": "rnn", "hidden": 8, "layers": 2}}

    def extra_kwargs(self) -> dict:
        return {"nonlinearity": self.nonlinearity}


@register
class LSTM(_Recurrent):
    """Long short-term memory: four gates (input, forget, cell, output)."""

    kind: Literal["lstm"] = "lstm"
    gates: ClassVar[int] = 4
    gate_cost: ClassVar[int] = 4 * costs.ACTIVATION + 3  # 4 activations + tanh(c) + 3 products/adds
    torch_name: ClassVar[str] = "LSTM"
    EXAMPLE = {"input": {"shape": [5, 6]}, "layer": {"kind": "lstm", "hidden": 8, "layers": 2, "bidirectional": True}}


@register
class GRU(_Recurrent):
    """Gated recurrent unit: three gates (reset, update, new)."""

    kind: Literal["gru"] = "gru"
    gates: ClassVar[int] = 3
    gate_cost: ClassVar[int] = 3 * costs.ACTIVATION + 4
    torch_name: ClassVar[str] = "GRU"
    EXAMPLE = {"input": {"shape": [5, 6]}, "layer": {"kind": "gru", "hidden": 8}}
