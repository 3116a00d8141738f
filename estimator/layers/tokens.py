"""Image-transformer tokens: an image cut into embedded patches, a learned class token put in
front, and one token's output taken out (Dosovitskiy et al. 2020, "An Image is Worth 16x16
Words", section 3.1, Eq. 1 and 4). Learned positions are ``pos_embedding``."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, register


@functools.cache
def _modules():
    import torch
    from torch import nn

    class PatchEmbed(nn.Module):
        """(B, C, H, W) -> (B, N, d): patches flattened in (C, P, P) order, then one linear
        map (ViT's Eq. 1); a conv checkpoint's (d, C, P, P) kernel reshapes to this weight."""

        def __init__(self, c, h, w, dim, patch, bias):
            super().__init__()
            # the patch grid as constants (not sizes computed from x): ONNX shape inference
            # then knows every shape after the reshapes
            self.grid = (c, h // patch, patch, w // patch, patch)
            self.proj = nn.Linear(c * patch * patch, dim, bias=bias)

        def forward(self, x):
            c, gh, p, gw, _ = self.grid
            x = x.reshape(-1, c, gh, p, gw, p).permute(0, 2, 4, 1, 3, 5)
            return self.proj(x.reshape(-1, gh * gw, c * p * p))

    class ClassToken(nn.Module):
        """(B, T, d) -> (B, n + T, d): learned tokens put in front."""

        def __init__(self, n, dim):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(n, dim))

        def forward(self, x):
            # broadcast (B, 1, 1) zeros + (n, d) rather than expand(B, n, d): ONNX shape
            # inference follows the former, not the exporter's Expand pattern
            tokens = torch.zeros_like(x[:, :1, :1]) + self.weight
            return torch.cat([tokens, x], dim=1)

    class SelectToken(nn.Module):
        """(B, T, d) -> (B, d): the output at one position."""

        def __init__(self, index):
            super().__init__()
            self.index = index

        def forward(self, x):
            return x[:, self.index]

    return PatchEmbed, ClassToken, SelectToken


def _seq(x: Shape, kind: str) -> None:
    if len(x) != 2:
        raise ShapeError(f"{kind} takes a (T, d) sequence, got {tuple(x)}")


@register
class PatchEmbed(LayerSpec):
    """Patch embedding: the image cut into P x P patches, each flattened and projected to
    ``dim`` (x_p E in ViT's Eq. 1): (C, H, W) -> (H/P · W/P, dim). The same map as a
    convolution with kernel = stride = P (torchvision's conv_proj, CLIP's conv1), written
    as the linear map of Eq. 1: weight (dim, C·P·P)."""

    kind: Literal["patch_embed"] = "patch_embed"
    dim: Size = Field(..., description="embedding width d")
    patch: Size = Field(..., description="patch side P (16 for ViT-B/16)")
    bias: bool = Field(True, description="bias on the projection (CLIP has none)")

    family: ClassVar[str] = "tokens"
    EXAMPLE = {"input": {"image": [3, 8, 8]}, "layer": {"kind": "patch_embed", "dim": 6, "patch": 4}}

    def _n(self, x: Shape) -> int:
        if len(x) != 3:
            raise ShapeError(f"patch_embed takes a (C, H, W) image, got {tuple(x)}")
        _, h, w = x
        if h % self.patch or w % self.patch:
            raise ShapeError(f"patch {self.patch} does not divide the image {h} x {w}")
        return (h // self.patch) * (w // self.patch)

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        return (self._n(x), self.dim)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """N = (H/P)(W/P) patches; params = d·C·P² (+ d); FLOPs = 2·N·d·C·P² (one
        multiply-add per weight per patch); other = N·d bias adds."""
        n, c, p = self._n(x), x[0], self.patch
        params = {"proj.weight": Param((self.dim, c * p * p), "dense")}
        if self.bias:
            params["proj.bias"] = Param((self.dim,), "dense")
        return Formula(params, flops=2 * n * self.dim * c * p * p,
                       other=costs.BIAS * n * self.dim if self.bias else 0)

    def build(self, x: Shape, ctx: Ctx):
        self._n(x)
        return _modules()[0](*x, self.dim, self.patch, self.bias)


@register
class ClassToken(LayerSpec):
    """Learned class token(s) put in front of a sequence (ViT's x_class, BERT's [CLS]):
    (T, d) -> (T + n, d); n·d parameters, no FLOPs."""

    kind: Literal["class_token"] = "class_token"
    tokens: Size = Field(1, description="how many learned tokens (DeiT adds a second, distillation token)")

    family: ClassVar[str] = "tokens"
    EXAMPLE = {"input": {"shape": [4, 6]}, "layer": {"kind": "class_token"}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        _seq(x, self.kind)
        return (x[0] + self.tokens, x[1])

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        _seq(x, self.kind)
        return Formula({"weight": Param((self.tokens, x[1]), "embedding")})

    def build(self, x: Shape, ctx: Ctx):
        _seq(x, self.kind)
        return _modules()[1](self.tokens, x[1])


@register
class SelectToken(LayerSpec):
    """The output at one position of a sequence: (T, d) -> (d,). ViT reads the class token
    (index 0, Eq. 4); CLIP's text tower reads the end-of-text token (the last of its
    sequence). A gather: no parameters, no FLOPs."""

    kind: Literal["select_token"] = "select_token"
    index: int = Field(0, description="position; negative counts from the end (-1 = last)")

    family: ClassVar[str] = "tokens"
    EXAMPLE = {"input": {"shape": [4, 6]}, "layer": {"kind": "select_token", "index": -1}}

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        _seq(x, self.kind)
        if not -x[0] <= self.index < x[0]:
            raise ShapeError(f"index {self.index} is outside a sequence of {x[0]}")
        return (x[1],)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        self.output_shape(x, ctx)
        return Formula()

    def build(self, x: Shape, ctx: Ctx):
        return _modules()[2](self.index)
