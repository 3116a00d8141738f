"""The analytic engine on constructs the archspecs do not all exercise: sharing (ALBERT),
multi-query attention, head_dim overrides, 'same' padding, dilation, depthwise convolution,
sum joins, `from:`, per-token figures and the JSON record. Hand arithmetic in comments; the
torch build is checked against each where torch is installed."""
from __future__ import annotations

import pytest

from estimator.analytic import analyze, load_spec
from estimator.errors import SpecError


def spec(layers, input=None, **extra):
    return load_spec({"name": "t", "input": input or {"shape": [8, 16]}, "layers": layers, **extra})


def torch_agrees(s, r):
    pytest.importorskip("torch")
    from torchcheck import assert_spec_matches_torch

    assert_spec_matches_torch(s, r)


def test_albert_style_shared_blocks_count_weights_once():
    block = {"kind": "sequential", "name": "blocks", "repeat": 4, "shared": True,
             "layers": [{"kind": "linear", "out": 16}, "relu"]}
    s = spec([block])
    r = analyze(s)
    # one linear 16*16 + 16 = 272 parameters, used 4 times: FLOPs 4 * 2*8*16*16 = 16384
    assert r.params == 272
    assert r.forward_flops == 16_384
    assert r.layer("blocks.1").count.params == 0
    assert r.layer("blocks.1").note == "weights shared with blocks.0"
    torch_agrees(s, r)


def test_share_reuses_weights_of_another_path():
    s = spec([{"kind": "linear", "name": "a", "out": 16},
              {"kind": "linear", "name": "b", "out": 16, "share": "a"}])
    r = analyze(s)
    # 272 parameters once, two matmuls: 2 * 2*8*16*16 = 8192
    assert (r.params, r.forward_flops) == (272, 8_192)
    torch_agrees(s, r)


def test_share_of_a_different_kind_is_refused():
    with pytest.raises(SpecError, match="cannot share weights of a linear with a mlp"):
        analyze(spec([{"kind": "linear", "name": "a", "out": 16},
                      {"kind": "mlp", "hidden": 16, "share": "a"}]))


def test_multi_query_attention():
    s = spec([{"kind": "attention", "heads": 4, "kv_heads": 1, "bias": False}])
    r = analyze(s)
    # d 16, h 4, e 4, one k/v head: q 16*16 + k 4*16 + v 4*16 + o 16*16 = 640
    # FLOPs q 2*8*16*16 = 4096, k, v 2*8*16*4 = 1024 each, o 4096, scores + values 2*(2*8*8*4*4) = 4096
    assert r.params == 640
    assert r.forward_flops == 4096 + 1024 + 1024 + 4096 + 4096
    torch_agrees(s, r)


def test_head_dim_override_and_causal_half():
    s = spec([{"kind": "attention", "heads": 2, "head_dim": 32, "bias": False, "causal": True}])
    r = analyze(s)
    # inner width 2*32 = 64: q, k, v 16*64 each + o 64*16 = 4096 params
    assert r.params == 4 * 16 * 64
    # scores + values 2 * 2*8*8*2*32 = 16384, halved under causal 'half'
    assert r.forward_flops - analyze(s, causal="half").forward_flops == 16_384 // 2
    torch_agrees(s, r)


def test_cross_attention_memory():
    s = load_spec({"name": "t", "inputs": {"x": {"shape": [4, 16]}, "mem": {"shape": [10, 8]}},
                   "layers": [{"kind": "attention", "heads": 2, "memory": "mem", "bias": False}]})
    r = analyze(s)
    # q 16*16, k and v 8*16 (memory width 8), o 16*16: 256 + 128 + 128 + 256 = 768
    # FLOPs: q 2*4*16*16 = 2048, k/v 2*10*8*16 = 2560 each, o 2048, scores+values 2*(2*4*10*16) = 2560
    assert r.params == 768
    assert r.forward_flops == 2048 + 2560 + 2560 + 2048 + 2560
    torch_agrees(s, r)


def test_conv_same_padding_dilation_depthwise():
    s = spec([{"kind": "conv2d", "out": 6, "kernel": 3, "padding": "same", "dilation": 2},
              {"kind": "conv2d", "kernel": 3, "padding": 1, "depthwise": True, "bias": False}],
             input={"image": [3, 10, 10]})
    r = analyze(s)
    # 'same' keeps 10x10; params 6*3*9 + 6 = 168; FLOPs 2*(6*100)*(3*9) = 32400
    # depthwise 6 groups: 6*1*9 = 54 params; FLOPs 2*(6*100)*9 = 10800
    assert r.layer("0").output_shape == (6, 10, 10)
    assert (r.params, r.forward_flops) == (168 + 54, 32_400 + 10_800)
    torch_agrees(s, r)


def test_parallel_sum_and_from():
    s = load_spec({"name": "t", "inputs": {"a": {"vector": 8}, "b": {"vector": 4}},
                   "layers": [{"kind": "linear", "name": "pa", "out": 6},
                              {"kind": "linear", "name": "pb", "out": 6, "from": "b"},
                              {"kind": "parallel", "join": "sum", "from": "pa",
                               "branches": [[{"kind": "linear", "out": 3}], [{"kind": "linear", "out": 3}]]}]})
    r = analyze(s)
    # pa 8*6+6 = 54, pb 4*6+6 = 30, branches 2 * (6*3+3) = 42 -> 126
    # FLOPs 2*48 + 2*24 + 2*2*18 = 216
    assert (r.params, r.forward_flops, r.output_shape) == (126, 216, (3,))
    torch_agrees(s, r)


def test_embedding_needs_ids_and_ids_need_embedding():
    with pytest.raises(SpecError, match="needs token ids"):
        analyze(spec([{"kind": "embedding", "vocab": 10, "dim": 4}]))
    with pytest.raises(SpecError, match="gets integer token ids"):
        analyze(load_spec({"name": "t", "input": {"tokens": 4}, "layers": [{"kind": "linear", "out": 3}]}))


def test_per_token_and_json_record():
    s = load_spec({"name": "t", "input": {"tokens": 8},
                   "layers": [{"kind": "embedding", "vocab": 100, "dim": 16},
                              {"kind": "linear", "out": 100, "bias": False}]})
    r = analyze(s)
    # 2*8*16*100 = 25600 FLOPs over 8 tokens = 3200 per token; params 1600 + 1600
    assert r.per_token() == {"forward_flops": 3200.0, "macs": 1600.0, "other_flops": 0.0}
    d = r.to_dict()
    assert d["params"] == 3200 and d["embedding_params"] == 1600
    assert d["params_by_type"] == {"dense": 1600, "embedding": 1600}
    assert d["flops_per_param"] == 25600 / 3200
    assert [row["path"] for row in d["layers"]] == ["0", "1"]


def test_moe_active_params_and_flops():
    s = spec([{"kind": "moe", "experts": 8, "top_k": 2, "hidden": 32, "gated": False,
               "activation": "relu"}])
    r = analyze(s)
    # router 16*8 = 128; each expert up 16*32 + down 32*16 = 1024 -> 8192 total, 2048 active
    assert (r.params, r.active_params) == (128 + 8192, 128 + 2048)
    # per token 2*128 + 2*2048 = 4352, x 8 tokens = 34816
    assert r.forward_flops == 34_816
    assert r.params_by_type == {"dense": 128, "expert": 8192}  # the router is typed dense
    torch_agrees(s, r)


@pytest.mark.parametrize("kind", ["batchnorm", "groupnorm, groups: 2"])
def test_affine_batch_and_group_norm_refuse_bias_false(kind):
    # PyTorch's affine BatchNorm and GroupNorm always learn a shift: bias: false is refused
    # with one line at the layer; layernorm may drop it (scale only: its last dim, 3)
    from estimator.analytic import load_spec_text

    text = f"name: T\ninput: {{image: [4, 3, 3]}}\nlayers:\n  - {{kind: {kind}, bias: false}}\n"
    with pytest.raises(SpecError) as err:
        analyze(load_spec_text(text, "t.yaml"))
    name = kind.split(",")[0]
    assert str(err.value) == (f"t.yaml:4: layers[0]: {name} always has a shift when affine "
                              "(PyTorch): drop 'bias: false'")
    ok = text.replace(kind, "layernorm")
    assert analyze(load_spec_text(ok, "t.yaml")).params == 3   # the last dim, 3: scale only
    # without affine there is no shift to drop: no parameters
    off = text.replace("bias: false", "affine: false, bias: false")
    assert analyze(load_spec_text(off, "t.yaml")).params == 0
