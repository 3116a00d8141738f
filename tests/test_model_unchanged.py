"""count(model) never changes the user's model: a property over the test zoo and real layouts.

Whatever the model (torchvision-style CNNs from tests/zoo.py, a timm-style model that
registers one submodule under several names, Hugging Face models from small configs, a
detection-style model that caches tensors on itself and branches on data values), whatever
the input and device, and whether the count succeeds or fails, afterwards every parameter and
buffer is the same object with bit-identical data, device and dtype; ``training`` flags,
hooks and every module attribute are as they were; and the model's own forward gives
bit-identical output.
"""
from __future__ import annotations

import functools
import os
import zlib

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from estimator import count  # noqa: E402
from estimator.errors import ModelError  # noqa: E402

zoo = pytest.importorskip("zoo")

pytestmark = pytest.mark.torch


# ----------------------------------------------------------------------------------------
# models with the layouts that broke: shared submodules, cached tensors, data branches
# ----------------------------------------------------------------------------------------

class ConvPosEnc(nn.Module):
    """timm CoaT's convolutional position encoding: one instance is registered in every
    serial block of a stage (``block.cpe``) and on the model (``cpe1``), as in
    ``coat_lite_tiny`` (96 such registrations)."""

    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)

    def forward(self, x, hw):
        b, n, c = x.shape
        feat = x.transpose(1, 2).reshape(b, c, *hw)
        return self.proj(feat).flatten(2).transpose(1, 2) + x


class SerialBlock(nn.Module):
    def __init__(self, dim, cpe):
        super().__init__()
        self.cpe = cpe                      # shared: the same module under another name
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x, hw):
        x = self.cpe(x, hw)
        return x + self.mlp(self.norm(x))


class CoaTLike(nn.Module):
    def __init__(self, dim=16, depth=3):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, stride=4)
        self.bn = nn.BatchNorm2d(dim)
        self.cpe1 = ConvPosEnc(dim)
        self.blocks = nn.ModuleList(SerialBlock(dim, self.cpe1) for _ in range(depth))
        self.head = nn.Linear(dim, 10)
        self.head_alias = self.head         # one Linear under two names at the top level

    def forward(self, x):
        f = self.bn(self.patch(x))
        hw = f.shape[-2:]
        t = f.flatten(2).transpose(1, 2)
        for blk in self.blocks:
            t = blk(t, hw)
        return self.head_alias(t.mean(1))


class DetectorLike(nn.Module):
    """torchvision detection habits: a list of images in, anchors cached on the module as a
    plain list of tensors (``AnchorGenerator.set_cell_anchors`` moves them to the input's
    device), and a data-dependent step (box filtering) that the meta device cannot follow."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True))
        self.cls = nn.Conv2d(8, 1, 1)
        self.cell_anchors = [torch.tensor([[-8.0, -8.0, 8.0, 8.0]])]
        self.calls = 0

    def forward(self, images):
        self.calls += 1
        dev = images[0].device
        self.cell_anchors = [a.to(device=dev) for a in self.cell_anchors]
        out = []
        for im in images:
            score = self.cls(self.body(im[None]))
            keep = torch.nonzero(score.flatten() > 0)       # data dependent
            out.append(score.flatten()[keep.flatten()].sum() + self.cell_anchors[0].sum())
        return torch.stack(out)


def _hf(name):
    T = pytest.importorskip("transformers")
    if name == "gpt2":
        return T.GPT2LMHeadModel(T.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=97,
                                              n_positions=32))
    if name == "bert":
        return T.BertModel(T.BertConfig(num_hidden_layers=2, hidden_size=32,
                                        num_attention_heads=2, intermediate_size=64,
                                        vocab_size=97, max_position_embeddings=32))
    return T.MixtralForCausalLM(T.MixtralConfig(
        vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, num_local_experts=4,
        num_experts_per_tok=2, max_position_embeddings=32))


# one model at a time (the parametrized test runs every example of a model in a row): each
# is built, and its state digested, once, and dropped before the next model is built (an
# lru_cache of one would drop it only after: ResNet-50's 25.6M weights beside VGG16's 138M)
_built: dict = {}


def build(name):
    if name not in _built:
        _built.clear()
        _built[name] = _make(name)
    return _built[name]


def _make(name):
    torch.manual_seed(0)
    if name in zoo.FACTORIES:
        m = zoo.FACTORIES[name]()
    elif name == "coat_like":
        m = CoaTLike()
    elif name == "detector_like":
        m = DetectorLike()
    else:
        m = _hf(name)
    m.eval()
    return m


def good_input(name, batch, size):
    g = torch.Generator().manual_seed(batch * 1000 + size)
    if name in ("gpt2", "bert", "mixtral"):
        return {"input_ids": torch.randint(0, 97, (batch, size // 8), generator=g)}
    if name == "detector_like":
        return [torch.randn(3, size // 4, size // 4 + 4, generator=g) for _ in range(batch)]
    return torch.randn(batch, 3, size, size, generator=g)


def as_count_input(name, x):
    """count() reads a tuple or list as positional inputs: one list of images is ``(images,)``."""
    return (x,) if name == "detector_like" else x


def bad_input(name, batch, size):
    """An input the forward rejects (wrong width or channels), or, for the detector, one the
    meta device cannot follow (its data-dependent step)."""
    if name in ("gpt2", "bert", "mixtral"):
        return {"inputs_embeds": torch.zeros(batch, size // 8, 33)}  # hidden size is 32
    if name == "detector_like":
        return as_count_input(name, good_input(name, batch, size))
    return torch.zeros(batch, 5, size, size)                       # 3 channels expected


MODELS = sorted(zoo.FACTORIES) + ["coat_like", "detector_like", "gpt2", "bert", "mixtral"]


# ----------------------------------------------------------------------------------------
# the property
# ----------------------------------------------------------------------------------------

def _hooks(m):
    return tuple(tuple(getattr(m, a)) for a in (
        "_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
        "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs", "_state_dict_hooks"))


def _attrs(m):
    """Every attribute of the module by identity, and the members of its dicts and lists."""
    out = {}
    for k, v in vars(m).items():
        out[k] = id(v)
        if isinstance(v, dict):
            out[k + "{}"] = tuple((n, id(x)) for n, x in v.items())
        elif isinstance(v, list):
            out[k + "[]"] = tuple(id(x) for x in v)
    return out


def digest(t):
    """What "unchanged" means for one tensor, without a second copy of its data: its device,
    dtype, shape, stride, storage offset, requires_grad, and the CRC-32 of its bytes (one copy
    of VGG16's 138M weights in the process, not two). A CRC-32 catches every change confined
    to 32 consecutive bits (any one value of up to 4 bytes changed: guaranteed, not likely)
    and costs what ``torch.equal`` does (0.03 s per 200 MB, SHA-256 0.11 s). A meta tensor has
    no bytes: its digest is None, and its device differs from a real tensor's anyway."""
    t = t.detach()
    head = (t.device, t.dtype, tuple(t.shape), t.stride(), t.storage_offset(),
            t.requires_grad)
    if t.device.type == "meta":
        return head + (None,)
    flat = t.contiguous().reshape(-1).view(torch.uint8).numpy()  # no copy when contiguous
    return head + (zlib.crc32(memoryview(flat)),)


def snapshot(m, data=True):
    """Everything count() must leave as it was; ``data=False`` leaves the tensors' digests out
    (the caller has them from before the first count)."""
    tensors = list(m.named_parameters(remove_duplicate=False)) + \
        list(m.named_buffers(remove_duplicate=False))
    mods = list(m.named_modules(remove_duplicate=False))
    return {
        "tensors": {n: (id(t), digest(t) if data else None) for n, t in tensors},
        "training": {n: s.training for n, s in mods},
        "hooks": {n: _hooks(s) for n, s in mods},
        "attrs": {n: _attrs(s) for n, s in mods},
        "classes": {n: type(s) for n, s in mods},
    }


def assert_same(before, after):
    assert before["tensors"].keys() == after["tensors"].keys()
    for n, was in before["tensors"].items():
        now = after["tensors"][n]
        assert now[1][0].type != "meta", f"{n} left on the meta device"
        assert was == now, n
    for k in ("training", "hooks", "attrs", "classes"):
        assert before[k] == after[k], k


def own_output(m, x):
    with torch.no_grad():
        y = m(**x) if isinstance(x, dict) else m(x)
    return y if isinstance(y, torch.Tensor) else y[0]


@functools.lru_cache(maxsize=1)
def pristine(name):
    """The model's state as built, before any count: digested once per model, so every
    example is compared with the state it had before the first count."""
    return snapshot(build(name))


@functools.lru_cache(maxsize=None)
def reference(name, batch, size):
    """The model's own output for this input, and its state before any count."""
    return pristine(name), own_output(build(name), good_input(name, batch, size))


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
@given(batch=st.integers(1, 2), size=st.sampled_from([64, 80]),
       device=st.sampled_from(["meta", "real"]), mode=st.sampled_from(["eval", "train"]),
       fail=st.booleans(), hook=st.booleans())
def test_count_never_changes_the_model(name, batch, size, device, mode, fail, hook):
    m = build(name)
    built, ref = reference(name, batch, size)
    if name == "detector_like":   # it fails on meta by design (its data-dependent step)
        device = "meta" if fail else "real"
    if hook:   # a user's hook survives the count
        h = m.register_forward_hook(lambda mod, a, out: None)
    # tensors as digested before any count; everything else as it is now (the detector's own
    # forward, run for the reference output, updates its anchor cache and call counter)
    before = {**snapshot(m, data=False), "tensors": built["tensors"]}
    try:
        if fail:
            with pytest.raises(ModelError):
                count(m, bad_input(name, batch, size), device=device, mode=mode)
        else:
            r = count(m, as_count_input(name, good_input(name, batch, size)), device=device,
                      mode=mode)
            assert r.params == sum(p.numel() for p in m.parameters())
        after = snapshot(m)
    finally:
        if hook:
            h.remove()
    assert_same(before, after)
    assert torch.equal(ref, own_output(m, good_input(name, batch, size)))


# ----------------------------------------------------------------------------------------
# the regressions the property grew from (each failed before the fix)
# ----------------------------------------------------------------------------------------

def test_module_registered_under_two_names_keeps_its_tensors():
    torch.manual_seed(0)
    lin = nn.Linear(4, 4)
    s = nn.Sequential(lin, lin)
    w, b = lin.weight, lin.bias
    x = torch.randn(1, 4)
    ref = s(x)
    r = count(s, (1, 4))
    # params counted once: 4*4 + 4 = 20; work twice: 2 calls x 2*1*4*4 = 64 FLOPs
    assert (r.params, r.forward_flops) == (20, 64)
    assert lin.weight is w and lin.bias is b and w.device.type == "cpu"
    assert torch.equal(s(x), ref)
    assert all(t.device.type == "cpu" for t in s.state_dict().values())


def test_failed_meta_count_leaves_cached_tensors_and_the_advice_works():
    m = DetectorLike()
    anchors = m.cell_anchors
    images = [torch.randn(3, 8, 8), torch.randn(3, 8, 12)]
    with pytest.raises(ModelError, match="depends on data values.*device='real'"):
        count(m, (images,))
    assert m.cell_anchors is anchors and anchors[0].device.type == "cpu" and m.calls == 0
    r = count(m, (images,), device="real")       # the error's own advice
    # body conv 3->8 3x3 on 8x8 and 8x12: (64 + 96) x 8 x 27 MACs = 34,560;
    # cls 8->1 1x1: (64 + 96) x 8 = 1,280 MACs; total 35,840 MACs = 71,680 FLOPs
    assert r.forward_flops == 71_680
    assert m.cell_anchors is anchors and m.calls == 0
    own_output(m, images)                      # the model's own forward still runs


@pytest.mark.parametrize("device", ["meta", "real"])
def test_lazy_modules_are_refused_and_left_lazy(device):
    m = nn.Sequential(nn.LazyLinear(4), nn.ReLU())
    with pytest.raises(ModelError, match=r"module '0' \(LazyLinear\) has uninitialized lazy"):
        count(m, torch.randn(2, 3), device=device)
    assert type(m[0]) is nn.LazyLinear
    assert torch.nn.parameter.is_lazy(m[0].weight)
