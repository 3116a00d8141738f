"""Spec -> PyTorch module, for the structural cross-check (and ONNX export).

The module tree mirrors the spec's layer paths exactly: a layer at ``blocks.3.attn`` is the
submodule ``blocks.3.attn``, and its tensors carry the names its room's formula gives them
(``blocks.3.attn.q.weight``). So the analytic count and a count of the built module can be
compared row by row. Repeats are numbered children; ``shared: true`` and ``share: PATH``
register the *same* module object again (PyTorch then reports its parameters once); ``tie``
assigns the same ``Parameter`` object.

Torch is imported here only; the analytic engine never imports this module.
"""
from __future__ import annotations

import contextlib
import functools

from ..errors import require
from ..layers.registry import Ctx
from ..spec.yamlload import paused_gc


def _call(module, x, env):
    return module(x, env) if getattr(module, "needs_env", False) else module(x)


class Env(dict):
    """The layer outputs recorded so far, by path (``from:``, ``memory:``, ``tie`` read them).

    A dict subclass: torch's pytree, with which module trackers flatten a module's arguments
    (``ModTracker`` in the training step and memory measurements), takes it for one opaque
    value. A plain dict would give every module that takes ``env`` a backward hook on every
    output recorded before it (GPT-3 175B: 131k hooks in one step), and hold each block "in
    backward" until the gradients of all earlier outputs were done, so that the training
    step's per-layer backward rows came out cumulative (GPT-2's ``h.11`` held all 12
    blocks' input gradients)."""


@functools.cache
def _classes():
    torch = require("torch", "torch")
    nn = torch.nn

    class Seq(nn.Module):
        """Layers in order; each output is recorded under its path for ``from:``/``memory:``."""

        needs_env = True

        def __init__(self):
            super().__init__()
            self.steps: list[tuple[str, str, str | None]] = []  # (attribute, path, from)

        def add(self, seg, path, module, from_):
            self.add_module(seg, module)
            self.steps.append((seg, path, from_))

        def run(self, x, env):
            for seg, path, from_ in self.steps:
                if from_:
                    x = env[from_]
                x = _call(self._modules[seg], x, env)
                env[path] = x
            return x

        forward = run

    class Repeat(nn.Module):
        """``repeat: N``: children 0..N-1 applied in sequence (the same object when shared)."""

        needs_env = True

        def __init__(self, path):
            super().__init__()
            self.path = path
            self.n = 0

        def add(self, module):
            self.add_module(str(self.n), module)
            self.n += 1

        def forward(self, x, env):
            for i in range(self.n):
                x = _call(self._modules[str(i)], x, env)
                env[f"{self.path}.{i}"] = x
            return x

    class Block(Seq):
        """A composite: its body runs as a Seq on itself, other branches as child Seqs; the
        layer's own ``join_torch`` (residual add, concat, sum) joins them."""

        def __init__(self, layer):
            super().__init__()
            self.layer = layer
            self.branch_names: list[str] = []

        def forward(self, x, env):
            outs = {}
            for seg in self.branch_names:
                # a branch is called as a module (not .run) so tracers record its scope
                outs[seg] = self.run(x, env) if seg == "" else self._modules[seg](x, env)
            return self.layer.join_torch(x, outs)

    class SpecModule(Seq):
        """The whole spec: ``forward(*inputs)`` in the spec's input order."""

        def __init__(self, name, input_names):
            super().__init__()
            self.spec_name = name
            self.input_names = list(input_names)

        def forward(self, *inputs):
            return self.run(inputs[0], Env(zip(self.input_names, inputs)))

    return Seq, Repeat, Block, SpecModule


class _Builder:
    def __init__(self, walker):
        self.w = walker
        self.built: dict[str, object] = {}

    def seq_into(self, target, nodes, prefix: str):
        """Register each node's module on ``target`` under its path segment."""
        for node in nodes:
            seg = node.path[len(prefix) + 1:] if prefix else node.path
            target.add(seg, node.path, self.node(node), node.layer.from_)

    def node(self, node):
        Seq, Repeat, Block, _ = _classes()
        if node.share_from is not None and node.share_from in self.built:
            module = self.built[node.share_from]
        elif node.group:
            module = Repeat(node.path)
            for child in node.children:
                module.add(self.node(child))
        elif node.layer.composite:
            module = Block(node.layer)
            for seg, _ in node.layer.branches():
                module.branch_names.append(seg)
                kids = [c for c in node.children if _branch_of(c.path, node) == seg]
                if seg == "":
                    self.seq_into(module, kids, node.path)
                else:
                    sub = Seq()
                    module.add_module(seg, sub)
                    self.seq_into(sub, kids, f"{node.path}.{seg}")
        else:
            ctx = Ctx(env=self.w.env, causal=self.w.causal, path=node.path)
            module = node.layer.build(node.inp, ctx)
        self.built[node.path] = module
        return module


def _branch_of(path: str, node) -> str:
    """Which branch of the composite ``node`` the direct child at ``path`` belongs to."""
    rest = path[len(node.path) + 1:]
    for seg, _ in node.layer.branches():
        if seg and rest.startswith(seg + "."):
            return seg
    return ""


def _skip_init(torch):
    """A mode in which the in-place ``torch.nn.init`` functions that honour
    ``__torch_function__`` modes (``uniform_``, ``normal_``, ``kaiming_uniform_``,
    ``constant_``: what linear, convolution, embedding and recurrent layers draw their
    weights with) leave their tensor as allocated, unwritten. On CPU those weights' memory is
    then never touched: address space, not resident memory, until a kernel reads it (the
    counters read shapes; the values are whatever the allocator returned). ``zeros_`` and
    ``ones_`` (norm scales and shifts), ``xavier_*_`` and ``trunc_normal_`` do not honour
    modes in torch 2.13 and still write."""
    from torch.overrides import TorchFunctionMode

    inits = {f for n, f in vars(torch.nn.init).items()
             if callable(f) and n.endswith("_") and not n.startswith("_")
             and getattr(f, "__module__", "") == "torch.nn.init"}

    class SkipInit(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            tensor = args[0] if args else kwargs.get("tensor")
            if func in inits and isinstance(tensor, torch.Tensor):
                return tensor
            return func(*args, **kwargs)

    return SkipInit()


def build_module(spec, device: str = "meta", *, causal: str = "full", init: bool = True):
    """Build the spec as an ``nn.Module`` on ``device`` ('meta' allocates nothing).

    Parameter names equal ``<layer path>.<tensor name>`` as the analytic formulas name them.
    The module is returned in eval mode. ``init=False``: the ``torch.nn.init`` functions
    that modules' constructors call are skipped, for a build that is only counted (the
    counters read shapes, never values): its weights hold whatever memory the allocator
    returned, never written (drawing ResNet-152's 60M initial weights costs 0.45 s of CPU;
    writing zeros made all 240 MB resident). On the meta device there are no values to
    initialise: ``init`` is ignored there and nothing is drawn (``normal_`` on meta is
    torch's Python reference code, whose first call imports ``torch._dynamo``).
    """
    torch = require("torch", "torch")
    from ..analytic import load_spec, walk

    spec = load_spec(spec)
    w = walk(spec, causal)
    _, _, _, SpecModule = _classes()
    b = _Builder(w)
    skip = not init or torch.device(device).type == "meta"
    with paused_gc(), (_skip_init(torch) if skip else contextlib.nullcontext()), \
            torch.device(device):
        root = SpecModule(spec.name, spec.inputs)
        b.seq_into(root, w.top, "")
        for (lpath, tname), (spath, sname) in w.alias.items():
            if lpath in b.built and spath in b.built and b.built[lpath] is not b.built[spath]:
                setattr(b.built[lpath], tname, getattr(b.built[spath], sname))
    root.eval()
    return root


def build_layers(layers, x, ctx=None):
    """Build a list of parsed layers taking input shape ``x`` as one module, on the default
    device (a composite on its own: the registry-driven tests of composite kinds)."""
    from ..spec.model import Input, Spec

    spec = Spec(name="layers", layers=list(layers), inputs={"x": Input("x", tuple(x), False)})
    return build_module(spec, device=_default_device())


def _default_device():
    import torch

    return torch.get_default_device()


def example_inputs(spec, device: str = "meta", batch: int = 1, seed: int = 0) -> tuple:
    """One example input per spec input, with a batch dimension: token ids below the smallest
    embedding vocabulary (random integers), float features from a normal distribution."""
    torch = require("torch", "torch")
    from ..analytic import load_spec, walk

    spec = load_spec(spec)
    w = walk(spec)
    vocabs = [n.layer.vocab for n in w.leaves.values() if getattr(n.layer, "takes_ids", False)]
    vocab = min(vocabs) if vocabs else 2
    gen = torch.Generator().manual_seed(seed)
    out = []
    for inp in spec.inputs.values():
        shape = (batch, *inp.shape)
        if device == "meta":
            dtype = torch.long if inp.ids else torch.float32
            out.append(torch.empty(shape, dtype=dtype, device="meta"))
        elif inp.ids:
            out.append(torch.randint(0, vocab, shape, generator=gen).to(device))
        else:
            out.append(torch.randn(shape, generator=gen).to(device))
    return tuple(out)


class _Env(Env):
    """A spec run's environment (:class:`Env`) that records every layer output in the order
    the layers run."""

    def __init__(self, *a):
        super().__init__(*a)
        self.written = []

    def __setitem__(self, key, value):
        self.written.append(value)
        super().__setitem__(key, value)


def _is_spec_build(model) -> bool:
    return bool(getattr(model, "steps", None)) and hasattr(model, "input_names")


def _return_also(model, pick) -> None:
    """``model.forward`` returns the spec's output, then ``pick(env.written)``."""
    import types

    def forward(self, *inputs):
        env = _Env(zip(self.input_names, inputs))
        out = self.run(inputs[0], env)
        return (out, *pick(env.written))

    model.forward = types.MethodType(forward, model)


def _reached(roots) -> set:
    """Every autograd node that the tensors ``roots`` were computed through."""
    seen: set = set()
    todo = [t.grad_fn for t in roots if t.grad_fn is not None]
    while todo:
        fn = todo.pop()
        if fn in seen:
            continue
        seen.add(fn)
        todo += [nxt for nxt, _ in fn.next_functions if nxt is not None]
    return seen


def expose_dead_ends(model, inputs) -> int:
    """Make the exported graph keep layers whose output the spec discards.

    A spec may run a layer whose output nothing reads (the seq2seq encoder, when the next
    layer takes ``from: tgt``; a structure module's per-layer heads whose copies all read
    ``from:`` the same value); a tracing exporter prunes such dead code, weights and all, and
    the graph would undercount. One run with autograd finds them: every layer output (at
    every use of a shared module) that the spec's output was not computed from, latest first,
    is returned as an extra graph output (``unused_0``...); the spec's output stays first.
    Returns the number of extra outputs (0 when the module is not a spec build); the ONNX
    export uses it (few extra graph outputs), and ``model.__dict__.pop("forward")`` undoes it.
    """
    import torch

    if not _is_spec_build(model):
        return 0
    with torch.enable_grad():
        env = _Env(zip(model.input_names, inputs))
        out = model.run(inputs[0], env)
        alive = _reached([out])
        keep = []
        for j in range(len(env.written) - 1, -1, -1):
            t = env.written[j]
            if isinstance(t, torch.Tensor) and t.grad_fn is not None and t.grad_fn not in alive:
                keep.append(j)
                alive |= _reached([t])
    if not keep:
        return 0
    keep.reverse()
    _return_also(model, lambda written: [written[j] for j in keep])
    return len(keep)


def expose_layer_outputs(model) -> bool:
    """Make a traced graph keep every layer: each layer output (at every use of a shared
    module), in the order the layers run, is returned after the spec's own output.

    What a tracer then keeps is what :func:`expose_dead_ends` makes it keep (every op that
    some layer output is computed from), without the extra run with autograd that finds the
    discarded outputs (on the meta device, a second pass through torch's Python meta kernels:
    0.6 s of a full-size LSTM seq2seq). For a tracing counter (fvcore), whose graph outputs
    cost nothing. Returns False when the module is not a spec build;
    ``model.__dict__.pop("forward")`` undoes it."""
    import torch

    if not _is_spec_build(model):
        return False
    _return_also(model, lambda written: [t for t in written if isinstance(t, torch.Tensor)])
    return True
