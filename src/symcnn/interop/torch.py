"""PyTorch in and out: :func:`to_torch` builds a real ``torch.nn.Module`` from a symcnn network,
:func:`from_torch` reads a ``torch.nn.Module`` (through ``torch.fx``) into a symcnn network.

PyTorch is optional (``pip install symcnn[torch]``) and imported only when one of these is called.

``to_torch`` keeps the hyper-parameters and the child names (``nn.Sequential`` for a ``Sequential``; for a
``Graph`` an ``nn.Module`` whose ``forward`` runs the graph's calls in order). Names are PyTorch attribute
names, so a ``"."`` in a symcnn name becomes ``"_"`` (LeNet-5's ``"C1.act"`` is ``C1_act``). Layers without a
PyTorch class become small modules of this file: ``Add``, ``Mul``, ``Concat``, ``CropConcat`` (centre crop,
then ``torch.cat``), ``SpatialPyramidPooling``, a convolution with asymmetric or SAME (stride > 1) padding
(explicit ``F.pad`` then the convolution), and LeNet-5's ``Subsampling2d``, ``ConnectionTableConv2d`` (one
convolution per output map over its table row) and ``RBF`` (``|x|^2 - 2 x.w + |w|^2``, one matrix
product). Each of those carries its symcnn layer as ``symcnn_layer``, so :func:`from_torch` reads it back.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict

import sympy

from .._errors import SymcnnError
from .._graph import Graph, Sequential
from ..layers import activation as _act
from ..layers import merge as _merge
from ..layers._base import Layer, fmt
from ..layers.conv import _ConvNd, effective_kernel
from ..layers.dense import Flatten, Linear
from ..layers.lenet import RBF, ConnectionTableConv2d, Subsampling2d
from ..layers.norm import _BatchNorm
from ..layers.opaque import Opaque
from ..layers.pool import SpatialPyramidPooling, _AdaptivePoolNd, _AvgPoolNd, _MaxPoolNd
from ..layers.resize import Upsample, _PadNd
from ..layers.transposed import _ConvTransposeNd

__all__ = ["to_torch"]

_INSTALL = "pip install symcnn[torch]"


def _import_torch():
    """``torch`` or a :class:`SymcnnError` saying how to install it."""
    try:
        import torch
    except ImportError:
        raise SymcnnError(
            f"PyTorch is not installed; to_torch/from_torch need it: {_INSTALL} (or pip install torch)"
        ) from None
    return torch


# --- the small modules for layers PyTorch has no class for ---------------------------------------------------

@functools.cache
def _custom():
    """The custom ``nn.Module`` classes (built on first use, so that importing symcnn never imports torch)."""
    torch = _import_torch()
    nn, F = torch.nn, torch.nn.functional

    class Add(nn.Module):
        """Element-wise sum of the inputs (symcnn ``Add``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer

        def forward(self, *xs):
            out = xs[0]
            for y in xs[1:]:
                out = out + y
            return out

    class Mul(Add):
        """Element-wise product of the inputs (symcnn ``Mul``)."""

        def forward(self, *xs):
            out = xs[0]
            for y in xs[1:]:
                out = out * y
            return out

    class Concat(nn.Module):
        """``torch.cat(inputs, dim)`` (symcnn ``Concat``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.dim = layer.dim

        def forward(self, *xs):
            return torch.cat(xs, self.dim)

        def extra_repr(self) -> str:
            return f"dim={self.dim}"

    class CropConcat(Concat):
        """Centre-crop every input to the last one's spatial size, then ``torch.cat`` (U-Net skips)."""

        def forward(self, *xs):
            ref = xs[-1]
            cropped = []
            for x in xs:
                for axis in range(2, x.dim()):
                    size = ref.shape[axis]
                    x = x.narrow(axis, (x.shape[axis] - size) // 2, size)
                cropped.append(x)
            return torch.cat(cropped, self.dim)

    class PaddedConv(nn.Module):
        """A convolution with explicit padding first: asymmetric pairs, or SAME at stride > 1 (per input)."""

        def __init__(self, layer, conv, pads):
            super().__init__()
            self.symcnn_layer = layer
            self.conv = conv  # built with padding 0
            self.pads = pads  # per axis (left, right), or None for SAME computed from the input size
            self.mode = "constant" if layer.padding_mode == "zeros" else layer.padding_mode

        def forward(self, x):
            pads = self.pads
            if pads is None:
                pads = []
                for w, k, s, d in zip(x.shape[2:], self.conv.kernel_size, self.conv.stride, self.conv.dilation,
                                      strict=True):
                    total = max((-(-w // s) - 1) * s + d * (k - 1) + 1 - w, 0)
                    pads.append((total // 2, total - total // 2))
            flat = [p for pair in reversed(pads) for p in pair]
            return self.conv(F.pad(x, flat, mode=self.mode))

    class SpatialPyramidPooling(nn.Module):
        """Pool each map to ``n x n`` bins per level (window ``ceil(W/n)``, stride ``floor(W/n)``), concat."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.levels = tuple(int(n) for n in layer.levels)
            self.mode = layer.mode

        def forward(self, x):
            pool = F.max_pool2d if self.mode == "max" else F.avg_pool2d
            outs = []
            for n in self.levels:
                window = tuple(-(-w // n) for w in x.shape[2:])
                stride = tuple(w // n for w in x.shape[2:])
                outs.append(torch.flatten(pool(x, window, stride), 1))
            return torch.cat(outs, 1)

    class Subsampling2d(nn.Module):
        """LeNet-5's trainable subsampling: ``(sum of a k x k block) * w_c + b_c``."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            c = int(layer.channels)
            self.kernel_size = tuple(int(k) for k in layer.kernel_size)
            self.stride = tuple(int(s) for s in layer.stride)
            self.weight = nn.Parameter(torch.ones(c))
            self.bias = nn.Parameter(torch.zeros(c))

        def forward(self, x):
            block_sum = F.avg_pool2d(x, self.kernel_size, self.stride) * math.prod(self.kernel_size)
            return block_sum * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    class ConnectionTableConv2d(nn.Module):
        """LeNet-5's C3: output map ``m`` convolves the input maps ``table[m]`` only (one weight per link)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.table = layer.table
            kernel = tuple(int(k) for k in layer.kernel_size)
            self.stride = tuple(int(s) for s in layer.stride)
            self.padding = tuple(int(p) for p in layer.padding)
            self.weights = nn.ParameterList(
                nn.Parameter(torch.empty(1, len(row), *kernel).uniform_(-0.1, 0.1)) for row in self.table
            )
            self.bias = nn.Parameter(torch.zeros(len(self.table))) if layer.bias else None

        def forward(self, x):
            outs = [F.conv2d(x[:, list(row)], w, None, self.stride, self.padding)
                    for row, w in zip(self.table, self.weights, strict=True)]
            y = torch.cat(outs, 1)
            return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)

    class RBF(nn.Module):
        """LeNet-5's Euclidean RBF output: ``y_j = |x - w_j|^2`` with fixed prototypes (a buffer)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            shape = (int(layer.out_features), int(layer.in_features))
            self.register_buffer("prototypes", torch.empty(shape).uniform_(-1, 1).sign())

        def forward(self, x):
            w = self.prototypes
            return (x * x).sum(-1, keepdim=True) - 2 * (x @ w.t()) + (w * w).sum(-1)

    class GraphModule(nn.Module):
        """A symcnn ``Graph``: ``forward`` runs the recorded calls in order."""

        def __init__(self, steps, out):
            super().__init__()
            self.steps = steps  # (child name, indices of its inputs; 0 is the graph input)
            self.out = out

        def forward(self, x):
            values = [x]
            for name, refs in self.steps:
                values.append(self._modules[name](*[values[i] for i in refs]))
            return values[self.out]

    return {c.__name__: c for c in (Add, Mul, Concat, CropConcat, PaddedConv, SpatialPyramidPooling,
                                    Subsampling2d, ConnectionTableConv2d, RBF, GraphModule)}


# --- to_torch --------------------------------------------------------------------------------------------------

class _Builder:
    """Turns symcnn layers and networks into torch modules; a layer object used twice gives one module."""

    def __init__(self, torch):
        self.torch = torch
        self.nn = torch.nn
        self.custom = _custom()
        self.memo: dict[int, object] = {}

    def build(self, obj, path: str):
        if id(obj) in self.memo:
            return self.memo[id(obj)]
        for cls in type(obj).__mro__:
            method = _TO_TORCH.get(cls)
            if method is not None:
                break
        else:
            raise SymcnnError(
                f"to_torch: '{path or 'model'}' is a {type(obj).__name__}, which has no PyTorch counterpart"
            )
        module = method(self, obj, path)
        self.memo[id(obj)] = module
        return module

    # helpers
    def num(self, layer, path: str, name: str, value):
        items = value if isinstance(value, tuple) else (value,)
        for v in items:
            if isinstance(v, sympy.Basic) and not v.is_Integer:
                raise SymcnnError(
                    f"to_torch: layer '{path or layer.kind}' ({layer!r}): `{name}`={fmt(value)} is symbolic; a torch "
                    "module needs numbers (build the layer with ints, or substitute them first)"
                )
        if isinstance(value, tuple):
            return tuple(int(v) if isinstance(v, sympy.Basic) else v for v in value)
        return int(value) if isinstance(value, sympy.Basic) else value

    def refuse(self, layer, path: str, why: str):
        raise SymcnnError(f"to_torch: layer '{path or layer.kind}' ({layer!r}): {why}")

    def construct(self, layer, path: str, ctor, *args, **kwargs):
        try:
            return ctor(*args, **kwargs)
        except (TypeError, ValueError, RuntimeError) as e:
            raise SymcnnError(f"to_torch: layer '{path or layer.kind}' ({layer!r}): torch refused it: {e}") from None

    # networks
    def sequential(self, seq: Sequential, path: str):
        children = OrderedDict()
        for name, child in seq.named_children():
            key = _attr_name(name, children)
            children[key] = self.build(child, _join(path, name))
        return self.nn.Sequential(children)

    def graph(self, g: Graph, path: str):
        index = {g.inputs._id: 0}
        steps, children = [], OrderedDict()
        for node in g._order:
            if node.module is None:
                continue
            key = _attr_name(node.name, children)
            children[key] = self.build(node.module, _join(path, node.name))
            steps.append((key, tuple(index[i._id] for i in node.inputs)))
            index[node._id] = len(steps)
        module = self.custom["GraphModule"](steps, index[g.outputs._id])
        for key, child in children.items():
            module.add_module(key, child)
        return module

    # layers
    def conv(self, layer: _ConvNd, path: str):
        n = layer._dims
        cls = getattr(self.nn, f"Conv{n}d")
        args = {k: self.num(layer, path, k, getattr(layer, k))
                for k in ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups")}
        mode = layer.padding_mode
        if layer.padding == "same" and all(s == 1 for s in args["stride"]):
            return self.construct(layer, path, cls, **args, padding="same", bias=layer.bias, padding_mode=mode)
        if layer.padding == "same":  # SAME at stride > 1: the padding depends on the input size
            conv = self.construct(layer, path, cls, **args, padding=0, bias=layer.bias)
            return self.custom["PaddedConv"](layer, conv, None)
        if layer.padding == "full":
            pads = tuple((int(effective_kernel(k, d)) - 1,) * 2 for k, d in zip(args["kernel_size"], args["dilation"],
                                                                              strict=True))
        elif layer.padding == "valid":
            pads = ((0, 0),) * n
        else:
            pads = tuple(self.num(layer, path, "padding", pair) for pair in layer.padding)
        if all(a == b for a, b in pads):
            return self.construct(layer, path, cls, **args, padding=tuple(a for a, _ in pads), bias=layer.bias,
                                  padding_mode=mode)
        conv = self.construct(layer, path, cls, **args, padding=0, bias=layer.bias)
        return self.custom["PaddedConv"](layer, conv, pads)

    def conv_transpose(self, layer: _ConvTransposeNd, path: str):
        cls = getattr(self.nn, f"ConvTranspose{layer._dims}d")
        args = {k: self.num(layer, path, k, getattr(layer, k))
                for k in ("in_channels", "out_channels", "kernel_size", "stride", "output_padding", "groups",
                          "dilation")}
        pads = tuple(self.num(layer, path, "padding", pair) for pair in layer.padding)
        if any(a != b for a, b in pads):
            self.refuse(layer, path, f"asymmetric `padding`={pads} has no nn.ConvTranspose{layer._dims}d equivalent")
        return self.construct(layer, path, cls, **args, padding=tuple(a for a, _ in pads), bias=layer.bias)

    def _pool_args(self, layer, path: str):
        pads = tuple(self.num(layer, path, "padding", pair) for pair in layer.padding)
        if any(a != b for a, b in pads):
            self.refuse(layer, path, f"asymmetric `padding`={pads} has no PyTorch pooling equivalent")
        return {"kernel_size": self.num(layer, path, "kernel_size", layer.kernel_size),
                "stride": self.num(layer, path, "stride", layer.stride),
                "padding": tuple(a for a, _ in pads), "ceil_mode": layer.ceil_mode}

    def max_pool(self, layer: _MaxPoolNd, path: str):
        if layer.return_indices:
            self.refuse(layer, path, "`return_indices`=True returns a tuple; use return_indices=False")
        cls = getattr(self.nn, f"MaxPool{layer._dims}d")
        return self.construct(layer, path, cls, **self._pool_args(layer, path),
                              dilation=self.num(layer, path, "dilation", layer.dilation))

    def avg_pool(self, layer: _AvgPoolNd, path: str):
        cls = getattr(self.nn, f"AvgPool{layer._dims}d")
        args = self._pool_args(layer, path)
        if layer._dims == 1:  # nn.AvgPool1d has no divisor_override
            if layer.divisor_override is not None:
                self.refuse(layer, path, "nn.AvgPool1d has no `divisor_override`")
            return self.construct(layer, path, cls, **args, count_include_pad=layer.count_include_pad)
        div = None if layer.divisor_override is None else self.num(layer, path, "divisor_override",
                                                                   layer.divisor_override)
        return self.construct(layer, path, cls, **args, count_include_pad=layer.count_include_pad,
                              divisor_override=div)

    def adaptive(self, layer: _AdaptivePoolNd, path: str):
        cls = getattr(self.nn, f"Adaptive{layer._op.capitalize()}Pool{layer._dims}d")
        size = tuple(None if o is None else self.num(layer, path, "output_size", o) for o in layer.output_size)
        return self.construct(layer, path, cls, size)

    def spp(self, layer: SpatialPyramidPooling, path: str):
        self.num(layer, path, "levels", layer.levels)
        return self.custom["SpatialPyramidPooling"](layer)

    def linear(self, layer: Linear, path: str):
        return self.construct(layer, path, self.nn.Linear, self.num(layer, path, "in_features", layer.in_features),
                              self.num(layer, path, "out_features", layer.out_features), bias=layer.bias)

    def flatten(self, layer: Flatten, path: str):
        return self.nn.Flatten(layer.start_dim, layer.end_dim)

    def batch_norm(self, layer: _BatchNorm, path: str):
        cls = getattr(self.nn, layer.kind)
        return self.construct(layer, path, cls, self.num(layer, path, "num_features", layer.num_features),
                              affine=layer.affine, track_running_stats=layer.track_running_stats)

    def elementwise(self, layer, path: str):
        cls = getattr(self.nn, layer.kind, None)
        if cls is None:
            self.refuse(layer, path, f"torch.nn has no {layer.kind}")
        return self.construct(layer, path, cls, *layer.args, **layer.kwargs)

    def prelu(self, layer: _act.PReLU, path: str):
        return self.nn.PReLU(self.num(layer, path, "num_parameters", layer.num_parameters))

    def upsample(self, layer: Upsample, path: str):
        size = scale = None
        if layer.size is not None:
            size = self.num(layer, path, "size", layer.size)
            size = size[0] if len(size) == 1 else size
        else:
            scale = tuple(float(r) for r in layer.scale_factor)
            scale = scale[0] if len(scale) == 1 else scale
        return self.construct(layer, path, self.nn.Upsample, size=size, scale_factor=scale, mode=layer.mode,
                              align_corners=layer.align_corners)

    def pad(self, layer: _PadNd, path: str):
        cls = getattr(self.nn, layer.kind, None)
        if cls is None:
            self.refuse(layer, path, f"torch.nn has no {layer.kind}")
        flat = tuple(self.num(layer, path, "padding", p) for pair in layer.padding[::-1] for p in pair)
        if layer.kind.startswith("ConstantPad"):
            return self.construct(layer, path, cls, flat, layer.value)
        return self.construct(layer, path, cls, flat)

    def own(self, kind: str, layer, path: str):
        """One of this file's modules (merges, LeNet-5's layers); their numeric arguments are checked first."""
        for name in ("channels", "in_channels", "out_channels", "in_features", "out_features", "kernel_size",
                     "stride", "padding"):
            if hasattr(layer, name):
                self.num(layer, path, name, getattr(layer, name))
        return self.custom[kind](layer)

    def opaque(self, layer: Opaque, path: str):
        self.refuse(layer, path, "an Opaque layer has formulas but no computation; it has no torch module")


def _own(kind: str):
    return lambda builder, layer, path: builder.own(kind, layer, path)


_TO_TORCH = {
    Sequential: _Builder.sequential,
    Graph: _Builder.graph,
    _ConvTransposeNd: _Builder.conv_transpose,
    _ConvNd: _Builder.conv,
    _MaxPoolNd: _Builder.max_pool,
    _AvgPoolNd: _Builder.avg_pool,
    _AdaptivePoolNd: _Builder.adaptive,
    SpatialPyramidPooling: _Builder.spp,
    Linear: _Builder.linear,
    Flatten: _Builder.flatten,
    _BatchNorm: _Builder.batch_norm,
    _act._Elementwise: _Builder.elementwise,
    _act.PReLU: _Builder.prelu,
    Upsample: _Builder.upsample,
    _PadNd: _Builder.pad,
    _merge.CropConcat: _own("CropConcat"),
    _merge.Concat: _own("Concat"),
    _merge.Mul: _own("Mul"),
    _merge.Add: _own("Add"),
    Subsampling2d: _own("Subsampling2d"),
    ConnectionTableConv2d: _own("ConnectionTableConv2d"),
    RBF: _own("RBF"),
    Opaque: _Builder.opaque,
}


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


_RESERVED = frozenset({"training", "forward", "steps", "out", "dim"})


def _attr_name(name: str, taken) -> str:
    """A valid, unused ``nn.Module`` child name: dots become underscores, clashes get a trailing ``_``."""
    key = name.replace(".", "_") or "_"
    while key in taken or key in _RESERVED:
        key += "_"
    return key


def to_torch(model):
    """A ``torch.nn.Module`` with the same layers, hyper-parameters and child names as ``model``.

    Args:
        model: a symcnn layer, ``Sequential`` or ``Graph`` (zoo models included) whose arguments are numbers.

    Returns:
        ``nn.Sequential`` for a ``Sequential``, an ``nn.Module`` running the graph for a ``Graph``, the
        matching ``torch.nn`` module for a layer. A layer object used twice becomes one shared module.

    Raises:
        SymcnnError: PyTorch is missing, an argument is symbolic, or a layer has no PyTorch form.

    >>> import symcnn as sc
    >>> m = sc.to_torch(sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.ReLU()))  # doctest: +SKIP
    >>> m                                                                          # doctest: +SKIP
    Sequential(
      (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (1): ReLU()
    )
    """
    torch = _import_torch()
    if not isinstance(model, (Layer, Sequential, Graph)):
        raise SymcnnError(f"to_torch: `model` is a {type(model).__name__}; expected a symcnn layer, Sequential "
                          "or Graph")
    return _Builder(torch).build(model, "")
