"""Measuring a torch twin's training step: FlopCounterMode FLOPs and the bytes autograd saves (test helper)."""

from __future__ import annotations

import torch
from torch.utils.checkpoint import checkpoint as torch_checkpoint
from torch.utils.flop_counter import FlopCounterMode

import symcnn as sc


class Checkpointed(torch.nn.Module):
    """Runs ``inner`` under ``torch.utils.checkpoint`` (non-reentrant)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, *xs):
        return torch_checkpoint(self.inner, *xs, use_reentrant=False)


def twin(model, *, frozen=(), inplace=False, checkpoint=()):
    """The torch module of ``model`` in train mode with frozen submodules, in-place activations and segments."""
    torch.manual_seed(0)
    m = sc.to_torch(model)
    for name in frozen:
        for p in m.get_submodule(name).parameters():
            p.requires_grad_(False)
    if inplace:
        for mod in m.modules():
            if hasattr(mod, "inplace") and not isinstance(mod, torch.nn.modules.dropout._DropoutNd):
                mod.inplace = True
    for name in checkpoint:
        parent, _, child = name.rpartition(".")
        owner = m.get_submodule(parent) if parent else m
        setattr(owner, child, Checkpointed(owner.get_submodule(child)))
    return m.train()


def measure(module, shape, batch, *, autocast=None):
    """(FlopCounterMode FLOPs of forward + backward, bytes of the unique saved storages that are not
    parameters or buffers)."""
    own = {t.untyped_storage().data_ptr() for t in [*module.parameters(), *module.buffers()]}
    x = torch.randn(batch, *shape)
    seen: dict[int, int] = {}

    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in own and st.nbytes():
            seen[st.data_ptr()] = st.nbytes()
        return t

    counter = FlopCounterMode(display=False)
    with counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            if autocast:
                with torch.autocast("cpu", dtype=getattr(torch, autocast)):
                    y = module(x)
            else:
                y = module(x)
        saved = sum(seen.values())
        y.float().sum().backward()
    return counter.get_total_flops(), saved
