"""Squeeze-and-excitation: a channel gate computed from the globally pooled input
(Hu, Shen & Sun 2018, "Squeeze-and-Excitation Networks", section 3 and Figure 1; as used in
the MBConv blocks of MobileNetV3 and EfficientNet)."""
import functools
from typing import ClassVar, Literal

from pydantic import Field

from . import elementwise as costs
from .registry import Ctx, Formula, LayerSpec, Param, Shape, ShapeError, Size, numel, register

_ACT = {"relu": "ReLU", "silu": "SiLU"}
_GATE = {"sigmoid": "Sigmoid", "hardsigmoid": "Hardsigmoid"}


@functools.cache
def _module():
    from torch import nn

    class SqueezeExcite(nn.Module):
        """x * gate(fc2(act(fc1(mean_hw(x))))), fc1/fc2 as 1 x 1 convolutions (torchvision's
        SqueezeExcitation layout, so its checkpoints' tensor names match)."""

        def __init__(self, channels, squeeze, act, gate):
            super().__init__()
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Conv2d(channels, squeeze, 1)
            self.fc2 = nn.Conv2d(squeeze, channels, 1)
            self.activation = getattr(nn, act)()
            self.scale_activation = getattr(nn, gate)()

        def forward(self, x):
            s = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
            return s * x

    return SqueezeExcite


@register
class SqueezeExcite(LayerSpec):
    """Squeeze-and-excitation (Hu et al. 2018): pool to C, squeeze to ``squeeze`` channels,
    expand back to C, gate, rescale the input's channels. Output shape = input shape.

    EfficientNet and torchvision's MBConv squeeze to a quarter of the *block's* input width
    (not the expanded width): write ``squeeze`` explicitly."""

    kind: Literal["squeeze_excite"] = "squeeze_excite"
    squeeze: Size = Field(..., description="channels of the bottleneck (SENet: C / 16)")
    activation: Literal["relu", "silu"] = Field("relu", description="between the two 1 x 1 layers: relu (SENet) or silu (EfficientNet)")
    gate: Literal["sigmoid", "hardsigmoid"] = Field("sigmoid", description="the gate: sigmoid (SENet, EfficientNet) or hardsigmoid (MobileNetV3)")

    family: ClassVar[str] = "squeeze_excite"
    EXAMPLE = {"input": {"image": [8, 5, 5]},
               "layer": {"kind": "squeeze_excite", "squeeze": 2, "activation": "silu"}}

    def _check(self, x: Shape) -> None:
        if len(x) != 3:
            raise ShapeError(f"squeeze_excite takes a (C, H, W) map, got {tuple(x)}")

    def output_shape(self, x: Shape, ctx: Ctx) -> Shape:
        self._check(x)
        return tuple(x)

    def formula(self, x: Shape, ctx: Ctx) -> Formula:
        """With C channels, s = squeeze, H x W positions (Hu et al. 2018, Eq. 2-4):
        params = C·s + s (fc1) + s·C + C (fc2);
        FLOPs = 2·C·s + 2·s·C (the two 1 x 1 layers act on the pooled 1 x 1 map);
        other = C·H·W (pool) + s + C (biases) + s (activation) + C (gate) + C·H·W (rescale)."""
        self._check(x)
        c, s = x[0], self.squeeze
        params = {"fc1.weight": Param((s, c, 1, 1), "conv"), "fc1.bias": Param((s,), "conv"),
                  "fc2.weight": Param((c, s, 1, 1), "conv"), "fc2.bias": Param((c,), "conv")}
        other = (numel(x) + costs.BIAS * (s + c) + costs.ACTIVATION * (s + c)
                 + costs.GATE * numel(x))
        return Formula(params, flops=2 * c * s + 2 * s * c, other=other)

    def build(self, x: Shape, ctx: Ctx):
        self._check(x)
        return _module()(x[0], self.squeeze, _ACT[self.activation], _GATE[self.gate])
