"""Conditioning a feature map on a vector: the vector (a diffusion model's timestep
embedding) projected to the map's channels and added at every position (Ho, Jain & Abbeel
2020, "Denoising Diffusion Probabilistic Models", NeurIPS, Appendix B: "the diffusion time t
is specified by adding the Transformer sinusoidal position embedding into each residual
block"; the ResnetBlock of Rombach et al. 2022's latent-diffusion U-Net: h = conv1(...) +
Linear(SiLU(t_emb))[:, :, None, None])."""
import functools
from typing import ClassVar, Literal, Optional

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, numel, register

_ACT = {"silu": "SiLU", "relu": "ReLU", "none": "Identity"}


@functools.cache
def _module():
    from torch import nn

    class CondBias(nn.Module):
        """x + proj(act(env[cond])) broadcast over x's spatial dims: (B, C, ...) and (B, d)."""

        needs_env = True

        def __init__(self, cond, d, channels, act, spatial):
            super().__init__()
            self.cond, self.spatial = cond, spatial
            self.act = getattr(nn, act)()
            self.proj = nn.Linear(d, channels)

        def forward(self, x, env):
            c = self.proj(self.act(env[self.cond]))
            return x + c.reshape(c.shape + (1,) * self.spatial)

    return CondBias


@register
class CondBias(LayerSpec):
    """A per-channel bias computed from a conditioning vector: y = x + W act(c) + b, the same
    C values added at every position of x (C, *spatial); ``cond`` is the path of c (d,).

    The timestep injection of a diffusion U-Net's residual block (DDPM; Stable Diffusion's
    time_emb_proj). Output shape = input shape."""

    kind: Literal["cond_bias"] = "cond_bias"
    cond: str = Field(..., description="path (or input) of the conditioning vector (d,)")
    activation: Literal["silu", "relu", "none"] = Field("silu", description="applied to the vector before the projection")

    family: ClassVar[str] = "conditioning"
    EXAMPLE = {"input": {"image": [4, 3, 3]},
               "layer": {"kind": "sequential", "name": "blk", "layers": [
                   {"kind": "sequential", "name": "t", "layers": ["flatten", {"kind": "linear", "out": 5}]},
                   {"kind": "cond_bias", "name": "add_t", "from": "input", "cond": "blk.t"}]}}

    path_keys: ClassVar[tuple[str, ...]] = ("cond",)

    def _d(self, x: Shape, ctx: Ctx) -> int:
        c = ctx.env.get(self.cond)
        if c is None:
            raise ShapeError(f"cond '{self.cond}' is not an earlier layer or input")
        if len(x) < 2:
            raise ShapeError(f"cond_bias takes a (C, *spatial) map, got {tuple(x)}")
        return numel(c) if len(c) == 1 else _bad(c, self.cond)

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._d(x, ctx)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """With c of width d and x of C channels and N = numel(x) elements: params = d·C + C;
        FLOPs = 2·d·C (the projection, once per example); other = d (the activation) + C (the
        projection's bias) + N (the broadcast add)."""
        d, ch = self._d(x, ctx), x[0]
        params = {"proj.weight": Param((ch, d), "dense"), "proj.bias": Param((ch,), "dense")}
        act = costs.ACTIVATION * d if self.activation != "none" else 0
        return Formula(params, flops=2 * d * ch, other=act + costs.BIAS * ch + costs.RESIDUAL * numel(x))

    def build(self, x: Shape, ctx: Ctx):
        d = self._d(x, ctx)
        return _module()(self.cond, d, x[0], _ACT[self.activation], len(x) - 1)


def _bad(c: Shape, path: str) -> int:
    raise ShapeError(f"cond '{path}' must be a (d,) vector, got {tuple(c)}")
