"""The ``torch.nn`` twins of the channel layers PyTorch has no class for (``Narrow``, ``GroupSum``), and how
``to_torch`` builds every channel layer (``ChannelShuffle`` is ``nn.ChannelShuffle``)."""

from __future__ import annotations

import functools

from .custom_modules import _import_torch


@functools.cache
def _tensor_custom():
    """The custom ``nn.Module`` classes of the channel layers (built on first use: importing symcnn never imports
    torch). Each keeps its symcnn layer as ``symcnn_layer``, so ``from_torch`` reads it back."""
    nn = _import_torch().nn

    class Narrow(nn.Module):
        """``x.narrow(dim, start, length)`` (symcnn ``Narrow``)."""

        def __init__(self, layer, start: int, length: int):
            super().__init__()
            self.symcnn_layer = layer
            self.dim, self.start, self.length = layer.dim, start, length

        def forward(self, x):
            return x.narrow(self.dim, self.start, self.length)

        def extra_repr(self) -> str:
            return f"dim={self.dim}, start={self.start}, length={self.length}"

    class GroupSum(nn.Module):
        """``x.view(B, groups, C // groups, *spatial).sum(1)`` (symcnn ``GroupSum``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.groups = layer.groups

        def forward(self, x):
            return x.view(x.shape[0], self.groups, x.shape[1] // self.groups, *x.shape[2:]).sum(1)

        def extra_repr(self) -> str:
            return f"groups={self.groups}"

    class GroupSoftmax(GroupSum):
        """``x.view(B, groups, C // groups, *spatial).softmax(1)`` viewed back (symcnn ``GroupSoftmax``)."""

        def forward(self, x):
            return x.view(x.shape[0], self.groups, x.shape[1] // self.groups, *x.shape[2:]).softmax(1).view_as(x)

    class Reshape(nn.Module):
        """``x.view(B, *shape)`` (symcnn ``Reshape``) or ``x.expand(B, *shape)`` (symcnn ``Expand``)."""

        def __init__(self, layer, shape):
            super().__init__()
            self.symcnn_layer = layer
            self.shape = shape

        def forward(self, x):
            return x.view(x.shape[0], *self.shape)

        def extra_repr(self) -> str:
            return f"shape={self.shape}"

    class Expand(Reshape):
        def forward(self, x):
            return x.expand(x.shape[0], *self.shape)

    class ExpandAs(nn.Module):
        """``x.expand_as(other)`` (symcnn ``ExpandAs``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer

        def forward(self, x, other):
            return x.expand_as(other)

    return {c.__name__: c for c in (Narrow, GroupSum, GroupSoftmax, Reshape, Expand, ExpandAs)}


def build_channel_layer(builder, layer, path: str):
    """``to_torch`` of a channel layer (``builder`` is the exporter's ``_Builder``)."""
    if layer.kind == "ChannelShuffle":
        return builder.construct(layer, path, builder.nn.ChannelShuffle, layer.groups)
    if layer.kind == "Narrow":
        start = builder.num(layer, path, "start", layer.start)
        length = builder.num(layer, path, "length", layer.length)
        return _tensor_custom()["Narrow"](layer, start, length)
    if layer.kind in ("Reshape", "Expand"):
        return _tensor_custom()[layer.kind](layer, builder.num(layer, path, "shape", tuple(layer.shape)))
    return _tensor_custom()[layer.kind](layer)
