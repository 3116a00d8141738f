"""The structural cross-check shared by the layer-kind and archspec tests."""
from __future__ import annotations


def analytic_tensor_names(spec) -> set[str]:
    """``<leaf path>.<tensor>`` for every tensor the formulas own (tied/shared ones excluded)."""
    from estimator.analytic import walk

    w = walk(spec)
    return {f"{path}.{t}" for path, leaf in w.leaves.items() for t in leaf.formula.params
            if (path, t) not in w.alias}


def assert_spec_matches_torch(spec, result) -> None:
    """On the meta device the built module has exactly the analytic tensors (same names, same
    sizes), the analytic forward FLOPs by PyTorch's dispatch-level counter, and the declared
    output shape."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from estimator.graphs.torch_build import build_module, example_inputs

    module = build_module(spec, "meta")
    assert {n for n, _ in module.named_parameters()} == analytic_tensor_names(spec)
    assert sum(p.numel() for p in module.parameters()) == result.params
    # the forward under no_grad, as the torch witness counts it (estimator/graphs/
    # torch_count.py): with autograd on, FlopCounterMode's module tracker hooks every tensor
    # each module receives for the backward (AlphaFold 2: 753,466 hooks, 21 s of 22)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        y = module(*example_inputs(spec, "meta"))
    assert fc.get_total_flops() == result.forward_flops
    assert tuple(y.shape[1:]) == result.output_shape
