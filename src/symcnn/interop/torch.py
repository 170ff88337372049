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

import copy
import functools
import math
import operator
import os
import re
from collections import OrderedDict
from dataclasses import dataclass

import sympy

from .._errors import SymcnnError
from .._graph import Graph, Input, Node, Sequential
from ..layers import activation as _act
from ..layers import merge as _merge
from ..layers import pool as _pool
from ..layers._base import Layer, fmt
from ..layers.conv import _ConvNd, effective_kernel
from ..layers.dense import Flatten, Linear
from ..layers.lenet import RBF, ConnectionTableConv2d, Subsampling2d
from ..layers.merge import Add, Concat, Mul, ScalarOp
from ..layers.norm import _BatchNorm
from ..layers.opaque import Opaque
from ..layers.pool import SpatialPyramidPooling, _AdaptivePoolNd, _AvgPoolNd, _MaxPoolNd
from ..layers.resize import Upsample, _PadNd
from ..layers.transposed import _ConvTransposeNd

__all__ = ["to_torch", "from_torch"]

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

    class ScalarOp(nn.Module):
        """``x + value`` or ``x * value`` (symcnn ``ScalarOp``), written with the operators."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.op, self.value = layer.op, layer.value

        def forward(self, x):
            return x + self.value if self.op == "add" else x * self.value

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

    return {c.__name__: c for c in (Add, Mul, ScalarOp, Concat, CropConcat, PaddedConv, SpatialPyramidPooling,
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
        elif layer.padding == "valid":  # keep PyTorch's string (it runs as aten::_convolution_mode)
            return self.construct(layer, path, cls, **args, padding="valid", bias=layer.bias, padding_mode=mode)
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
        if layer.kind in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):  # keep the class: tools count it apart
            return self.construct(layer, path, getattr(self.nn, layer.kind), size=size, scale_factor=scale)
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
    _merge.ScalarOp: _own("ScalarOp"),
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


# --- from_torch ------------------------------------------------------------------------------------------------

class _Batch:
    """The batch size read from a tensor (``x.size(0)``, ``x.shape[0]``)."""

    def __repr__(self) -> str:
        return "<batch>"


_BATCH = _Batch()


@dataclass(frozen=True)
class _Dim:
    """Size ``index`` (batch counted) of the tensor ``node``, read in ``forward``."""

    node: object
    index: int


@dataclass(frozen=True)
class _SizeOf:
    """``x.shape`` / ``x.size()`` of the tensor ``node``."""

    node: object


class _Unknown:
    """The value of an operation that could not be converted (reported once, where it happens)."""


_UNKNOWN = _Unknown()


class _Unsupported(Exception):
    """One operation from_torch cannot convert; collected, then reported together."""


def _module_args(m, names):
    return {n: getattr(m, n) for n in names if hasattr(m, n)}


def _from_conv(layer_cls):
    def convert(m):
        padding = m.padding if isinstance(m.padding, str) else tuple(m.padding)
        return layer_cls(m.in_channels, m.out_channels, tuple(m.kernel_size), tuple(m.stride), padding,
                         tuple(m.dilation), m.groups, m.bias is not None, m.padding_mode)
    return convert


def _from_conv_transpose(layer_cls):
    def convert(m):
        return layer_cls(m.in_channels, m.out_channels, tuple(m.kernel_size), tuple(m.stride), tuple(m.padding),
                         tuple(m.output_padding), m.groups, m.bias is not None, tuple(m.dilation), m.padding_mode)
    return convert


def _seq(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _from_max_pool(layer_cls):
    return lambda m: layer_cls(_seq(m.kernel_size), _seq(m.stride), _seq(m.padding), _seq(m.dilation),
                               m.return_indices, m.ceil_mode)


def _from_avg_pool(layer_cls):
    return lambda m: layer_cls(_seq(m.kernel_size), _seq(m.stride), _seq(m.padding), m.ceil_mode,
                               m.count_include_pad, getattr(m, "divisor_override", None))


#: keyword arguments kept when an activation module or function is read (they do not change the counts)
_ACT_ARGS = {
    "LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "CELU": ("alpha",), "GELU": ("approximate",),
    "Hardtanh": ("min_val", "max_val"), "Softplus": ("beta", "threshold"), "Softmax": ("dim",),
    "LogSoftmax": ("dim",), "Dropout": ("p",), "Dropout1d": ("p",), "Dropout2d": ("p",), "Dropout3d": ("p",),
    "AlphaDropout": ("p",),
}


def _from_act(name):
    layer_cls = getattr(_act, name)
    return lambda m: layer_cls(**_module_args(m, _ACT_ARGS.get(name, ())))


def _from_pad(name):
    import symcnn.layers.resize as resize

    layer_cls = getattr(resize, name)
    if name.startswith("ConstantPad"):
        return lambda m: layer_cls(tuple(m.padding), m.value)
    return lambda m: layer_cls(tuple(m.padding))


@functools.cache
def _module_table():
    """Exact ``torch.nn`` class -> converter to a symcnn layer (subclasses are traced, not assumed)."""
    from .. import layers as L

    nn = _import_torch().nn
    table = {}
    for n in (1, 2, 3):
        table[getattr(nn, f"Conv{n}d")] = _from_conv(getattr(L, f"Conv{n}d"))
        table[getattr(nn, f"ConvTranspose{n}d")] = _from_conv_transpose(getattr(L, f"ConvTranspose{n}d"))
        table[getattr(nn, f"MaxPool{n}d")] = _from_max_pool(getattr(L, f"MaxPool{n}d"))
        table[getattr(nn, f"AvgPool{n}d")] = _from_avg_pool(getattr(L, f"AvgPool{n}d"))
        for op in ("Avg", "Max"):
            name = f"Adaptive{op}Pool{n}d"
            table[getattr(nn, name)] = (lambda c: lambda m: c(_seq(m.output_size)))(getattr(L, name))
        table[getattr(nn, f"BatchNorm{n}d")] = (lambda c: lambda m: c(
            m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats))(getattr(L, f"BatchNorm{n}d"))
        for kind in ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad"):
            if hasattr(nn, f"{kind}{n}d"):
                table[getattr(nn, f"{kind}{n}d")] = _from_pad(f"{kind}{n}d")
    table[nn.Linear] = lambda m: L.Linear(m.in_features, m.out_features, m.bias is not None)
    table[nn.Flatten] = lambda m: L.Flatten(m.start_dim, m.end_dim)
    table[nn.PReLU] = lambda m: L.PReLU(m.num_parameters)
    table[nn.Upsample] = lambda m: L.Upsample(_seq(m.size), _seq(m.scale_factor), m.mode, m.align_corners)
    # the subclasses stay themselves: the counting tools treat them apart (ptflops counts them once)
    table[nn.UpsamplingNearest2d] = lambda m: L.UpsamplingNearest2d(_seq(m.size), _seq(m.scale_factor))
    table[nn.UpsamplingBilinear2d] = lambda m: L.UpsamplingBilinear2d(_seq(m.size), _seq(m.scale_factor))
    for name in _act.__all__:
        if name != "PReLU" and hasattr(nn, name):
            table[getattr(nn, name)] = _from_act(name)
    return table


def _functional_table():
    """Functions (``call_function`` targets) and tensor methods (``call_method`` names) -> handler names."""
    torch = _import_torch()
    F = torch.nn.functional
    table = {operator.add: "add", operator.iadd: "add", torch.add: "add", "add": "add", "add_": "add",
             operator.mul: "mul", operator.imul: "mul", torch.mul: "mul", "mul": "mul", "mul_": "mul",
             torch.cat: "cat", torch.concat: "cat", torch.concatenate: "cat",
             torch.flatten: "flatten", "flatten": "flatten", "view": "view", "reshape": "view",
             torch.reshape: "view", "size": "size", getattr: "getattr", operator.getitem: "getitem",
             "contiguous": "same", "clone": "same", "detach": "same",
             F.interpolate: "interpolate", F.pad: "pad", torch.mean: "mean", "mean": "mean"}
    acts = {
        "ReLU": (F.relu, F.relu_, torch.relu, torch.relu_, "relu", "relu_"), "ReLU6": (F.relu6,),
        "LeakyReLU": (F.leaky_relu,), "ELU": (F.elu,), "SELU": (F.selu, torch.selu), "CELU": (F.celu,),
        "GELU": (F.gelu,), "SiLU": (F.silu,), "Mish": (F.mish,), "Hardswish": (F.hardswish,),
        "Hardsigmoid": (F.hardsigmoid,), "Hardtanh": (F.hardtanh,), "Softplus": (F.softplus,),
        "Sigmoid": (F.sigmoid, torch.sigmoid, "sigmoid", "sigmoid_"), "Tanh": (F.tanh, torch.tanh, "tanh", "tanh_"),
        "Softmax": (F.softmax, torch.softmax, "softmax"), "LogSoftmax": (F.log_softmax, torch.log_softmax),
        "Dropout": (F.dropout, torch.dropout), "Dropout1d": (F.dropout1d,), "Dropout2d": (F.dropout2d,),
        "Dropout3d": (F.dropout3d,), "AlphaDropout": (F.alpha_dropout,),
    }
    for name, targets in acts.items():
        for t in targets:
            table[t] = ("act", name)
    for n in (1, 2, 3):
        table[getattr(F, f"max_pool{n}d")] = ("max_pool", n)
        table[getattr(F, f"avg_pool{n}d")] = ("avg_pool", n)
        table[getattr(F, f"adaptive_avg_pool{n}d")] = ("adaptive", "Avg", n)
        table[getattr(F, f"adaptive_max_pool{n}d")] = ("adaptive", "Max", n)
    return table


#: signatures of the functions read positionally (PyTorch's parameter order and defaults)
_SIGNATURES = {
    "max_pool": (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False),
                 ("return_indices", False)),
    "avg_pool": (("kernel_size", None), ("stride", None), ("padding", 0), ("ceil_mode", False),
                 ("count_include_pad", True), ("divisor_override", None)),
    "adaptive": (("output_size", None), ("return_indices", False)),
    "interpolate": (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
                    ("recompute_scale_factor", None), ("antialias", False)),
    "pad": (("pad", None), ("mode", "constant"), ("value", None)),
    "flatten": (("start_dim", 0), ("end_dim", -1)),
    "cat": (("tensors", None), ("dim", 0)),
}


def _bind(kind: str, args, kwargs) -> dict:
    names = _SIGNATURES[kind]
    out = {n: d for n, d in names}
    known = [n for n, _ in names]
    if len(args) > len(names):
        raise _Unsupported(f"{len(args)} positional arguments; expected at most {len(names)}")
    out.update(zip(known, args, strict=False))
    for k, v in kwargs.items():
        if k not in out:
            raise _Unsupported(f"argument `{k}` is not supported")
        out[k] = v
    return out


def _target_name(target) -> str:
    if isinstance(target, str):
        return f"Tensor.{target}"
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    if name == "boolean_dispatch.<locals>.fn" or name.startswith("_VariableFunctionsClass."):
        name = getattr(target, "__name__", name)
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch._C") or module in ("", "builtins"):
        return name if module in ("", "builtins") else f"torch.{name}"
    return f"{module}.{name}"


def _where(node) -> str:
    """``file:line`` of the user code that produced ``node`` (from fx's recorded stack), or ''."""
    trace = getattr(node, "stack_trace", None) or ""
    found = re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n\s*(.*)', trace)
    torch_dir = os.path.dirname(_import_torch().__file__)
    user = [f for f in found if not f[0].startswith(torch_dir)]
    if not user:
        return ""
    file, line, _, code = user[-1]
    return f" at {os.path.basename(file)}:{line} `{code.strip()}`"


class _Reader:
    """Walks a torch.fx graph and builds the symcnn graph, collecting every unsupported operation."""

    def __init__(self, root, input_shape, custom):
        self.root = root
        self.input_shape = input_shape
        self.custom = custom
        self.table = _module_table()
        self.functions = _functional_table()
        self.own = tuple(_custom().values())
        self.env: dict = {}
        self.unsupported: list[str] = []
        self.layers: dict[int, object] = {}  # id(torch module) -> symcnn layer (a module called twice shares it)
        self.used: dict[str, int] = {}
        self.input = None
        self.output = None

    # the leaf rule shared with the tracer
    def custom_for(self, module, path: str):
        for key in (path, type(module), type(module).__name__):
            if key in self.custom:
                return self.custom[key]
        return None

    def is_leaf(self, module, path: str) -> bool:
        return (self.custom_for(module, path) is not None or type(module) in self.table
                or (isinstance(module, self.own) and hasattr(module, "symcnn_layer")))

    # values
    def value(self, arg):
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.value(a) for a in arg)
        if isinstance(arg, dict):
            return {k: self.value(v) for k, v in arg.items()}
        if type(arg).__name__ == "Node" and hasattr(arg, "op"):
            return self.env[arg]
        return arg

    def name(self, base: str) -> str:
        count = self.used.get(base, 0)
        self.used[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def tensor(self, v, what: str = "input"):
        if v is _UNKNOWN:
            raise _Skip
        if not isinstance(v, Node):
            raise _Unsupported(f"its {what} is {v!r}, not a tensor")
        return v

    def shape(self, node) -> tuple:
        """Symbolic shape (batch excluded) of a tensor value, by analysing the graph built so far."""
        from .._analysis import analyze

        if node is self.input:
            return tuple(self.input_shape)
        return tuple(analyze(Graph(self.input, node), self.input_shape).output_shape)

    def apply(self, layer, inputs, base: str):
        return layer(*inputs, name=self.name(base))

    # the walk
    def run(self, graph):
        for node in graph.nodes:
            try:
                self.env[node] = self.visit(node)
            except _Skip:
                self.env[node] = _UNKNOWN
            except _Unsupported as e:
                self.env[node] = _UNKNOWN
                self.unsupported.append(f"{self.describe(node)}: {e}{_where(node)}")
            except SymcnnError as e:
                self.env[node] = _UNKNOWN
                self.unsupported.append(f"{self.describe(node)}: {e}{_where(node)}")
        return self.output

    def describe(self, node) -> str:
        if node.op == "call_module":
            module = self.root.get_submodule(node.target)
            return f"module '{node.target}' ({type(module).__module__}.{type(module).__name__})"
        if node.op == "get_attr":
            return f"node '{node.name}' (reads attribute '{node.target}')"
        stack = node.meta.get("nn_module_stack") or {}
        inside = ""
        if stack:
            path, kind = list(stack.values())[-1]
            inside = f" in module '{path}' ({getattr(kind, '__qualname__', kind)})"
        return f"node '{node.name}' ({node.op} {_target_name(node.target)}){inside}"

    def visit(self, node):
        if node.op == "placeholder":
            if self.input is not None:
                if node.args:  # an argument with a default value: a constant
                    return node.args[0]
                raise _Unsupported("a second input; from_torch reads models with one input tensor")
            self.input = Input()
            return self.input
        if node.op == "output":
            out = self.value(node.args[0])
            if out is _UNKNOWN:
                raise _Skip
            self.output = self.tensor(out, "output")
            return self.output
        if node.op == "get_attr":
            raise _Unsupported("functional use of a parameter or buffer; wrap it in a module or give "
                               "`custom=` formulas for the module that owns it")
        if node.op == "call_module":
            return self.call_module(node)
        return self.call_function(node)

    def call_module(self, node):
        module = self.root.get_submodule(node.target)
        layer = self.layers.get(id(module))
        if layer is None:
            spec = self.custom_for(module, node.target)
            if spec is not None:
                layer = copy.deepcopy(spec)  # one layer per module: a type-keyed entry must not share parameters
            elif isinstance(module, self.own) and hasattr(module, "symcnn_layer"):
                layer = module.symcnn_layer
            elif type(module) in self.table:
                layer = self.table[type(module)](module)
            else:
                raise _Unsupported("no symcnn formulas for this module type; give them with "
                                   f"custom={{'{node.target}': symcnn.Opaque(...)}}")
            self.layers[id(module)] = layer
        args = self.value(node.args)
        if any(a is _UNKNOWN for a in args):
            raise _Skip
        return self.apply(layer, tuple(self.tensor(a) for a in args), node.target)

    def call_function(self, node):
        target = node.target
        spec = self.custom.get(node.name) or self.custom.get(_target_name(target))
        handler = self.functions.get(target)
        if spec is None and handler is None:
            raise _Unsupported("no symcnn formulas for this operation")
        args, kwargs = self.value(node.args), self.value(node.kwargs)
        if any(a is _UNKNOWN for a in args) or any(v is _UNKNOWN for v in kwargs.values()):
            raise _Skip
        if any(isinstance(a, (list, tuple)) and any(x is _UNKNOWN for x in a) for a in args):
            raise _Skip
        if spec is not None:
            return self.apply(copy.deepcopy(spec), (self.tensor(args[0]),), node.name)
        kind = handler if isinstance(handler, str) else handler[0]
        return getattr(self, f"op_{kind}")(node, handler, args, kwargs)

    # --- operations ---------------------------------------------------------------------------------------
    def op_same(self, node, handler, args, kwargs):
        return self.tensor(args[0])

    def op_act(self, node, handler, args, kwargs):
        name = handler[1]
        keep = {k: v for k, v in kwargs.items() if k in _ACT_ARGS.get(name, ())}
        if name in ("Softmax", "LogSoftmax") and len(args) > 1:
            keep["dim"] = args[1]
        layer = getattr(_act, name)(**keep)
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def _merge(self, node, args, kwargs, layer_cls, scalar_name):
        tensors = [a for a in args[:2] if isinstance(a, Node)]
        if len(tensors) == 2:
            if set(kwargs) - {"alpha"} or kwargs.get("alpha", 1) != 1:
                raise _Unsupported(f"arguments {sorted(kwargs)} are not supported")
            return self.apply(layer_cls(), tensors, node.name)
        if len(tensors) == 1 and all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                     for a in args[:2] if a is not tensors[0]):
            value = next(a for a in args[:2] if a is not tensors[0])
            return self.apply(ScalarOp(scalar_name, value), tensors, node.name)
        raise _Unsupported(f"operands {args!r} are not two tensors or a tensor and a number")

    def op_add(self, node, handler, args, kwargs):
        return self._merge(node, args, kwargs, Add, "add")

    def op_mul(self, node, handler, args, kwargs):
        return self._merge(node, args, kwargs, Mul, "mul")

    def op_cat(self, node, handler, args, kwargs):
        b = _bind("cat", args, kwargs)
        tensors = [self.tensor(t) for t in b["tensors"]]
        if b["dim"] == 0:
            raise _Unsupported("concatenation along the batch dimension (dim=0)")
        if len(tensors) == 1:
            return tensors[0]
        return self.apply(Concat(b["dim"]), tensors, node.name)

    def op_flatten(self, node, handler, args, kwargs):
        b = _bind("flatten", args[1:], kwargs)
        return self.apply(Flatten(b["start_dim"], b["end_dim"]), (self.tensor(args[0]),), node.name)

    def op_size(self, node, handler, args, kwargs):
        x = self.tensor(args[0])
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        if dim is None:
            return _SizeOf(x)
        return _BATCH if dim == 0 else _Dim(x, dim)

    def op_getattr(self, node, handler, args, kwargs):
        if len(args) == 2 and args[1] == "shape":
            return _SizeOf(self.tensor(args[0]))
        raise _Unsupported(f"attribute {args[1:]!r} of a tensor")

    def op_getitem(self, node, handler, args, kwargs):
        obj, index = args
        if isinstance(obj, _SizeOf) and isinstance(index, int):
            return _BATCH if index == 0 else _Dim(obj.node, index)
        raise _Unsupported("indexing or slicing a tensor (only x.shape[i] / x.size()[i] are read)")

    def op_view(self, node, handler, args, kwargs):
        x = self.tensor(args[0])
        sizes = args[1:] if "shape" not in kwargs else (kwargs["shape"],)
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = tuple(sizes[0])
        flat = Flatten()
        if len(sizes) == 2 and sizes[0] is _BATCH and sizes[1] == -1:
            return self.apply(flat, (x,), node.name)
        if len(sizes) == 2 and -1 in (sizes[0], sizes[1]) and isinstance(sizes[1 - sizes.index(-1)], int):
            k = sizes[1 - sizes.index(-1)]
            total = _prod(self.shape(x))
            if sympy.simplify(total - k) == 0:
                return self.apply(flat, (x,), node.name)
            raise _Unsupported(f"reshape to {sizes!r} keeps a batch of 1 only when {k} = {fmt(total)}, the "
                               "features per sample; write x.view(x.size(0), -1) or x.flatten(1)")
        raise _Unsupported(f"reshape to {sizes!r}; only (batch, -1) forms (a flatten) are read")

    def op_mean(self, node, handler, args, kwargs):
        """``x.mean(spatial dims)``: global average pooling (``AdaptiveAvgPoolNd(1)``), flattened unless keepdim."""
        x = self.tensor(args[0])
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
        if set(kwargs) - {"dim", "keepdim"}:
            raise _Unsupported(f"arguments {sorted(kwargs)} are not supported")
        rank = len(self.shape(x)) + 1
        dims = dims if isinstance(dims, (list, tuple)) else (dims,)
        if not all(isinstance(d, int) for d in dims) or not 2 <= rank <= 5:
            raise _Unsupported(f"mean over `dim`={dims!r}; only the mean over all spatial axes is read")
        if sorted(d % rank for d in dims) != list(range(2, rank)):
            raise _Unsupported(f"mean over `dim`={dims!r} of a rank-{rank} tensor; only the mean over all spatial "
                               f"axes {tuple(range(2, rank))} (global average pooling) is read")
        pooled = self.apply(getattr(_pool, f"AdaptiveAvgPool{rank - 2}d")(1), (x,), node.name)
        return pooled if keepdim else self.apply(Flatten(), (pooled,), f"{node.name}.flatten")

    def op_max_pool(self, node, handler, args, kwargs):
        b = _bind("max_pool", args[1:], kwargs)
        if b["return_indices"]:
            raise _Unsupported("`return_indices`=True")
        layer = getattr(_pool, f"MaxPool{handler[1]}d")(b["kernel_size"], b["stride"] or None, b["padding"],
                                                         b["dilation"], False, b["ceil_mode"])
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def op_avg_pool(self, node, handler, args, kwargs):
        b = _bind("avg_pool", args[1:], kwargs)
        layer = getattr(_pool, f"AvgPool{handler[1]}d")(b["kernel_size"], b["stride"] or None, b["padding"],
                                                         b["ceil_mode"], b["count_include_pad"],
                                                         b["divisor_override"])
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def op_adaptive(self, node, handler, args, kwargs):
        b = _bind("adaptive", args[1:], kwargs)
        if b["return_indices"]:
            raise _Unsupported("`return_indices`=True")
        layer = getattr(_pool, f"Adaptive{handler[1]}Pool{handler[2]}d")(_seq(b["output_size"]))
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def op_interpolate(self, node, handler, args, kwargs):
        b = _bind("interpolate", args[1:], kwargs)
        if b["antialias"] or b["recompute_scale_factor"]:
            raise _Unsupported("`antialias`/`recompute_scale_factor` change the formula; not read")
        for key in ("size", "scale_factor"):
            values = b[key] if isinstance(b[key], (list, tuple)) else (b[key],)
            if any(not isinstance(v, (int, float, type(None))) for v in values):
                raise _Unsupported(f"`{key}`={b[key]!r} is computed in forward; only constants are read")
        layer = Upsample(_seq(b["size"]), _seq(b["scale_factor"]), b["mode"], b["align_corners"])
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def op_pad(self, node, handler, args, kwargs):
        from ..layers import resize

        b = _bind("pad", args[1:], kwargs)
        x = self.tensor(args[0])
        pad = tuple(b["pad"])
        kinds = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad"}
        if b["mode"] not in kinds or len(pad) % 2 or not all(isinstance(p, int) for p in pad):
            raise _Unsupported(f"`pad`={pad!r} with `mode`={b['mode']!r}; constant/reflect/replicate with int "
                               "pads are read")
        n = len(self.shape(x)) - 1
        if not 1 <= len(pad) // 2 <= min(n, 3):
            raise _Unsupported(f"`pad`={pad!r} does not fit {n} spatial axes")
        pad = pad + (0, 0) * (n - len(pad) // 2)
        cls = getattr(resize, f"{kinds[b['mode']]}{n}d")
        layer = cls(pad, b["value"] or 0) if b["mode"] == "constant" else cls(pad)
        return self.apply(layer, (x,), node.name)


class _Skip(Exception):
    """An operation downstream of an unsupported one: not reported again."""


def _prod(values):
    out = sympy.Integer(1)
    for v in values:
        out *= v
    return out


def _custom_table(custom) -> dict:
    if custom is None:
        return {}
    if not isinstance(custom, dict):
        raise SymcnnError(f"from_torch: `custom`={custom!r} must be a dict mapping a module path, module type, "
                          "type name or operation name to a symcnn layer (e.g. symcnn.Opaque(...))")
    for key, value in custom.items():
        if not isinstance(key, (str, type)):
            raise SymcnnError(f"from_torch: `custom` key {key!r} must be a module path, a type name or a type")
        if not isinstance(value, (Layer, Sequential, Graph)):
            raise SymcnnError(f"from_torch: `custom`[{key!r}] is a {type(value).__name__}; give a symcnn layer "
                              "such as symcnn.Opaque(output_shape=..., params=..., macs=...)")
    return dict(custom)


def from_torch(module, input_shape, custom=None) -> Graph:
    """Read a ``torch.nn.Module`` into a symcnn :class:`~symcnn.Graph` (through ``torch.fx`` symbolic tracing).

    Args:
        module: the torch model (one input tensor).
        input_shape: ``(C, *spatial)`` without the batch dimension, numbers or symbols such as ``(3, H, W)``;
            used to check the model and to read shape-dependent operations (``F.pad``, ``x.view(-1, k)``).
        custom: formulas for what symcnn does not know, ``{key: layer}`` where ``key`` is a module path
            (``"layer1.0.se"``), a module type or its name, or an operation's fx node name / function name,
            and ``layer`` a symcnn layer (typically :class:`symcnn.Opaque`) applied to the first input.

    Returns:
        A ``Graph`` whose layers are named after the fx targets (``"layer1.0.conv1"``; functional calls after
        their fx node names). ``symcnn.analyze(graph, input_shape)`` then gives the symbolic figures.

    Raises:
        SymcnnError: PyTorch is missing, the model cannot be traced, or operations are unsupported: one
            error listing each (node, module path and source position when fx records it).
    """
    torch = _import_torch()
    import torch.fx as fx

    from .._analysis import _as_shape, analyze

    if not isinstance(module, torch.nn.Module):
        raise SymcnnError(f"from_torch: `module` is a {type(module).__name__}; expected a torch.nn.Module")
    shape = _as_shape(input_shape)
    reader = _Reader(module, shape, _custom_table(custom))

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return reader.is_leaf(m, qualname) or (
                super().is_leaf_module(m, qualname) and not isinstance(m, torch.nn.Sequential))

    tracer = Tracer()
    tracer.record_stack_traces = True
    try:
        graph = tracer.trace(module)
    except Exception as e:  # fx's own errors (data-dependent control flow, ...): one clear message
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise SymcnnError(
            f"from_torch: torch.fx cannot trace {type(module).__name__}: {type(e).__name__}: {first}. Give the "
            "module that fails formulas with custom={'path.or.Type': symcnn.Opaque(...)} (it is then not traced)"
        ) from None
    reader.run(graph)
    if reader.unsupported:
        lines = "\n".join(f"  - {u}" for u in reader.unsupported)
        raise SymcnnError(
            f"from_torch: {len(reader.unsupported)} unsupported operation(s) in {type(module).__name__}:\n{lines}\n"
            "Give their formulas with custom={'module.path' or 'TypeName' or 'node_name': symcnn.Opaque("
            "output_shape=..., params=..., macs=...)}"
        )
    if reader.output is None or reader.output is reader.input:
        raise SymcnnError(f"from_torch: {type(module).__name__} has no layers between its input and output")
    net = Graph(reader.input, reader.output, name=type(module).__name__)
    try:
        analyze(net, shape)
    except SymcnnError as e:
        raise SymcnnError(f"from_torch: {type(module).__name__} on input {fmt(tuple(shape))}: {e}") from None
    return net
