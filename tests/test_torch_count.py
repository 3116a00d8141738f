"""count(nn.Module): exact parameters and FLOPs, per-module rows, the model left unchanged.

FLOPs: one multiply-add = 2 FLOPs; ``forward_flops`` is matrix-class work only.
"""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from estimator import count  # noqa: E402
from estimator.errors import InputError, ModelError  # noqa: E402

pytestmark = pytest.mark.torch


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(self.drop(torch.relu(self.bn(self.conv(x)))).flatten(1))


def test_small_cnn_exact():
    r = count(Small(), torch.randn(1, 3, 8, 8))
    # conv: 8 out x 8 x 8 positions x (3 x 3 x 3) MACs = 512 x 27 = 13,824 MACs = 27,648 FLOPs
    # fc:   512 x 10 = 5,120 MACs = 10,240 FLOPs
    assert r.forward_flops == 27_648 + 10_240 == 37_888
    assert r.macs == 18_944
    # params: conv 8*27 + 8 = 224, bn 8 + 8 = 16, fc 512*10 + 10 = 5,130
    assert r.params == 224 + 16 + 5_130 == 5_370
    assert r.params_by_type == {"conv": 224, "norm": 16, "dense": 5_130}
    # buffers apart: running_mean 8 + running_var 8 + num_batches_tracked 1
    assert r.extra["buffers"] == 17
    assert r.source == "torch"
    assert r.output_shape == (1, 10)
    assert r.input_shapes == {"input": (1, 3, 8, 8)}
    assert r.layer("conv").count.forward_flops == 27_648
    assert r.layer("fc").count.params == 5_130
    assert r.layer("conv").output_shape == (1, 8, 8, 8)
    # other_flops (estimates, kept apart): conv bias 512 + bn (5+2)*512 + relu 512 + fc bias 10
    assert r.other_flops == 512 + 3_584 + 512 + 10 == 4_618
    assert r.unknown_ops == {}


def test_rows_are_named_modules_with_inclusive_sums():
    m = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.Linear(8, 8), nn.ReLU()), nn.Linear(8, 2))
    r = count(m, (3, 4))
    assert [row.path for row in r.layers] == [n for n, _ in m.named_modules() if n]
    assert [row.depth for row in r.layers] == [1, 1, 2, 2, 1]
    # 2 x 3 rows x (4*8 + 8*8 + 8*2) = 6 x 112 = 672
    assert r.forward_flops == 672
    assert r.layer("1").count.forward_flops == r.layer("1.0").count.forward_flops == 2 * 3 * 64
    assert r.layer("1").leaf is False and r.layer("1.0").leaf is True
    # params: 40 + 72 + 18 = 130, parent "1" holds its child's 72
    assert r.params == 130 and r.layer("1").count.params == 72


def test_tied_weights_once_trainable_and_frozen():
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 16)
            self.proj = nn.Linear(16, 16)
            self.head = nn.Linear(16, 100, bias=False)
            self.head.weight = self.emb.weight

        def forward(self, ids):
            return self.head(self.proj(self.emb(ids)))

    m = LM()
    m.proj.requires_grad_(False)
    r = count(m, {"ids": (1, 12)})
    # 100*16 once (not twice) + proj 16*16 + 16 = 1,600 + 272
    assert r.params == 1_872
    assert r.extra["frozen_params"] == 272 and r.extra["trainable_params"] == 1_600
    assert r.extra["tied_weights"] == {"head.weight": "emb.weight"}
    assert r.layer("head").count.params == 0 and "tied to emb.weight" in r.layer("head").note
    assert r.embedding_params == 1_600 and r.non_embedding_params == 272
    # int (1, 12) input is a token sequence: T = 12; FLOPs 2*12*(16*16 + 16*100) = 44,544
    assert r.tokens == 12 and r.forward_flops == 44_544
    assert r.per_token()["forward_flops"] == 44_544 / 12 == 3_712
    assert r.flops_per_param == 44_544 / 1_872


def _snapshot(m):
    return {
        "state": {k: v.detach().clone() for k, v in m.state_dict(keep_vars=True).items()},
        "ids": {k: id(v) for k, v in m.state_dict(keep_vars=True).items()},
        "training": {n: s.training for n, s in m.named_modules()},
        "hooks": {n: (dict(s._forward_hooks), dict(s._forward_pre_hooks),
                      dict(s._backward_hooks), dict(s._forward_hooks_with_kwargs))
                  for n, s in m.named_modules()},
        "devices": {k: v.device for k, v in m.state_dict(keep_vars=True).items()},
        "grad": {k: p.requires_grad for k, p in m.named_parameters()},
        "forward_in_dict": {n: "forward" in s.__dict__ for n, s in m.named_modules()},
    }


def _same(a, b):
    assert a["ids"] == b["ids"] and a["training"] == b["training"]
    assert a["hooks"] == b["hooks"] and a["devices"] == b["devices"] and a["grad"] == b["grad"]
    assert a["forward_in_dict"] == b["forward_in_dict"]
    for k in a["state"]:
        assert torch.equal(a["state"][k], b["state"][k]), k


def test_model_unchanged_including_after_an_exception():
    m = Small()
    m.train()
    m.bn.eval()  # a mixed state must come back as it was
    m.fc.register_forward_hook(lambda *a: None)
    before = _snapshot(m)
    count(m, torch.randn(2, 3, 8, 8))
    count(m, torch.randn(2, 3, 8, 8), device="real", mode="train")  # BN stats would move
    _same(before, _snapshot(m))

    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    m.drop = Boom()
    before = _snapshot(m)
    for device in ("meta", "real"):
        with pytest.raises(ModelError, match=r"module 'drop' \(Boom.*\(2, 8, 8, 8\).*boom"):
            count(m, torch.randn(2, 3, 8, 8), device=device)
        _same(before, _snapshot(m))


def test_train_eval_and_no_grad_give_the_same_flops():
    m = nn.Sequential(Small(), nn.Linear(10, 4))
    x = torch.randn(1, 3, 8, 8)
    m.train()
    a = count(m, x)
    m.eval()
    b = count(m, x)
    with torch.no_grad():
        c = count(m, x, device="real")
    d = count(m, x, mode="train")
    # 37,888 + 2*10*4 = 37,968
    assert a.forward_flops == b.forward_flops == c.forward_flops == d.forward_flops == 37_968


class Attn(nn.Module):
    def __init__(self, causal=False):
        super().__init__()
        self.causal = causal

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_counted_on_meta_and_on_cpu(causal):
    q = torch.randn(2, 4, 16, 8)
    # B*H*L*S*E = 2*4*16*16*8 = 16,384 MACs for scores, the same for values: 2 x 2 x 16,384
    # (the full score matrix also when causal: DESIGN.md convention)
    for device in ("meta", "real"):
        r = count(Attn(causal), (q, q, q), device=device)
        assert r.forward_flops == 65_536, device
        assert r.unknown_ops == {}


def test_multihead_attention_fast_path_matches_unfused_path():
    mha = nn.MultiheadAttention(32, 4, batch_first=True)
    x = torch.randn(2, 10, 32)
    # in-proj 2*B*L*3*E*E = 2*2*10*3*1024 = 122,880; scores+values 2*2*B*L*L*E = 25,600;
    # out-proj 2*B*L*E*E = 40,960; total 189,440 (eval on CPU takes _native_multi_head_attention)
    for device in ("meta", "real"):
        for mode in ("eval", "train"):
            assert count(mha, (x, x, x), device=device, mode=mode).forward_flops == 189_440
    mha.eval()
    with torch.no_grad():
        assert count(mha, (x, x, x), device="real").forward_flops == 189_440


@pytest.mark.parametrize("cls,gates,flops", [
    # 2*B*T*G*H*(I + H) per layer; B*T = 10, H = 16, layer 1 I = 8, layer 2 I = 16
    (nn.LSTM, 4, 2 * 10 * 64 * (8 + 16) + 2 * 10 * 64 * (16 + 16)),   # 30,720 + 40,960
    (nn.GRU, 3, 2 * 10 * 48 * (8 + 16) + 2 * 10 * 48 * (16 + 16)),    # 23,040 + 30,720
    (nn.RNN, 1, 2 * 10 * 16 * (8 + 16) + 2 * 10 * 16 * (16 + 16)),    # 7,680 + 10,240
])
def test_recurrent_layers(cls, gates, flops):
    m = cls(8, 16, num_layers=2, batch_first=True)
    x = torch.randn(2, 5, 8)
    assert flops in (71_680, 53_760, 17_920)
    for device in ("meta", "real"):  # real CPU LSTM takes mkldnn_rnn_layer
        r = count(m, x, device=device)
        assert r.forward_flops == flops and r.unknown_ops == {}, device
    assert r.params_by_type == {"recurrent": r.params}
    # params per layer: G*H*(I + H) + 2*G*H (two biases)
    assert r.params == gates * 16 * (8 + 16) + gates * 16 * 32 + 4 * gates * 16


def test_transposed_conv_and_einsum():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose2d(4, 2, 2, stride=2, bias=False)
            self.w = nn.Parameter(torch.randn(2, 3))

        def forward(self, x):
            y = self.up(x)  # (1, 2, 8, 8)
            return torch.einsum("bchw,cd->bdhw", y, self.w)

    r = count(M(), (1, 4, 4, 4))
    # transposed conv: every input position (4*4) x 4 in x 2 out x 2*2 kernel = 512 MACs
    # einsum: 8*8 positions x 2 x 3 = 384 MACs; total 896 MACs = 1,792 FLOPs
    assert r.forward_flops == 1_792


def test_unknown_ops_are_listed_not_silently_zero():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(8, 8)

        def forward(self, x):
            return self.l(torch.fft.rfft(x).abs())

    r = count(M(), (2, 14))  # rfft of 14 -> 8 bins; linear 2*2*8*8 = 256
    assert r.unknown_ops == {"aten._fft_r2c": 1}
    assert r.forward_flops == 256
    assert any("aten._fft_r2c x1" in n for n in r.notes)


class TopK(nn.Module):
    """A plain hand-written top-k MoE (routing loops over experts with data-dependent masks)."""

    def __init__(self, d=16, h=32, e=4, k=2):
        super().__init__()
        self.top_k = k
        self.router = nn.Linear(d, e, bias=False)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, d)) for _ in range(e))

    def forward(self, x):
        flat = x.reshape(-1, x.shape[-1])
        w, idx = self.router(flat).softmax(-1).topk(self.top_k, -1)
        out = torch.zeros_like(flat)
        for i, ex in enumerate(self.experts):
            tok, slot = torch.where(idx == i)
            if tok.numel():
                out.index_add_(0, tok, ex(flat[tok]) * w[tok, slot, None])
        return out.reshape(x.shape)


class MoELM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.moe = TopK()
        self.head = nn.Linear(16, 100)

    def forward(self, ids):
        return self.head(self.moe(self.emb(ids)))


def test_hand_written_top_k_moe():
    m = MoELM()
    before = _snapshot(m)
    ids = torch.randint(0, 100, (1, 8))
    # params: emb 1,600 + router 64 + 4 experts x (16*32+32 + 32*16+16 = 1,072) + head 1,700
    # active: 2 of 4 experts -> 7,652 - 2*1,072 = 5,508
    # FLOPs (T=8): router 2*8*16*4 = 1,024; experts 8 tokens x k=2 x 2*(512+512) = 32,768;
    #              head 2*8*16*100 = 25,600; total 59,392
    for device in ("meta", "real"):  # meta: first k experts on every token; real: true routing
        r = count(m, ids, device=device)
        assert (r.params, r.active_params, r.forward_flops) == (7_652, 5_508, 59_392), device
        assert r.params_by_type["expert"] == 4_288
        assert r.extra["moe"] == [{"path": "moe.experts", "experts": 4, "top_k": 2,
                                   "style": "modulelist"}]
        assert any("top-2 of 4" in n for n in r.notes)
    assert r.layer("moe.experts").count.active_params == 2_144
    _same(before, _snapshot(m))
    assert count(m, ids, top_k=1).active_params == 7_652 - 3 * 1_072


def test_data_dependent_forward_on_meta_says_so():
    class DD(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(4, 4)

        def forward(self, x):
            return self.l(x) if x.sum() > 0 else x

    m = nn.Sequential(nn.Linear(4, 4), DD())
    with pytest.raises(ModelError, match=r"module '1' \(DD.*depends on data values.*real"):
        count(m, (2, 4))
    assert count(m, torch.ones(2, 4), device="real").forward_flops in (64, 128)


def test_bad_input_errors():
    m = nn.Sequential(nn.Linear(4, 4), nn.Linear(5, 3))
    with pytest.raises(ModelError, match=r"module '1' \(Linear\(in_features=5.*\(2, 4\)"):
        count(m, (2, 4))
    with pytest.raises(ModelError, match="nn.Module"):
        from estimator.graphs.torch_count import count_module

        count_module("not a model", (1, 2))
    with pytest.raises(InputError):
        count(m, None)
    with pytest.raises(InputError, match="1x3xfoo"):
        count(m, "1x3xfoo")


def test_input_forms_and_meta_built_module():
    m = nn.Sequential(nn.Linear(6, 4))
    ref = 2 * 3 * 6 * 4  # 144
    for inp in [torch.randn(3, 6), (3, 6), [3, 6], torch.Size([3, 6]), "3x6", "3x6:float32",
                ((3, 6), torch.float32), (torch.randn(3, 6),)]:
        assert count(m, inp).forward_flops == ref, inp
    with torch.device("meta"):
        mm = nn.Sequential(nn.Linear(6, 4))
    r = count(mm, torch.empty(3, 6, device="meta"))
    assert r.forward_flops == ref and r.params == 28
    assert mm[0].weight.device.type == "meta"


def test_print_and_json():
    from estimator.report import render

    r = count(Small(), (1, 3, 8, 8))
    assert str(r) == "Small: 5,370 params, 37,888 forward FLOPs (18,944 MACs)"
    text = render(r)
    assert "conv" in text and "5,370" in text and "37,888" in text
    d = json.loads(json.dumps(r.to_dict()))
    assert d["params"] == 5_370 and d["forward_flops"] == 37_888 and d["source"] == "torch"
    assert {"name", "params", "active_params", "forward_flops", "layers", "unknown_ops"} <= set(d)
    assert d["layers"][0]["path"] == "conv"


def test_spec_built_modules_agree_with_the_analytic_rows():
    """What `paramcount check` relies on: rows of count_module on build_module(spec, 'meta')
    carry the same dotted paths as the analytic rows, with the same figures."""
    from pathlib import Path

    torch_build = pytest.importorskip("estimator.graphs.torch_build")
    from estimator import analyze, load_spec

    root = Path(__file__).resolve().parents[1] / "archspecs"
    for name in ("mixtral-8x7b.yaml", "resnet50.yaml"):
        if not (root / name).exists():
            pytest.skip(f"archspecs/{name} not present")
        spec = load_spec(root / name)
        a = analyze(spec)
        r = count(torch_build.build_module(spec, device="meta"),
                  torch_build.example_inputs(spec, device="meta"))
        assert (r.params, r.active_params, r.forward_flops) == \
            (a.params, a.active_params, a.forward_flops), name
        ours = {row.path: row.count for row in r.layers}
        shared = [row for row in a.layers if row.path in ours]
        assert len(shared) > 10
        for row in shared:
            c = ours[row.path]
            assert (c.params, c.active_params, c.forward_flops) == \
                (row.count.params, row.count.active_params, row.count.forward_flops), row.path


def test_plain_tensor_attributes_fall_back_to_fake_tensors():
    class PE(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(4, 4)
            self.pe = torch.randn(3, 4)  # a plain CPU tensor: neither parameter nor buffer
            self.mha = nn.MultiheadAttention(4, 2, batch_first=True)
            self.lstm = nn.LSTM(4, 4, batch_first=True)

        def forward(self, x):
            x = self.mha(*(3 * [self.l(x + self.pe)]), need_weights=False)[0]
            return self.lstm(x)[0]

    m = PE().eval()
    r = count(m, (2, 3, 4))
    assert r.extra["device"] == "fake" and r.unknown_ops == {}
    # B*L = 6 rows: linear 2*6*16 = 192; mha in-proj 3*192 + scores/values 2*2*2*3*3*4 = 288
    # + out-proj 192; lstm 2*6*(16*4 + 16*4) = 1,536 -> 192 + 576 + 288 + 192 + 1,536
    assert r.forward_flops == 2_784
    assert count(m, torch.randn(2, 3, 4), device="real").forward_flops == 2_784


def test_a_module_called_twice_counts_work_twice_params_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(4, 4)

        def forward(self, x):
            return self.l(self.l(x))

    r = count(Twice(), (1, 4))
    assert r.params == 20 and r.forward_flops == r.layer("l").count.forward_flops == 2 * 2 * 16


def test_in_place_elementwise_and_embedding_bag_are_known_ops():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.bag = nn.EmbeddingBag(10, 4, mode="sum")
            self.act = nn.Hardswish(inplace=True)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, ids):
            y = self.relu(self.act(self.bag(ids)))
            return F.gelu(y.mul_(2.0))

    r = count(M(), ((2, 3), torch.long))
    assert r.unknown_ops == {}
    # bag: 2 bags x 3 ids x 4 dims gathered = 24 adds (lookup itself free);
    # hardswish_, relu_, mul_, gelu: 2 x 4 = 8 elements each -> 32; total 56
    assert r.other_flops == 24 + 4 * 8 == 56
    assert r.forward_flops == 0


def test_module_inputs_are_not_walked_on_every_call():
    """The pre-hook records each call's inputs by reference (O(1)); their shapes are read
    only for an error message. Before, every call walked its inputs, and a spec-built
    module passes every block the dict of all earlier outputs: O(modules x depth)."""
    walked = [0]

    class Env(dict):
        def items(self):
            walked[0] += 1
            return super().items()

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(4, 4)

        def forward(self, x, env):
            env[len(env)] = x
            return self.l(x)

    class Deep(nn.Module):
        def __init__(self, n=50):
            super().__init__()
            self.blocks = nn.ModuleList(Block() for _ in range(n))

        def forward(self, x):
            env = Env()
            for b in self.blocks:
                x = b(x, env)
            return x

    r = count(Deep(), (1, 4))
    assert r.forward_flops == 50 * 2 * 4 * 4 and walked[0] == 0
    m = Deep()
    m.blocks[3].l = nn.Linear(5, 4)
    with pytest.raises(ModelError, match=r"module 'blocks.3.l' .* input shapes \(1, 4\)"):
        count(m, (1, 4))


@pytest.mark.parametrize("cls,kw,flops,other", [
    # B*T = 2*5 = 10 rows, H = 16, I = 8. forward 2*rows*(numel(w_ih) + numel(w_hh) [+ w_hr]);
    # other per row and unit: LSTM 13H, GRU 10H, RNN 2H, + 2*G*H with biases
    (nn.LSTM, {}, 2 * 10 * 64 * (8 + 16), 10 * (13 * 16 + 2 * 64)),              # 30,720 / 3,360
    (nn.LSTM, {"bias": False}, 2 * 10 * 64 * (8 + 16), 10 * 13 * 16),            # 30,720 / 2,080
    # projection P = 4: w_ih 64x8, w_hh 64x4, w_hr 4x16 -> 2*10*(512 + 256 + 64) = 16,640
    (nn.LSTM, {"proj_size": 4}, 2 * 10 * (512 + 256 + 64), 10 * (13 * 16 + 2 * 64)),
    # 2 layers x 2 directions: layer 1 w_ih 64x8, layer 2 w_ih 64x32; w_hh 64x16 each
    (nn.LSTM, {"num_layers": 2, "bidirectional": True},
     2 * 10 * 2 * (64 * 8 + 64 * 16 + 64 * 32 + 64 * 16), 4 * 10 * (13 * 16 + 2 * 64)),
    (nn.GRU, {}, 2 * 10 * 48 * (8 + 16), 10 * (10 * 16 + 2 * 48)),               # 23,040 / 2,560
    (nn.RNN, {"nonlinearity": "relu"}, 2 * 10 * 16 * (8 + 16), 10 * (2 * 16 + 2 * 16)),
])
def test_recurrent_ops_counted_at_the_op_on_meta(cls, kw, flops, other):
    # on meta, aten.lstm/gru/rnn_* are counted by formula (torch_ops.recurrent), not through
    # ATen's per-step decomposition; the figures are the decomposed cells' (mkldnn on CPU
    # gives the same forward FLOPs)
    m = cls(8, 16, batch_first=True, **kw)
    r = count(m, (2, 5, 8))
    assert (r.forward_flops, r.total.other_flops) == (flops, other)
    assert r.extra["flops_by_op"] == {f"aten.{ {nn.LSTM: 'lstm', nn.GRU: 'gru'}.get(cls, 'rnn_relu')}": flops}
    assert r.output_shape == (2, 5, (kw.get("proj_size") or 16) * (2 if kw.get("bidirectional") else 1))
    assert count(m, torch.randn(2, 5, 8), device="real").forward_flops == flops


def test_packed_sequence_counts_its_rows():
    # lengths 5 and 3: 8 rows; GRU 2*8*48*(8 + 16) = 18,432; other 8*(10*16 + 2*48) = 2,048
    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(8, 16, batch_first=True)

        def forward(self, x):
            p = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([5, 3]), batch_first=True)
            return self.rnn(p)[0].data

    for device in ("meta", "real"):
        r = count(Packed(), torch.randn(2, 5, 8), device=device)
        assert (r.forward_flops, r.total.other_flops, r.output_shape) == (18_432, 2_048, (8, 16))
