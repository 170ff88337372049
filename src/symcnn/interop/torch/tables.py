"""What ``from_torch`` knows: torch module classes -> symcnn layers, functions and tensor methods -> the
reader's handlers, and the signatures of the functions it reads positionally."""

from __future__ import annotations

import functools
import operator
import sys

from ...layers import activation as _act
from .custom_modules import _import_torch
from .ops_tensor import tensor_functions, tensor_modules
from .values import _Unsupported


def _module_args(m, names):
    return {n: getattr(m, n) for n in names if hasattr(m, n)}


def _from_conv(layer_cls):
    def convert(m):
        padding = m.padding if isinstance(m.padding, str) else tuple(m.padding)
        return layer_cls(m.in_channels, m.out_channels, tuple(m.kernel_size), tuple(m.stride), padding,
                         tuple(m.dilation), m.groups, m.bias is not None, m.padding_mode)
    return convert


def _from_conv_transpose(layer_cls):
    def convert(m, output_padding=None):  # output_padding: chosen by forward's `output_size`
        pads = tuple(m.output_padding) if output_padding is None else output_padding
        return layer_cls(m.in_channels, m.out_channels, tuple(m.kernel_size), tuple(m.stride), tuple(m.padding),
                         pads, m.groups, m.bias is not None, tuple(m.dilation), m.padding_mode)
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


def _act_args(name) -> tuple[str, ...]:
    """The arguments kept for activation ``name``: ``_ACT_ARGS``, plus ``inplace`` where the layer takes it
    (it does not change the counts, but training's memory and PyTorch's backward depend on it)."""
    layer_cls = getattr(_act, name)
    takes = {a[0] for a in getattr(layer_cls, "_args", ())}
    return _ACT_ARGS.get(name, ()) + (("inplace",) if "inplace" in takes else ())


def _from_act(name):
    layer_cls = getattr(_act, name)
    names = _act_args(name)
    return lambda m: layer_cls(**_module_args(m, names))


def _from_pad(name):
    import symcnn.layers.resize as resize

    layer_cls = getattr(resize, name)
    if name.startswith("ConstantPad"):
        return lambda m: layer_cls(tuple(m.padding), m.value)
    return lambda m: layer_cls(tuple(m.padding))


@functools.cache
def _module_table():
    """Exact ``torch.nn`` class -> converter to a symcnn layer (subclasses are traced, not assumed)."""
    from ... import layers as L

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
    table[nn.LayerNorm] = lambda m: L.LayerNorm(tuple(m.normalized_shape), m.eps, m.elementwise_affine,
                                                bias=getattr(m, "bias", None) is not None or m.weight is None)
    table[nn.GroupNorm] = lambda m: L.GroupNorm(m.num_groups, m.num_channels, m.eps, m.affine)
    table.update(tensor_modules(_import_torch()))
    return table


def _layer_norm_2d(m):
    from ... import layers as L

    return L.LayerNorm2d(int(m.normalized_shape[0]), m.eps, m.elementwise_affine,
                         bias=getattr(m, "bias", None) is not None or m.weight is None)


def _tf_same() -> str:
    """The conv layers' spelling of TensorFlow's SAME padding at any stride (``"tf_same"``; ``"same"`` where the
    layers still spell it so)."""
    from ... import layers as L

    return "tf_same" if "tf_same" in L.Conv2d._padding_strings else "same"


def _conv_same(m):
    """timm's ``Conv2dSame``: ``pad_same`` (TensorFlow's SAME for this input size: total ``max((ceil(W/S) - 1)*S
    + D*(F - 1) + 1 - W, 0)``, the odd pixel at the end) with zeros, then ``F.conv2d`` without padding."""
    from ... import layers as L

    return L.Conv2d(m.in_channels, m.out_channels, tuple(m.kernel_size), tuple(m.stride), _tf_same(),
                    tuple(m.dilation), m.groups, m.bias is not None)


#: classes of torchvision and timm known by name (module, qualified name): never imported here, matched on
#: the classes a model holds. Their forward is what the symcnn layer computes.
_NAMED = {
    ("timm.layers.conv2d_same", "Conv2dSame"): _conv_same,
    ("timm.layers.space_to_depth", "SpaceToDepth"): lambda m: _layers().SpaceToDepth(int(m.bs)),
    ("torchvision.ops.stochastic_depth", "StochasticDepth"): lambda m: _layers().StochasticDepth(m.p, m.mode),
    ("torchvision.ops.misc", "Permute"): lambda m: _layers().Permute(list(m.dims)),
    ("torchvision.models.convnext", "LayerNorm2d"): _layer_norm_2d,  # permute, F.layer_norm, permute back
    ("timm.layers.norm", "LayerNorm2d"): _layer_norm_2d,
}


#: named classes that subclass a ``torch.nn`` class with their own ``forward`` (functional calls): the counting
#: tools that hook modules by exact type see a subclass (thop, ptflops: not counted; torchinfo: by class name)
_NAMED_SUBCLASSES = frozenset({("timm.layers.conv2d_same", "Conv2dSame")})


def _layers():
    from ... import layers

    return layers


def _named_class(cls):
    """The converter of a torchvision/timm class known by name, or None."""
    return _NAMED.get((cls.__module__, cls.__qualname__))


def _named_subclass(cls) -> bool:
    """``cls`` is a named class that subclasses a ``torch.nn`` class (counted as a subclass, see ``_torch_call``)."""
    return (cls.__module__, cls.__qualname__) in _NAMED_SUBCLASSES


def _functional_table():
    """Functions (``call_function`` targets) and tensor methods (``call_method`` names) -> handler names."""
    torch = _import_torch()
    F = torch.nn.functional
    table = {operator.add: "add", operator.iadd: "add", torch.add: "add", "add": "add", "add_": "add",
             operator.mul: "mul", operator.imul: "mul", torch.mul: "mul", "mul": "mul", "mul_": "mul",
             operator.sub: ("size_arith", "sub"), operator.floordiv: ("size_arith", "floordiv"),
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
    table.update({F.batch_norm: "batch_norm", F.layer_norm: "layer_norm", F.group_norm: "group_norm",
                  F.linear: "linear", "permute": "permute", torch.permute: "permute"})
    for target in leaf_functions():
        table[target] = "same_pad"
    stochastic = sys.modules.get("torchvision.ops.stochastic_depth")
    if stochastic is not None:
        table[stochastic.stochastic_depth] = "stochastic_depth"
    for n in (1, 2, 3):
        table[getattr(F, f"conv{n}d")] = ("conv", n)
        table[getattr(torch, f"conv{n}d")] = ("conv", n)
        table[getattr(F, f"max_pool{n}d")] = ("max_pool", n)
        table[getattr(F, f"avg_pool{n}d")] = ("avg_pool", n)
        table[getattr(F, f"adaptive_avg_pool{n}d")] = ("adaptive", "Avg", n)
        table[getattr(F, f"adaptive_max_pool{n}d")] = ("adaptive", "Max", n)
    table.update(tensor_functions(torch))
    return table


def leaf_functions() -> tuple:
    """Library functions ``torch.fx`` records as one call instead of tracing into (``Tracer(autowrap_functions=)``):
    timm's ``pad_same``, whose padding is computed from the input size with Python's ``max`` (untraceable);
    only those of libraries the model has already imported."""
    padding = sys.modules.get("timm.layers.padding")
    return (padding.pad_same,) if padding is not None and hasattr(padding, "pad_same") else ()


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
    "same_pad": (("kernel_size", None), ("stride", None), ("dilation", (1, 1)), ("value", 0)),
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
