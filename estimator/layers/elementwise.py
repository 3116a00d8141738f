"""Per-element costs behind ``other_flops`` (estimates, kept apart from ``forward_flops``).

These follow the element-wise conventions of thop/ptflops (one FLOP per element for an
activation, three for softmax: exp, sum, divide) and count a normalisation as the few
passes it makes over its input. They are estimates: the torch/ONNX witnesses compare
``forward_flops`` only, where the count is exact.
"""
ACTIVATION = 1      # relu, gelu, silu, tanh, sigmoid, ...: one FLOP per output element
SOFTMAX = 3         # exp, sum, divide per element (thop's count_softmax)
BIAS = 1            # one add per output element
RESIDUAL = 1        # one add per element
GATE = 1            # the elementwise product of a gated unit (SwiGLU/GeGLU)
NORM = 5            # mean, subtract, square, mean, divide per element (LayerNorm/BatchNorm/GroupNorm)
RMSNORM = 3         # square, mean, divide per element
AFFINE = 2          # scale and shift per element (1 when there is no shift)
POS_ADD = 1         # adding a positional table
ROTARY = 3          # rotary embedding: two products and an add per rotated element
LRN = 6             # local response norm: square, window sum, scale, power, divide (approx.)
