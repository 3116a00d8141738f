"""A training step counted on meta: backward split, measured ratios asserted by hand."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from estimator import count  # noqa: E402
from estimator.graphs.train_step import count_spec_step, count_train_step  # noqa: E402

DATA = Path(__file__).parent / "data"


def test_mlp_first_layer_has_no_input_gradient():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    r = count_train_step(m, (5, 4), optimizer="none")
    # forward: 2*5*4*8 = 320 + 2*5*8*2 = 160 -> 480
    assert r.forward_flops == 480
    # layer 0: weight gradient only (its input needs none): 320; layer 2: dX 160 + dW 160
    assert r.input_grad_flops == 160
    assert r.weight_grad_flops == 320 + 160
    assert r.layer("0").flops["input_grad"] == 0
    assert r.backward_ratio == pytest.approx(640 / 480)  # 4/3, not 2
    assert r.unknown_ops == {}


def test_conv_net_split_by_output_mask():
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
    r = count_train_step(m, (1, 3, 8, 8), optimizer="momentum")
    # conv0: out 4x6x6, 27 MACs each: 2*144*27 = 7776; conv1: out 2x4x4, 36 MACs: 2*32*36 = 2304
    assert r.forward_flops == 7776 + 2304
    assert r.input_grad_flops == 2304            # conv1 only (conv0's input needs none)
    assert r.weight_grad_flops == 7776 + 2304
    assert r.backward_ratio == pytest.approx(12384 / 10080)
    # SGD with momentum, steady state: buf.mul_ + buf.add_ + p.add_ = 3 per element
    # params: 4*3*9 + 4 + 2*4*9 + 2 = 186 -> 558
    assert r.optimizer_flops == 3 * 186


def test_embedding_is_a_scatter_not_a_matmul():
    m = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 3))
    r = count_train_step(m, "2x5:int64", optimizer="sgd")
    assert r.forward_flops == 2 * 10 * 4 * 3          # the linear on 10 tokens: 240
    assert r.layer("0").flops == {k: 0 for k in r.flops}  # no matrix work in the table
    assert r.layer("0").other["weight_grad"] == 2 * 5 * 4  # scatter-add of 40 gradient elements
    assert r.input_grad_flops == 240 and r.weight_grad_flops == 240  # dX feeds the table
    assert r.backward_ratio == 2.0


def test_frozen_backbone():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Linear(8, 2))
    for p in list(m[0].parameters()) + list(m[2].parameters()):
        p.requires_grad_(False)
    r = count_train_step(m, (5, 4), optimizer="sgd")
    assert r.forward_flops == 320 + 640 + 160
    # only the head's weight gradient: nothing below it needs a gradient
    assert (r.input_grad_flops, r.weight_grad_flops) == (0, 160)
    assert r.backward_ratio == pytest.approx(160 / 1120)
    assert r.trainable_params == 8 * 2 + 2
    assert r.optimizer_flops == 18  # plain SGD: p.add_(grad, alpha=-lr), 1 per element
    assert any("frozen" in n for n in r.notes)
    assert m[0].weight.device.type == "cpu" and m.training  # the model is left as it was


def test_checkpoint_recomputation_counted_apart():
    from torch.utils.checkpoint import checkpoint

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 8)
            self.b = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))

        def forward(self, x):
            return checkpoint(self.b, self.a(x), use_reentrant=False)

    r = count_train_step(Net(), (5, 4), optimizer="none")
    assert r.forward_flops == 320 + 640 + 160
    # recomputation stops once the saved tensors are rebuilt: b.0 and its ReLU, not b.2
    assert r.recompute_flops == 640
    assert r.input_grad_flops == 640 + 160 and r.weight_grad_flops == 320 + 640 + 160
    assert r.backward_ratio == pytest.approx(1920 / 1120)


def test_attention_scores_have_no_weight_gradient():
    r = count_spec_step(DATA / "hand-transformer.yaml", optimizer="none")
    # T=4, d=8, 2 heads of 4: scores + values 2 * (2*4*4*2*4) = 512 (bmm on meta)
    assert r.by_op["forward"]["aten.bmm"] == 512
    assert r.by_op["input_grad"]["aten.bmm"] == 2 * 512   # dQ, dK, dP, dV: all inputs
    assert "aten.bmm" not in r.by_op["weight_grad"]
    # q,k,v,o 4*2*4*8*8 = 2048, MLP 2*2*4*8*16 = 2048, tied head 2*4*8*10 = 640
    assert r.by_op["weight_grad"]["aten.mm"] == 2048 + 2048 + 640
    assert r.backward_ratio == 2.0


def test_agrees_with_flop_counter_mode_on_gpt2():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    T = pytest.importorskip("transformers")
    from torch.utils.flop_counter import FlopCounterMode

    cfg = T.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=100, n_positions=32)
    with torch.device("meta"):
        m = T.GPT2LMHeadModel(cfg)
    r = count(m, {"input_ids": (2, 16)}, step="train")
    with FlopCounterMode(display=False) as fc:
        m(input_ids=torch.zeros(2, 16, dtype=torch.long, device="meta")).logits.mean().backward()
    assert r.forward_flops + r.backward_flops == fc.get_total_flops() == 20_889_600
    assert r.backward_ratio == 2.0


def test_bad_optimizer():
    from estimator.errors import InputError

    with pytest.raises(InputError, match="optimizer 'lion'"):
        count_train_step(nn.Linear(2, 2), (1, 2), optimizer="lion")


def test_each_repeated_block_holds_only_its_own_backward(tmp_path):
    """A block's backward row is its own work, not that of every block before it: the built
    spec's ``env`` of earlier outputs (which every block receives) is no input the module
    tracker waits on (torch_build.Env). Before, block i's row held blocks 0..i."""
    spec = tmp_path / "three.yaml"
    spec.write_text("name: three\ninput: {shape: [4, 8]}\nlayers:\n"
                    "  - kind: sequential\n    name: h\n    repeat: 3\n    layers:\n"
                    "      - kind: residual\n        name: r\n        layers:\n"
                    "          - {kind: linear, name: fc, out: 8}\n")
    r = count_spec_step(spec, optimizer="none")
    # each block's fc: 2 x 4 x 8 x 8 = 512 FLOPs forward; its weight gradient dW = dYᵀ·X is
    # another 512; its input gradient dX = dY·W is 512 too, except block 0's, whose input
    # (the spec's input) does not require grad
    for i in range(3):
        row = r.layer(f"h.{i}")
        assert row.flops["forward"] == 512 and row.flops["weight_grad"] == 512, row
        assert row.flops["input_grad"] == (0 if i == 0 else 512), row
    assert r.layer("h").flops["input_grad"] == 2 * 512 == r.input_grad_flops
    assert r.layer("h").flops["weight_grad"] == 3 * 512 == r.weight_grad_flops
