"""``to_torch``: a symcnn layer, ``Sequential`` or ``Graph`` becomes a real ``torch.nn.Module``."""

from __future__ import annotations

from collections import OrderedDict

import sympy

from ..._errors import SymcnnError
from ..._graph import Graph, Sequential
from ...layers import activation as _act
from ...layers import channels as _channels
from ...layers import merge as _merge
from ...layers import norm as _norm
from ...layers._base import Layer, fmt
from ...layers.conv import _ConvNd, effective_kernel
from ...layers.dense import Flatten, Linear
from ...layers.lenet import RBF, ConnectionTableConv2d, Subsampling2d
from ...layers.norm import _BatchNorm
from ...layers.opaque import Opaque
from ...layers.permute import Permute
from ...layers.pool import SpatialPyramidPooling, _AdaptivePoolNd, _AvgPoolNd, _MaxPoolNd
from ...layers.resize import Upsample, _PadNd
from ...layers.same_pad import SamePad2d
from ...layers.scale import LearnedScale, LearnedShift
from ...layers.space_to_depth import SpaceToDepth
from ...layers.transposed import _ConvTransposeNd
from .custom_modules import _custom, _import_torch
from .custom_tensor import build_channel_layer
from .unused import BufferWeights, SharedParameters, UnusedParameters, WeightNorms, WeightParameters

__all__ = ["to_torch"]


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
        if layer.padding in ("same", "tf_same") and all(s == 1 for s in args["stride"]):  # TF's SAME is it there
            return self.construct(layer, path, cls, **args, padding="same", bias=layer.bias, padding_mode=mode)
        if layer.padding in ("tf_same", "same_lower"):  # SAME at stride > 1: the padding depends on the input size
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

    def layer_norm(self, layer, path: str):
        shape = self.num(layer, path, "normalized_shape", layer.normalized_shape)
        return self.construct(layer, path, self.nn.LayerNorm, list(shape), eps=layer.eps,
                              elementwise_affine=layer.elementwise_affine, bias=layer.bias)

    def group_norm(self, layer, path: str):
        return self.construct(layer, path, self.nn.GroupNorm, self.num(layer, path, "num_groups", layer.num_groups),
                              self.num(layer, path, "num_channels", layer.num_channels), eps=layer.eps,
                              affine=layer.affine)

    def layer_norm_2d(self, layer, path: str):
        self.num(layer, path, "num_channels", layer.num_channels)
        return self.custom["LayerNorm2d"](layer)

    def learned(self, layer, path: str):
        self.num(layer, path, "shape", layer.shape)
        return self.custom[layer.kind](layer)

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

    def shared(self, layer: SharedParameters, path: str):
        return self.nn.Identity()  # the shared parameters are those of the modules that share them

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
    _norm.LayerNorm: _Builder.layer_norm,
    _norm.GroupNorm: _Builder.group_norm,
    _norm.LayerNorm2d: _Builder.layer_norm_2d,
    Permute: _own("Permute"),
    LearnedScale: _Builder.learned,
    LearnedShift: _Builder.learned,
    _act.StochasticDepth: _own("StochasticDepth"),
    WeightParameters: _own("UnusedParameters"),
    _act._Elementwise: _Builder.elementwise,
    _act.PReLU: _Builder.prelu,
    Upsample: _Builder.upsample,
    SamePad2d: _own("SamePad2d"),
    SpaceToDepth: _own("SpaceToDepth"),
    _PadNd: _Builder.pad,
    _merge.CropConcat: _own("CropConcat"),
    _merge.Concat: _own("Concat"),
    _merge.Mul: _own("Mul"),
    _merge.Sub: _own("Sub"),
    _merge.Add: _own("Add"),
    _merge.ScalarOp: _own("ScalarOp"),
    _merge.Clamp: _own("Clamp"),
    **{getattr(_channels, name): build_channel_layer for name in _channels.__all__},
    Subsampling2d: _own("Subsampling2d"),
    ConnectionTableConv2d: _own("ConnectionTableConv2d"),
    RBF: _own("RBF"),
    Opaque: _Builder.opaque,
    UnusedParameters: _own("UnusedParameters"),
    SharedParameters: _Builder.shared,
    BufferWeights: _Builder.shared,
    WeightNorms: _Builder.shared,
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

    Examples:
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
