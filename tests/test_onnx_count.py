"""count_onnx on graphs built by hand with onnx.helper: exact counts from hand arithmetic.

None of these graphs comes from this project's exporter, so they test the ONNX counter on
its own: initializers -> parameters, shape-inferred graph -> FLOPs (2 per multiply-add).
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from estimator import count  # noqa: E402
from estimator.errors import InputError, ModelError  # noqa: E402
from estimator.graphs.onnx_count import count_onnx  # noqa: E402

pytestmark = pytest.mark.onnx

F = TensorProto.FLOAT


def _init(name, shape, dtype=np.float32, value=None):
    arr = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) if value is None else \
        np.asarray(value, dtype=dtype)
    return numpy_helper.from_array(arr, name)


def _save(tmp_path, nodes, inputs, outputs, inits, name="m.onnx", opset=17, extra_opsets=()):
    graph = helper.make_graph(nodes, "hand", inputs, outputs, initializer=inits)
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v)
                                                 for d, v in extra_opsets]
    model = helper.make_model(graph, opset_imports=opsets)
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def _mlp(tmp_path, **kw):
    """X[batch, 4] -> Gemm(W1[8,4]^T, b1[8]) -> Relu -> Reshape(shape) -> MatMul(W2[8,3])
    -> Add(b2[3]) -> Mul(scale) -> Y[batch, 3]."""
    nodes = [
        helper.make_node("Gemm", ["X", "W1", "b1"], ["h"], transB=1, name="/fc1/Gemm"),
        helper.make_node("Relu", ["h"], ["r"], name="/act/Relu"),
        helper.make_node("Reshape", ["r", "shape"], ["r2"], name="/Reshape"),
        helper.make_node("MatMul", ["r2", "W2"], ["m"], name="/fc2/MatMul"),
        helper.make_node("Add", ["m", "b2"], ["a"], name="/fc2/Add"),
        helper.make_node("Mul", ["a", "scale"], ["Y"], name="/Mul"),
    ]
    inits = [_init("W1", (8, 4)), _init("b1", (8,)), _init("W2", (8, 3)), _init("b2", (3,)),
             _init("shape", (2,), np.int64, [-1, 8]), _init("scale", (), value=0.5)]
    return _save(tmp_path, nodes, [helper.make_tensor_value_info("X", F, ["batch", 4])],
                 [helper.make_tensor_value_info("Y", F, ["batch", 3])], inits, **kw)


def test_mlp_counts_by_hand(tmp_path):
    path = _mlp(tmp_path)
    r = count_onnx(path, {"X": (2, 4)})
    # params: W1 8*4=32 + b1 8 + W2 8*3=24 + b2 3 = 67; the int64 shape tensor and the
    # scalar 0.5 are constants, not parameters
    assert r.params == 67
    assert r.active_params == 67
    # Gemm: 2 * M*N*K = 2*2*8*4 = 128; MatMul: 2 * numel(Y)=2*3 * K=8 -> 96; total 224
    assert r.forward_flops == 224
    assert r.macs == 112
    # other: Gemm bias 2*8=16, Relu 16, Add 6, Mul 6 -> 44
    assert r.other_flops == 44
    assert r.source == "onnx"
    assert r.input_shapes == {"X": (2, 4)}
    assert r.output_shape == (2, 3)
    assert r.unknown_ops == {}
    # rows from node-name scopes
    assert r.layer("fc1").count.params == 40 and r.layer("fc1").count.forward_flops == 128
    assert r.layer("fc2").count.params == 27 and r.layer("fc2").count.forward_flops == 96
    assert r.layer("act").count.params == 0


def test_symbolic_dims_by_name_positional_and_via_count(tmp_path):
    path = _mlp(tmp_path)
    # batch=5: Gemm 2*5*8*4=320, MatMul 2*5*3*8=240 -> 560
    assert count_onnx(path, {"batch": 5}).forward_flops == 560
    assert count_onnx(path, [(5, 4)]).forward_flops == 560
    assert count_onnx(path, (5, 4)).forward_flops == 560
    assert count_onnx(path, "5x4").forward_flops == 560
    assert count(str(path), {"X": np.zeros((5, 4))}).forward_flops == 560


def test_missing_symbolic_shape_is_one_clear_error(tmp_path):
    path = _mlp(tmp_path)
    with pytest.raises(InputError) as ei:
        count_onnx(path)
    msg = str(ei.value)
    assert "'X'" in msg and "batch" in msg and "\n" not in msg
    with pytest.raises(InputError, match="no input named"):
        count_onnx(path, {"Z": (1, 4)})
    with pytest.raises(InputError, match="rank"):
        count_onnx(path, {"X": (1, 4, 1)})
    with pytest.raises(InputError, match="does not fit"):
        count_onnx(path, {"X": (1, 5)})


def test_shared_initializer_counts_once(tmp_path):
    # the same W[6, 6] read by two MatMuls (a tied/shared weight): 36 parameters, not 72;
    # FLOPs count both uses: 2 * (1*6) * 6 = 72 each -> 144
    nodes = [helper.make_node("MatMul", ["X", "W"], ["h"], name="/a/MatMul"),
             helper.make_node("MatMul", ["h", "W"], ["Y"], name="/b/MatMul")]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("X", F, [1, 6])],
                 [helper.make_tensor_value_info("Y", F, [1, 6])], [_init("W", (6, 6))])
    r = count_onnx(path)
    assert r.params == 36
    assert r.forward_flops == 144
    assert r.layer("a").count.params == 36 and r.layer("b").count.params == 0
    assert r.layer("b").count.forward_flops == 72


def test_conv_batchnorm_buffers_and_pool(tmp_path):
    nodes = [
        helper.make_node("Conv", ["X", "W", "B"], ["c"], pads=[1, 1, 1, 1], name="/conv/Conv"),
        helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["n"],
                         name="/bn/BatchNormalization"),
        helper.make_node("MaxPool", ["n"], ["Y"], kernel_shape=[2, 2], strides=[2, 2],
                         name="/pool/MaxPool"),
    ]
    inits = [_init("W", (4, 3, 3, 3)), _init("B", (4,)), _init("g", (4,)), _init("beta", (4,)),
             _init("mean", (4,)), _init("var", (4,))]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("X", F, [1, 3, 8, 8])],
                 [helper.make_tensor_value_info("Y", F, None)], inits)
    r = count_onnx(path)
    # params: W 4*3*3*3=108 + B 4 + gamma 4 + beta 4 = 120; running mean/var are buffers
    assert r.params == 120
    assert r.extra["onnx"]["buffers"] == {"mean": 4, "var": 4}
    # Conv: Y[1,4,8,8] numel 256, each 3*3*3=27 MACs -> 2*256*27 = 13824
    assert r.forward_flops == 13824
    # other: conv bias 256 + BN 5*256=1280 + MaxPool Y[1,4,4,4] 64 * k 4 = 256 -> 1792
    assert r.other_flops == 1792
    assert r.output_shape == (1, 4, 4, 4)


def test_grouped_conv_and_conv_transpose(tmp_path):
    nodes = [
        # grouped: X[1,4,6,6], W[8, 4/2=2, 3, 3], group 2 -> Y[1,8,4,4] (no padding)
        helper.make_node("Conv", ["X", "W"], ["c"], group=2, name="/g/Conv"),
        # transposed: c[1,8,4,4], W2[8, 2, 2, 2] (C_in=8, C_out/g=2), stride 2 -> [1,2,8,8]
        helper.make_node("ConvTranspose", ["c", "W2"], ["Y"], strides=[2, 2], name="/t/CT"),
    ]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("X", F, [1, 4, 6, 6])],
                 [helper.make_tensor_value_info("Y", F, None)],
                 [_init("W", (8, 2, 3, 3)), _init("W2", (8, 2, 2, 2))])
    r = count_onnx(path)
    # params 8*2*9=144 + 8*2*2*2=64 -> 208
    assert r.params == 208
    # Conv: numel(Y)=8*4*4=128, MACs per output 2*3*3=18 -> 2*128*18 = 4608
    # ConvTranspose: numel(X)=8*4*4=128 inputs, each feeds 2*2*2=8 outputs -> 2*128*8 = 2048
    assert r.layer("g").count.forward_flops == 4608
    assert r.layer("t").count.forward_flops == 2048
    assert r.forward_flops == 6656
    assert r.output_shape == (1, 2, 8, 8)


def test_einsum_and_batched_matmul(tmp_path):
    nodes = [
        # bhqd,bhkd->bhqk with b=2,h=3,q=4,k=5,d=8: MACs = 2*3*4*5*8 = 960 -> 1920 FLOPs
        helper.make_node("Einsum", ["Q", "K"], ["S"], equation="bhqd,bhkd->bhqk", name="/e/E"),
        # S[2,3,4,5] x V[2,3,5,8] -> [2,3,4,8]: 2 * numel 192 * K 5 = 1920
        helper.make_node("MatMul", ["S", "V"], ["Y"], name="/m/MatMul"),
        # broadcast with ellipsis: ...d,de->...e on Y[2,3,4,8] x P[8,7]: 2*(2*3*4)*8*7 = 2688
        helper.make_node("Einsum", ["Y", "P"], ["Z"], equation="...d,de->...e", name="/p/E"),
    ]
    vi = helper.make_tensor_value_info
    path = _save(tmp_path, nodes, [vi("Q", F, [2, 3, 4, 8]), vi("K", F, [2, 3, 5, 8]),
                                   vi("V", F, [2, 3, 5, 8])],
                 [vi("Z", F, None)], [_init("P", (8, 7))])
    r = count_onnx(path)
    assert r.layer("e").count.forward_flops == 1920
    assert r.layer("m").count.forward_flops == 1920
    assert r.layer("p").count.forward_flops == 2688
    assert r.params == 56


def test_recurrent_ops(tmp_path):
    vi = helper.make_tensor_value_info
    # X [T=5, B=2, I=3]; LSTM hidden 4, bidirectional: W [2, 16, 3], R [2, 16, 4], B [2, 32]
    # FLOPs 2 * T*B * D * 4H * (I + H) = 2 * 5*2 * 2 * 16 * (3+4) = 4480
    # GRU on the same X, hidden 4, one direction: W [1,12,3], R [1,12,4]
    # FLOPs 2 * 5*2 * 1 * 12 * 7 = 1680; RNN hidden 4: 2 * 5*2 * 4 * 7 = 560
    nodes = [
        helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y1"], hidden_size=4,
                         direction="bidirectional", name="/enc/LSTM"),
        helper.make_node("GRU", ["X", "Wg", "Rg"], ["Y2"], hidden_size=4, name="/gru/GRU"),
        helper.make_node("RNN", ["X", "Wr", "Rr"], ["Y3"], hidden_size=4, name="/rnn/RNN"),
    ]
    inits = [_init("W", (2, 16, 3)), _init("R", (2, 16, 4)), _init("B", (2, 32)),
             _init("Wg", (1, 12, 3)), _init("Rg", (1, 12, 4)),
             _init("Wr", (1, 4, 3)), _init("Rr", (1, 4, 4))]
    path = _save(tmp_path, nodes, [vi("X", F, [5, 2, 3])],
                 [vi("Y1", F, None), vi("Y2", F, None), vi("Y3", F, None)], inits)
    r = count_onnx(path)
    assert r.layer("enc").count.forward_flops == 4480
    assert r.layer("gru").count.forward_flops == 1680
    assert r.layer("rnn").count.forward_flops == 560
    # params: 96+128+64 + 36+48 + 12+16 = 400
    assert r.params == 400


def test_attention_ops(tmp_path):
    vi = helper.make_tensor_value_info
    # ONNX Attention (opset 23), 4-D: Q[B=1,H=2,S=3,D=4], K/V[1,2,L=5,4]
    # scores 2*1*2*3*5*4 = 240, values 240 -> 480
    nodes = [helper.make_node("Attention", ["Q", "K", "V"], ["Y"], name="/attn/Attention")]
    path = _save(tmp_path, nodes, [vi("Q", F, [1, 2, 3, 4]), vi("K", F, [1, 2, 5, 4]),
                                   vi("V", F, [1, 2, 5, 4])], [vi("Y", F, None)], [],
                 opset=23)
    r = count_onnx(path)
    assert r.forward_flops == 480
    assert r.output_shape == (1, 2, 3, 4)

    # com.microsoft MultiHeadAttention: q[B=1,S=3,8], k/v[1,L=5,8], 2 heads:
    # scores 2*1*3*5*8 = 240, values 240 -> 480
    nodes = [helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["y"], num_heads=2,
                              domain="com.microsoft", name="/mha/MHA"),
             helper.make_node("MatMul", ["y", "Wo"], ["o"], name="/out/MatMul")]
    path = _save(tmp_path, nodes, [vi("q", F, [1, 3, 8]), vi("k", F, [1, 5, 8]),
                                   vi("v", F, [1, 5, 8])], [vi("o", F, None)],
                 [_init("Wo", (8, 8))], name="mha.onnx", extra_opsets=[("com.microsoft", 1)])
    r = count_onnx(path)
    # the MatMul after it still gets a shape: 2 * 3*8 * 8 = 384
    assert r.layer("mha").count.forward_flops == 480
    assert r.layer("out").count.forward_flops == 384
    assert r.unknown_ops == {}

    # com.microsoft Attention: x[1,S=3,D=8], W[8, 24], bias[24], 2 heads:
    # projection 2*3*8*24 = 1152; scores 2*3*3*8 = 144; values 144 -> 1440
    nodes = [helper.make_node("Attention", ["x", "W", "b"], ["y"], num_heads=2,
                              domain="com.microsoft", name="/att/Attention")]
    path = _save(tmp_path, nodes, [vi("x", F, [1, 3, 8])], [vi("y", F, None)],
                 [_init("W", (8, 24)), _init("b", (24,))], name="msattn.onnx",
                 extra_opsets=[("com.microsoft", 1)])
    r = count_onnx(path)
    assert r.forward_flops == 1440
    assert r.params == 8 * 24 + 24


def test_unknown_ops_are_listed_and_strict_refuses(tmp_path):
    vi = helper.make_tensor_value_info
    nodes = [helper.make_node("MatMul", ["X", "W"], ["h"], name="/fc/MatMul"),
             helper.make_node("Fancy", ["h"], ["f"], domain="com.example", name="/x/Fancy"),
             helper.make_node("Fancy", ["f"], ["Y"], domain="com.example", name="/x/Fancy2")]
    path = _save(tmp_path, nodes, [vi("X", F, [1, 4])], [vi("Y", F, None)],
                 [_init("W", (4, 4))], extra_opsets=[("com.example", 1)])
    r = count_onnx(path)
    assert r.unknown_ops == {"com.example:Fancy": 2}
    assert r.forward_flops == 2 * 4 * 4  # only the MatMul: 2*(1*4)*4 = 32
    assert any("com.example:Fancy x2" in n for n in r.notes)
    with pytest.raises(ModelError, match="com.example:Fancy x2"):
        count_onnx(path, strict=True)


def test_not_onnx_and_truncated_files(tmp_path):
    text = tmp_path / "notes.onnx"
    text.write_text("this is not a model\n")
    with pytest.raises(ModelError, match="not"):
        count_onnx(text)
    good = _mlp(tmp_path)
    data = good.read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError) as ei:
        count_onnx(cut, {"batch": 1})
    assert "cut.onnx" in str(ei.value) and "\n" not in str(ei.value)
    with pytest.raises(InputError, match="no such file"):
        count_onnx(tmp_path / "missing.onnx")


def _external(tmp_path, sub="m"):
    from onnx.external_data_helper import convert_model_to_external_data

    folder = tmp_path / sub
    folder.mkdir()
    nodes = [helper.make_node("MatMul", ["X", "W"], ["Y"], name="/fc/MatMul")]
    graph = helper.make_graph(nodes, "ext", [helper.make_tensor_value_info("X", F, [2, 16])],
                              [helper.make_tensor_value_info("Y", F, None)],
                              initializer=[_init("W", (16, 16))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    convert_model_to_external_data(model, all_tensors_to_one_file=True, location="w.bin",
                                   size_threshold=0)
    path = folder / "m.onnx"
    onnx.save(model, str(path))
    return path


def test_external_data_inside_folder_counts(tmp_path):
    path = _external(tmp_path)
    r = count_onnx(path)
    # W 16*16 = 256 params; MatMul 2 * (2*16) * 16 = 1024
    assert r.params == 256 and r.forward_flops == 1024


@pytest.mark.parametrize("location", ["../w.bin", "/etc/passwd", "sub/../../w.bin"])
def test_external_data_escaping_folder_is_refused(tmp_path, location):
    path = _external(tmp_path)
    model = onnx.load(str(path), load_external_data=False)
    for entry in model.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = location
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match="outside the model's folder"):
        count_onnx(path)


def test_symlinked_external_data_escaping_is_refused(tmp_path):
    path = _external(tmp_path)
    outside = tmp_path / "outside.bin"
    (path.parent / "w.bin").rename(outside)
    (path.parent / "w.bin").symlink_to(outside)
    with pytest.raises(ModelError, match="outside the model's folder"):
        count_onnx(path)


def _chain(tmp_path, n, scoped=True, name="chain.onnx"):
    """X[2, 4] -> n x (MatMul W_i[4, 4] -> Relu): node names /blocks.i/... or none."""
    nodes, inits, x = [], [], "X"
    for i in range(n):
        nodes += [helper.make_node("MatMul", [x, f"W{i}"], [f"m{i}"],
                                   name=f"/blocks.{i}/fc/MatMul" if scoped else ""),
                  helper.make_node("Relu", [f"m{i}"], [f"r{i}"],
                                   name=f"/blocks.{i}/act/Relu" if scoped else "")]
        inits.append(_init(f"W{i}", (4, 4)))
        x = f"r{i}"
    nodes[-1].output[0] = "Y"
    return _save(tmp_path, nodes, [helper.make_tensor_value_info("X", F, [2, 4])],
                 [helper.make_tensor_value_info("Y", F, [2, 4])], inits, name=name)


def test_rows_sorted_numerically_with_op_kind_and_output_shape(tmp_path):
    r = count_onnx(_chain(tmp_path, 12))
    blocks = [row.path for row in r.layers if row.depth == 2]
    assert blocks == [f"blocks.{i}" for i in range(12)]          # 0, 1, 2, ..., 11
    fc = r.layer("blocks.10.fc")
    # MatMul 2 * (2*4) * 4 = 64 FLOPs; 16 params; output 2 x 4
    assert (fc.kind, fc.output_shape, fc.count.forward_flops, fc.count.params) == \
        ("MatMul", (2, 4), 64, 16)
    assert r.layer("blocks.3.act").kind == "Relu"
    assert r.layer("blocks.3").kind == "onnx-scope" and r.layer("blocks.3").output_shape == (2, 4)
    assert r.batch == 2 and r.per_example()["forward_flops"] == 12 * 64 / 2


def test_graph_without_scoped_names_gets_a_row_per_node(tmp_path):
    r = count_onnx(_chain(tmp_path, 2, scoped=False))
    assert [(row.path, row.kind, row.output_shape, row.count.forward_flops, row.count.params)
            for row in r.layers] == [("MatMul_0", "MatMul", (2, 4), 64, 16),
                                     ("Relu_1", "Relu", (2, 4), 0, 0),
                                     ("MatMul_2", "MatMul", (2, 4), 64, 16),
                                     ("Relu_3", "Relu", (2, 4), 0, 0)]


def test_invalid_graph_and_missing_external_data_are_refused(tmp_path):
    mm = helper.make_node("MatMul", ["X", "W"], ["Y"], name="/fc/MatMul")
    bad = _save(tmp_path, [mm], [helper.make_tensor_value_info("X", F, [2, 4])],
                [helper.make_tensor_value_info("Y", F, [2, 3])], [_init("W", (5, 3))],
                name="bad.onnx")          # 2x4 @ 5x3: the inner dims differ
    with pytest.raises(ModelError, match="bad.onnx: invalid graph.*MatMul"):
        count_onnx(bad)
    path = _external(tmp_path)
    (path.parent / "w.bin").unlink()
    with pytest.raises(ModelError, match="external data file 'w.bin' is missing"):
        count_onnx(path)


@pytest.mark.parametrize("given", [{"batch": 0}, {"batch": -1}, {"X": (0, 4)},
                                   {"X": (-1, 4)}])
def test_sizes_must_be_positive(tmp_path, given):
    with pytest.raises(InputError, match="positive"):
        count_onnx(_mlp(tmp_path), given)
