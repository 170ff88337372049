"""ONNX operators as symcnn layers: one function per operator family, in the ONNX operator spec's terms.

Each handler gets the walk (``ctx``: emits layers, reports refusals), the node, its input values and its
attributes (:class:`~._reader.Attrs`: typed getters that refuse a wrong type naming the attribute), and returns
its output values. Weights are never read, only their shapes; each layer that has parameters is checked against
the initializers it consumed (``ctx.emit(..., weights=...)``), so a mapping that miscounted would be refused,
not reported. Reshapes, transposes, slices, splits and padding are in :mod:`._layout`; Resize in
:mod:`._resize`; size arithmetic in :mod:`._sizes`.
"""

from __future__ import annotations

import numpy as np
import sympy

from ... import layers as L
from ._layout import LAYOUT_HANDLERS, FlatView, GroupedView, RadixView, gather_flat
from ._reader import UNKNOWN, Const, Tensor
from ._resize import resize
from ._sizes import FOLDABLE, SIZE_HANDLERS, OpError, _fold, _ints, _size_arithmetic, _tensor, arg, rounding
from ._stack import STACK_HANDLERS, binary_views, is_view, softmax_view

__all__ = ["HANDLERS", "OpError", "FOLDABLE", "_fold"]


def _spatial(t: Tensor) -> int:
    return len(t.shape) - 1


def _layer_cls(prefix: str, n: int):
    if not 1 <= n <= 3:
        raise OpError(f"{n} spatial axes (symcnn's {prefix} layers take 1 to 3)")
    return getattr(L, f"{prefix}{n}d")


def _pairs(pads, n: int) -> tuple:
    """ONNX ``pads`` [x1_begin, x2_begin, ..., x1_end, x2_end, ...] as per-axis (begin, end) pairs."""
    pads = list(pads or [0] * (2 * n))
    if len(pads) != 2 * n:
        raise OpError(f"`pads` has {len(pads)} entries for {n} spatial axes (expected {2 * n})")
    if any(p < 0 for p in pads):
        raise OpError(f"negative `pads` {pads} (cropping) are not supported")
    return tuple((pads[i], pads[i + n]) for i in range(n))


def _padding_arg(pairs):
    """A symcnn padding argument: an int or tuple when symmetric, per-side pairs otherwise."""
    if all(a == b for a, b in pairs):
        firsts = tuple(a for a, _ in pairs)
        return firsts[0] if len(set(firsts)) == 1 else firsts
    return pairs


_AUTO_PAD = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def _window(attrs, n: int, *, conv: bool):
    """(kernel-free window attributes) strides, dilations and the padding argument; onnxruntime's refusals:
    `auto_pad` other than NOTSET together with `pads` (convolutions), SAME with dilation (convolutions)."""
    strides = tuple(attrs.ints("strides", [1] * n, length=n, minimum=1))
    dilations = tuple(attrs.ints("dilations", [1] * n, length=n, minimum=1))
    mode = attrs.str("auto_pad", "NOTSET", choices=_AUTO_PAD) or "NOTSET"
    pads = attrs.ints("pads", None, length=2 * n)
    if mode != "NOTSET" and pads is not None and conv:
        raise OpError(f"`auto_pad`={mode!r} with `pads`={pads} (onnxruntime refuses both together)")
    if mode.startswith("SAME") and conv and any(d != 1 for d in dilations):
        raise OpError(f"`auto_pad`={mode!r} with `dilations`={list(dilations)} (onnxruntime refuses dilation "
                      "with SAME)")
    if mode == "VALID":
        padding = "valid"
    elif mode == "SAME_UPPER":
        padding = "tf_same"
    elif mode == "SAME_LOWER":
        padding = "same_lower"
    else:
        padding = _padding_arg(_pairs(pads, n))
    return strides, dilations, padding


def _kernel(attrs, n: int, default):
    return tuple(attrs.ints("kernel_shape", list(default), length=n, minimum=1))


def conv(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "X"))
    w = arg(ins, 1, "W")
    if not isinstance(w, Const):
        raise OpError("its weight is computed, not a constant initializer")
    n = _spatial(x)
    if len(w.dims) != n + 2 or not all(w.dims):
        raise OpError(f"weight dims {w.dims} do not match an input with {n} spatial axes")
    group = attrs.int("group", 1, minimum=1)
    kernel = _kernel(attrs, n, w.dims[2:])
    if kernel != tuple(w.dims[2:]):
        raise OpError(f"`kernel_shape`={list(kernel)} differs from the weight's {list(w.dims[2:])}")
    b = arg(ins, 2, "B", required=False)
    if b is not None and (not isinstance(b, Const) or len(b.dims) != 1):
        raise OpError("its bias is not a constant vector")
    bias = b is not None
    weights = [w] + ([b] if bias else [])
    if node.op_type == "ConvTranspose":
        return conv_transpose(ctx, node, x, w, attrs, n, group, kernel, bias, weights)
    strides, dilations, padding = _window(attrs, n, conv=True)
    out_ch, in_ch = w.dims[0], w.dims[1] * group
    layer = _layer_cls("Conv", n)(in_ch, out_ch, kernel, stride=strides, padding=padding, dilation=dilations,
                                  groups=group, bias=bias)
    return [ctx.emit(layer, [x], node, weights=weights)]


def conv_transpose(ctx, node, x, w, attrs, n, group, kernel, bias, weights):
    in_ch, out_ch = w.dims[0], w.dims[1] * group
    strides = tuple(attrs.ints("strides", [1] * n, length=n, minimum=1))
    dilations = tuple(attrs.ints("dilations", [1] * n, length=n, minimum=1))
    output_padding = tuple(attrs.ints("output_padding", [0] * n, length=n, minimum=0))
    mode = attrs.str("auto_pad", "NOTSET", choices=_AUTO_PAD) or "NOTSET"
    if "output_shape" in attrs:
        # the spec: total padding = S*(in - 1) + output_padding + ((K - 1)*D + 1) - output_shape, split by
        # auto_pad (SAME_UPPER: the extra pixel at the end, as in PyTorch); sizes must be numbers here
        target = attrs.ints("output_shape", minimum=1)[-n:]
        if len(target) != n:
            raise OpError(f"`output_shape`={target} has fewer than {n} entries")
        pairs = []
        for i in range(n):
            size = x.shape[1 + i]
            if not isinstance(size, sympy.Integer):
                raise OpError("`output_shape` with a symbolic input size (the padding would depend on it)")
            total = strides[i] * (int(size) - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1 - target[i]
            if total < 0:
                raise OpError(f"`output_shape` {target} needs negative padding along axis {i}")
            small = total // 2
            pairs.append((total - small, small) if mode == "SAME_LOWER" else (small, total - small))
        if any(a != b for a, b in pairs):
            raise OpError(f"`output_shape` {target} needs asymmetric padding {pairs} (PyTorch's transposed "
                          "convolution pads symmetrically)")
        padding = tuple(a for a, _ in pairs)
    elif mode != "NOTSET":
        raise OpError(f"`auto_pad`={mode!r} on ConvTranspose without `output_shape` is not supported")
    else:
        pairs = _pairs(attrs.ints("pads", None, length=2 * n), n)
        if any(a != b for a, b in pairs):
            raise OpError(f"asymmetric `pads` {pairs} (PyTorch's transposed convolution pads symmetrically)")
        padding = tuple(a for a, _ in pairs)
    layer = _layer_cls("ConvTranspose", n)(in_ch, out_ch, kernel, stride=strides, padding=padding,
                                           output_padding=output_padding, groups=group, bias=bias,
                                           dilation=dilations)
    return [ctx.emit(layer, [x], node, weights=weights)]


def pool(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "X"))
    n = _spatial(x)
    if len(node.output) > 1 and node.output[1] and ctx.is_used(node.output[1]):
        raise OpError("its second output (the argmax indices) is used")
    if "kernel_shape" not in attrs:
        raise OpError("`kernel_shape` is missing (the spec requires it)")
    kernel = _kernel(attrs, n, ())
    strides, dilations, padding = _window(attrs, n, conv=False)
    ceil_mode = bool(attrs.int("ceil_mode", 0, minimum=0, maximum=1))
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        else:
            raise OpError(f"`auto_pad`={attrs['auto_pad']!r} on a pooling layer is not supported yet")
    if node.op_type == "MaxPool":
        if attrs.int("storage_order", 0):
            raise OpError("`storage_order`=1 is not supported")
        layer = _layer_cls("MaxPool", n)(kernel, strides, padding, dilation=dilations, ceil_mode=ceil_mode)
    else:
        if any(d != 1 for d in dilations):
            raise OpError("dilated average pooling has no PyTorch counterpart")
        layer = _layer_cls("AvgPool", n)(kernel, strides, padding, ceil_mode=ceil_mode,
                                         count_include_pad=bool(attrs.int("count_include_pad", 0)))
    return [ctx.emit(layer, [x], node)] + [UNKNOWN] * (len(node.output) - 1)


def global_pool(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "X"))
    kind = "AdaptiveAvgPool" if node.op_type == "GlobalAveragePool" else "AdaptiveMaxPool"
    return [ctx.emit(_layer_cls(kind, _spatial(x))(1), [x], node)]


def reduce_mean(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "data"))
    n = _spatial(x)
    axes = attrs.ints("axes")
    if axes is None and len(ins) > 1 and ins[1] is not None:
        axes = _ints(ins[1], "axes")
    if axes is None:
        raise OpError("a mean over every axis (no `axes`) is not a pooling layer")
    rank = n + 2
    if any(not -rank <= a < rank for a in axes):
        raise OpError(f"`axes`={axes} out of range for rank {rank}")
    axes = sorted(a % rank for a in axes)
    if axes != list(range(2, rank)):
        raise OpError(f"a mean over axes {axes} (only the mean over all spatial axes {list(range(2, rank))} reads "
                      "as global average pooling)")
    out = ctx.emit(_layer_cls("AdaptiveAvgPool", n)(1), [x], node)
    if attrs.int("keepdims", 1):
        return [out]
    return [ctx.emit(L.Flatten(), [out], node, suffix="flatten")]


def _vector(v, what: str, length) -> Const:
    if not isinstance(v, Const) or len(v.dims) != 1 or (length is not None and v.dims[0] != length):
        raise OpError(f"its `{what}` is not a constant vector of {length} values")
    return v


def batch_norm(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "X"))
    if attrs.int("training_mode", 0):
        raise OpError("`training_mode`=1 (batch statistics) is not supported")
    c = x.shape[0]
    scale = _vector(arg(ins, 1, "scale"), "scale", c if c.is_Integer else None)
    bias = _vector(arg(ins, 2, "B"), "B", scale.dims[0])
    for i, what in ((3, "input_mean"), (4, "input_var")):
        _vector(arg(ins, i, what), what, scale.dims[0])
    layer = _layer_cls("BatchNorm", max(_spatial(x), 1))(scale.dims[0])
    return [ctx.emit(layer, [x], node, weights=[scale, bias])]


def _fixed(c: Const, value: float) -> bool:
    return c.value is not None and np.asarray(c.value).dtype.kind == "f" and bool(np.all(np.asarray(c.value) == value))


def instance_norm(ctx, node, ins, attrs):
    """InstanceNormalization: GroupNorm with one group per channel. On the (N, G, -1) view PyTorch's exporters
    write for ``nn.GroupNorm(G, C)`` (scale all ones, bias all zeros: the exporter's constants, not parameters),
    GroupNorm(G, C) without affine on the original tensor (its affine part follows as Mul and Add)."""
    x = arg(ins, 0, "input")
    attrs.float("epsilon", 1e-5)
    if isinstance(x, GroupedView):
        s, b = arg(ins, 1, "scale"), arg(ins, 2, "B")
        g = x.groups
        if not (isinstance(s, Const) and isinstance(b, Const) and s.dims == b.dims == (g,) and _fixed(s, 1.0)
                and _fixed(b, 0.0)):
            raise OpError("InstanceNormalization of grouped channels with a learned scale or bias (only the "
                          "GroupNorm lowering, scale 1 and bias 0, is read)")
        out = ctx.emit(L.GroupNorm(g, x.tensor.shape[0], affine=False), [x.tensor], node)
        return [GroupedView(out, g)]
    x = _tensor(x)
    c = x.shape[0]
    scale = _vector(arg(ins, 1, "scale"), "scale", c if c.is_Integer else None)
    bias = _vector(arg(ins, 2, "B"), "B", scale.dims[0])
    learned = scale.initializer or bias.initializer
    if learned and _fixed(scale, 1.0) and _fixed(bias, 0.0) and not (scale.name or "").endswith("weight"):
        learned = False  # dynamo's ones/zeros of InstanceNorm(affine=False)
    layer = L.GroupNorm(scale.dims[0], scale.dims[0], affine=learned)
    return [ctx.emit(layer, [x], node, weights=[scale, bias] if learned else ())]


def gemm(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "A"))
    b = arg(ins, 1, "B")
    if not isinstance(b, Const) or len(b.dims) != 2:
        raise OpError("its B operand is not a constant matrix (a learned weight)")
    if attrs.int("transA", 0):
        raise OpError("`transA`=1 (a transposed activation) is not supported")
    k, m = (b.dims[1], b.dims[0]) if attrs.int("transB", 0) else b.dims
    c = arg(ins, 2, "C", required=False)
    bias = isinstance(c, Const)
    if c is not None and not bias:
        raise OpError("its C operand (the bias) is computed, not a constant")
    weights = [b] + ([c] if bias else [])
    return [ctx.emit(L.Linear(k, m, bias=bias), [x], node, weights=weights)]


def matmul(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "A"), any_layout=True)
    b = arg(ins, 1, "B")
    if not isinstance(b, Const) or len(b.dims) != 2:
        raise OpError("its second operand is not a constant matrix (a learned weight)")
    k, m = b.dims
    bias = ctx.fused_bias(node, m)
    weights = [b] + ([bias] if bias is not None else [])
    if x.channels_last:  # a Linear on (N, *spatial, C): per position, as a 1x1 convolution counts it
        n = _spatial(x)
        layer = _layer_cls("Conv", n)(k, m, 1, bias=bias is not None)
        return [_same_layout(x, ctx.emit(layer, [x], node, weights=weights))]
    return [ctx.emit(L.Linear(k, m, bias=bias is not None), [x], node, weights=weights)]


_ACTIVATIONS = {
    "Relu": "ReLU", "LeakyRelu": "LeakyReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Elu": "ELU", "Selu": "SELU",
    "Celu": "CELU", "Gelu": "GELU", "Softplus": "Softplus", "HardSigmoid": "Hardsigmoid",
    "HardSwish": "Hardswish", "Mish": "Mish", "Softmax": "Softmax", "LogSoftmax": "LogSoftmax",
    "Dropout": "Dropout",
}


def _same_layout(x: Tensor, out: Tensor) -> Tensor:
    return Tensor(out.node, out.shape, x.channels_last)


def activation(ctx, node, ins, attrs):
    if is_view(arg(ins, 0, "X")) or isinstance(ins[0], RadixView):  # SKNet's and ResNeSt's attention
        return softmax_view(ctx, node, ins[0], attrs)
    x = _tensor(arg(ins, 0, "X"), any_layout=node.op_type not in ("Softmax", "LogSoftmax"))
    if node.op_type in ("Softmax", "LogSoftmax"):
        axis = attrs.int("axis", -1)
        if not -len(x.shape) - 1 <= axis <= len(x.shape):
            raise OpError(f"`axis`={axis} out of range for rank {len(x.shape) + 1}")
    layer = getattr(L, _ACTIVATIONS[node.op_type])()
    return [_same_layout(x, ctx.emit(layer, [x], node, same_shape=True))] + [UNKNOWN] * (len(node.output) - 1)


#: element-wise operators of one activation without their own symcnn layer (the pieces of GELU through Erf,
#: of normalisations written out): one FLOP per element, no parameters
_ELEMENTWISE = ("Erf", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Sin", "Cos", "Softsign", "Sign", "Round",
                "Floor", "Ceil")


def elementwise(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "X"), any_layout=True)
    return [_same_layout(x, ctx.emit(_pointwise(node.op_type, 0), [x], node, same_shape=True))]


def gather_op(ctx, node, ins, attrs):
    data = arg(ins, 0, "data")
    if isinstance(data, FlatView):
        idx = arg(ins, 1, "indices")
        if not isinstance(idx, Const) or attrs.int("axis", 0) != 0:
            raise OpError("a gather of flattened values with computed indices or along an axis other than 0")
        return [gather_flat(ctx, node, data, idx)]
    return SIZE_HANDLERS["Gather"](ctx, node, ins, attrs)


def floor_ceil(ctx, node, ins, attrs):
    if isinstance(arg(ins, 0, "X"), Tensor):
        return elementwise(ctx, node, ins, attrs)
    return rounding(ctx, node, ins, attrs)


def _pointwise(name: str, params: int):
    def same(s):
        return s

    def numel(s):
        out = sympy.Integer(1)
        for d in s:
            out *= d
        return out

    return L.Opaque(output_shape=same, params=params, macs=0, flops=numel, name=name)


def clip(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "input"))
    bounds = []
    for i, key in ((1, "min"), (2, "max")):
        v = arg(ins, i, key, required=False)
        if v is not None:
            if not isinstance(v, Const) or v.value is None or np.asarray(v.value).size != 1:
                raise OpError(f"its `{key}` is not a constant number")
            bounds.append(float(np.asarray(v.value).reshape(-1)[0]))
        else:
            bounds.append(attrs.float(key))
    layer = L.ReLU6() if bounds == [0.0, 6.0] else L.Hardtanh()
    return [ctx.emit(layer, [x], node, same_shape=True)]


def prelu(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "X"))
    slope = arg(ins, 1, "slope")
    if not isinstance(slope, Const):
        raise OpError("its slope is not a constant")
    return [ctx.emit(L.PReLU(num_parameters=slope.numel), [x], node, weights=[slope])]


def identity(ctx, node, ins, attrs):
    return [arg(ins, 0, "input")]


def binary(ctx, node, ins, attrs):
    a, b = arg(ins, 0, "A"), arg(ins, 1, "B")
    if is_view(a) or is_view(b):
        return binary_views(ctx, node, a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        _tensor(a, any_layout=True), _tensor(b, any_layout=True)
        if a.channels_last != b.channels_last:
            raise OpError("its operands are laid out differently (one channels-last)")
        layer = L.Add() if node.op_type in ("Add", "Sub") else L.Mul()
        return [_same_layout(a, ctx.emit(layer, [a, b], node))]
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        x, c = (a, b) if isinstance(a, Tensor) else (b, a)
        x = _tensor(x, any_layout=True)
        if x.channels_last and isinstance(c, Const):  # (..., C) constants broadcast over the last (channel) axis
            c = _channels_first_const(c, len(x.shape) + 1)
        if not isinstance(c, Const):
            raise OpError("one operand is computed from shapes, the other an activation")
        if c.numel == 1 and c.value is not None and not (c.initializer and (c.dims or c.name in ctx.parameters)):
            # a number (a Constant node, a rank-0 initializer); a stored tensor of one value is a learned scalar,
            # and so is a rank-0 initializer the file marks as a parameter (the dynamo exporter's signature)
            value = np.asarray(c.value).reshape(-1)[0]
            if np.asarray(c.value).dtype.kind not in "iuf" or not np.isfinite(value):
                raise OpError(f"its constant operand {value!r} is not a finite number")
            op = "add" if node.op_type in ("Add", "Sub") else "mul"
            return [_same_layout(x, ctx.emit(L.ScalarOp(op, float(value)), [x], node, same_shape=True))]
        if len(c.dims) > len(x.shape) + 1:
            raise OpError(f"its constant operand of dims {c.dims} has more axes than the activation")
        full = (ctx.batch, *x.shape)
        for d, v in zip(reversed(c.dims), reversed(full), strict=False):
            if d != 1 and not (isinstance(v, sympy.Integer) and int(v) == d):
                raise OpError(f"its constant operand of dims {c.dims} does not broadcast to the activation "
                              f"{tuple(full)} without enlarging it")
        if not c.initializer:  # an exporter's constant (a normalisation's mean): no parameters
            return [_same_layout(x, ctx.emit(_pointwise(f"{node.op_type} constant {c.dims}", 0), [x], node,
                                             same_shape=True))]
        cls = L.LearnedShift if node.op_type in ("Add", "Sub") else L.LearnedScale
        return [_same_layout(x, ctx.emit(cls(c.dims), [x], node, weights=[c]))]
    return [_size_arithmetic(node.op_type, a, b)]


def _channels_first_const(c: Const, rank: int) -> Const:
    """A constant broadcast against a channels-last activation, as the same constant against its channels-first
    layout: dims (..., 1, 1, C) -> (..., C, 1, 1)."""
    dims = (1,) * (rank - len(c.dims)) + tuple(c.dims)
    moved = (dims[0], dims[-1], *dims[1:-1])
    while len(moved) > 1 and moved[0] == 1:
        moved = moved[1:]
    value = np.asarray(c.value).reshape(()) if c.numel == 1 and c.value is not None else None
    return Const(moved, value, c.initializer, c.name)


def layer_norm(ctx, node, ins, attrs):
    """LayerNormalization over the last axis: of a channels-last activation (ConvNeXt's permute, LayerNorm,
    permute back) it is LayerNorm2d over the channels; of a vector per sample, LayerNorm."""
    x = _tensor(arg(ins, 0, "X"), any_layout=True)
    rank = len(x.shape) + 1
    axis = attrs.int("axis", -1)
    attrs.float("epsilon", 1e-5)
    if axis % rank != rank - 1 if -rank <= axis < rank else True:
        raise OpError(f"`axis`={axis} (only the last axis is read)")
    c = x.shape[0] if x.channels_last or rank == 2 else x.shape[-1]
    scale = _vector(arg(ins, 1, "Scale"), "Scale", int(c) if c.is_Integer else None)
    b = arg(ins, 2, "B", required=False)
    if b is not None:
        _vector(b, "B", scale.dims[0])
    weights = [scale] + ([b] if b is not None else [])
    if x.channels_last:
        layer = L.LayerNorm2d(scale.dims[0], bias=b is not None)
    elif rank == 2:
        layer = L.LayerNorm(scale.dims[0], bias=b is not None)
    else:
        raise OpError("a LayerNormalization over the last spatial axis of a channels-first activation")
    return [_same_layout(x, ctx.emit(layer, [x], node, weights=weights))]


def pow_op(ctx, node, ins, attrs):
    x, e = arg(ins, 0, "X"), arg(ins, 1, "Y")
    if isinstance(x, Tensor) and isinstance(e, Const) and e.numel == 1:
        x = _tensor(x, any_layout=True)
        return [_same_layout(x, ctx.emit(_pointwise("Pow", 0), [x], node, same_shape=True))]
    raise OpError("a power other than an activation raised to a constant number")


def constant_only(ctx, node, ins, attrs):
    """Operators read only when their operands are constants (they are then computed: :func:`._sizes._fold`)."""
    raise OpError(f"{node.op_type} of a value that is not a constant (symcnn computes it on constants only)")


HANDLERS = {
    **{op: constant_only for op in ("ConstantOfShape", "Equal", "Less", "Greater", "Where", "Range")},
    "Conv": conv, "ConvTranspose": conv, "MaxPool": pool, "AveragePool": pool,
    "GlobalAveragePool": global_pool, "GlobalMaxPool": global_pool, "ReduceMean": reduce_mean,
    "BatchNormalization": batch_norm, "InstanceNormalization": instance_norm, "LayerNormalization": layer_norm,
    "Gemm": gemm, "MatMul": matmul,
    **{op: activation for op in _ACTIVATIONS}, **{op: elementwise for op in _ELEMENTWISE}, "Clip": clip,
    "PRelu": prelu, "Identity": identity, "Add": binary, "Sub": binary, "Mul": binary, "Div": binary, "Pow": pow_op,
    **SIZE_HANDLERS, "Gather": gather_op, "Floor": floor_ceil, "Ceil": floor_ceil, **LAYOUT_HANDLERS,
    **STACK_HANDLERS, "Resize": resize, "Upsample": resize,
}
