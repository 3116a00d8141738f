"""Counters of real graphs, and the cross-check between them and the analytic engine.

* ``torch_build``  - spec -> ``nn.Module`` (parameter names = spec layer paths);
* ``torch_count``  - ``count(model)``: PyTorch's dispatch-level counter on meta/fake tensors,
  MoE active sets; ``torch_ops`` holds its per-operator formulas;
* ``onnx_export``, ``onnx_count`` - spec -> ONNX graph run in onnxruntime; any ONNX graph counted;
* ``fvcore_count`` - fvcore's tracer as an independent witness;
* ``crosscheck``   - one spec counted by every witness, compared row by row.

Everything here may import torch/onnx/fvcore, always lazily: the analytic engine never
imports this package.
"""
