"""Training memory of one step, measured on fake tensors with PyTorch's own machinery.

The model is materialised on fake tensors (``torch._subclasses.FakeTensorMode``: shapes,
dtypes and allocations are real to PyTorch, no bytes are); a first forward records what autograd
saves, a first optimizer update (on stand-in zero gradients) creates the optimizer states, and
one whole training step is then measured:

* **weights, gradients, optimizer states**: the ``nbytes`` of the tensors the step holds
  (the module's parameters, their ``.grad`` after the measured step's backward, the
  ``torch.optim`` state and, in mixed precision, the fp32 master copies the optimizer updates);
* **activations**: what autograd saves for the backward, seen through
  ``torch.autograd.graph.saved_tensors_hooks`` during the forward: unique storages, parameters
  excluded, attributed to the modules running (``ModTracker``);
* **peak**: ``torch.distributed._tools.mem_tracker.MemTracker``, which follows every
  allocation and free of the step (forward, backward, optimizer) and keeps the peak.

Precisions (the training recipes of Micikevicius et al. 2018 and ZeRO, Rajbhandari et al.
2020 s3.1): ``fp32``: weights, gradients and states in fp32; ``bf16-mixed`` / ``fp16-mixed``:
the model in 16 bits (weights, gradients, activations), the optimizer on fp32 master weights
(gradients upcast into the masters' ``.grad`` at the update, copied back after).
"""
from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional

from ..errors import InputError, ModelError, require

PRECISIONS = ("fp32", "bf16-mixed", "fp16-mixed")


@dataclass
class MeasuredMemory:
    """Bytes of one training step, measured. ``per_module``: activation bytes per module path
    (inclusive); ``peak_phase`` where the peak happened."""

    name: str
    precision: str
    optimizer: str
    params: int
    trainable_params: int
    weights: int
    gradients: int
    optimizer_states: int
    activations: int
    peak: int
    per_module: dict[str, int] = field(default_factory=dict)
    tracker_peak: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"name": self.name, "precision": self.precision, "optimizer": self.optimizer,
                "params": self.params, "trainable_params": self.trainable_params,
                "weights": self.weights, "gradients": self.gradients,
                "optimizer_states": self.optimizer_states, "activations": self.activations,
                "peak": self.peak, "activations_per_module": dict(self.per_module),
                "memtracker_peak_by_category": dict(self.tracker_peak),
                "notes": list(self.notes)}


def measure_train_memory(model, inputs=None, *, precision: str = "bf16-mixed",
                         optimizer: str = "adamw", name: Optional[str] = None,
                         loss_fn=None) -> MeasuredMemory:
    """Measure one training step's memory of ``model`` (built on meta or any device; the model
    itself is not touched: a meta copy is materialised on fake tensors)."""
    torch = require("torch", "torch")
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker
    from torch.distributed._tools.mod_tracker import ModTracker

    from .torch_count import _prepare_inputs, _takes_token_ids
    from .train_step import _default_loss, make_optimizer

    if precision not in PRECISIONS:
        raise InputError(f"precision {precision!r}: one of {', '.join(PRECISIONS)} (fp8 "
                         "training keeps 16-bit weights and fp32 masters: use bf16-mixed)")
    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"measure_train_memory needs a torch.nn.Module, got {type(model).__name__}")
    mixed = precision != "fp32"
    dtype = {"fp32": torch.float32, "bf16-mixed": torch.bfloat16,
             "fp16-mixed": torch.float16}[precision]
    name = name or type(model).__name__
    ids = _takes_token_ids(model, torch)

    if not _on_meta(model, torch):
        raise ModelError("measure_train_memory: build the model on the meta device "
                         "(with torch.device('meta'): ...) so no weights are copied")
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    if frozen:
        # torch's MemTracker (2.13) hooks the gradient of every parameter it sees and raises
        # on one that does not require grad: refuse in one line rather than fail inside it
        raise ModelError(f"measure_train_memory: {len(frozen)} frozen parameter(s) ("
                         f"{', '.join(frozen[:3])}{', ...' if len(frozen) > 3 else ''}): "
                         "torch's memory tracker cannot measure a step with frozen "
                         "parameters; measure with every parameter trainable, or use the "
                         "formula (estimator.costs.memory.training_memory)")
    m = copy.deepcopy(model).to(dtype)  # meta: nothing is copied
    with FakeTensorMode(allow_non_fake_inputs=True):
        m = m.to_empty(device="cpu")
        m.train(True)
        params = [p for p in m.parameters()]
        trainable = [p for p in params if p.requires_grad]
        args, kwargs = _prepare_inputs(inputs, dtype, False, torch, ids_default=ids)
        if mixed:
            masters = [p.detach().float().requires_grad_(True) for p in trainable]
            opt = make_optimizer(optimizer, masters, torch) if optimizer != "none" else None
        else:
            masters = []
            opt = make_optimizer(optimizer, trainable, torch) if optimizer != "none" else None
        loss_of = loss_fn or (lambda o: _default_loss(o, torch))

        def update():
            if opt is None:
                return
            if mixed:
                for mp, p in zip(masters, trainable):
                    mp.grad = p.grad.float()
                opt.step()
                with torch.no_grad():
                    for mp, p in zip(masters, trainable):
                        p.copy_(mp)
                        mp.grad = None
            else:
                opt.step()

        grads = []

        def step():
            loss = loss_of(m(*args, **kwargs))
            loss.backward()
            grads.append(sum(p.grad.nbytes for p in trainable if p.grad is not None))
            update()
            for p in trainable:
                p.grad = None

        # the activations: what autograd saves, per module
        saved: dict[int, tuple[int, list[str]]] = {}
        pids = {id(p) for p in params}
        tracker = ModTracker()
        root = type(m).__name__

        def pack(t):
            base = t._base if t._base is not None else t
            if id(base) not in pids and id(t) not in pids:
                key = id(base.untyped_storage())
                if key not in saved:
                    paths = [("" if n == root else n[len(root) + 1:]) for n in tracker.parents
                             if n != "Global"]
                    saved[key] = (base.untyped_storage().nbytes(), paths, base)
            return t

        with tracker, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = loss_of(m(*args, **kwargs))
        activations = sum(v[0] for v in saved.values())
        per_module: dict[str, int] = defaultdict(int)
        for nbytes, paths, _ in saved.values():
            for p in set(paths) | {""}:
                per_module[p] += nbytes
        reached = _leaves_reached(loss)
        del loss, saved  # no backward of this forward: the measured step runs its own
        # the first update creates the optimizer states, as a first step would: for the
        # parameters its backward would reach (found in the graph), shaped as they are (the
        # gradients' values never matter), from stand-in gradients; the measured step below
        # computes the real ones
        for p in trainable:
            if id(p) in reached:
                p.grad = torch.zeros_like(p)
        update()
        states = sum(t.nbytes for s in (opt.state.values() if opt else ()) for t in s.values()
                     if isinstance(t, torch.Tensor) and t.dim() > 0)
        states += sum(mp.nbytes for mp in masters)
        for p in trainable:
            p.grad = None

        mt = _peak_tracker(MemTracker)
        mt.track_external(m, opt, *masters) if opt else mt.track_external(m)
        with mt:
            step()
        grads = grads[0]  # what autograd's backward of the measured step produced
        snap = mt.get_tracker_snapshot("peak")
        by_cat = next(iter(snap.values())) if snap else {}
        peak = int(by_cat.get("Total", 0))
        weights = sum(p.nbytes for p in params)
    notes = ["measured on fake tensors: one training step (forward, loss, backward, "
             f"{optimizer} update) after a first update that created the optimizer states"]
    if mixed:
        notes.append(f"{precision}: 16-bit model (weights, gradients, activations), fp32 master "
                     "weights and optimizer states (counted as optimizer states, as ZeRO does)")
    return MeasuredMemory(name=name, precision=precision, optimizer=optimizer,
                          params=sum(p.numel() for p in params),
                          trainable_params=sum(p.numel() for p in trainable), weights=weights,
                          gradients=grads, optimizer_states=states, activations=activations,
                          peak=peak, per_module=dict(per_module),
                          tracker_peak={str(getattr(k, "value", k)): int(v)
                                        for k, v in by_cat.items()}, notes=notes)


def _leaves_reached(loss) -> set[int]:
    """id() of the leaf tensors a backward of ``loss`` would give a ``.grad``: the
    ``AccumulateGrad`` nodes of its autograd graph (a walk of the graph, nothing computed)."""
    from .torch_build import _reached

    return {id(fn.variable) for fn in _reached([loss]) if hasattr(fn, "variable")}


def _peak_tracker(MemTracker):
    """A MemTracker that keeps the step's overall peak (all this module reads) and not every
    module's own: torch's ``_update_peak_stats`` walks every tracked module after every
    operator for those, three quarters of a Llama 2 7B step (measured: 57 of 75 s). The overall
    peak is kept exactly as torch keeps it; a torch without these internals gets the plain
    tracker."""
    from copy import deepcopy

    class PeakTracker(MemTracker):
        def _update_peak_stats(self, peak_state) -> None:
            for dev, snap in self._curr_mem_snap.items():
                if self._peak_mem.get(dev, 0) < snap["Total"]:
                    self._peak_mem[dev] = snap["Total"]
                    self._peak_mem_snap[dev] = deepcopy(snap)

    mt = PeakTracker()
    internals = ("_update_peak_stats", "_curr_mem_snap", "_peak_mem", "_peak_mem_snap")
    return mt if all(hasattr(MemTracker(), a) for a in internals) else MemTracker()


def _on_meta(model, torch) -> bool:
    return all(t.device.type == "meta" for t in list(model.parameters()) + list(model.buffers()))
