"""ONNX operators as symcnn layers: one function per operator family, in the ONNX operator spec's terms.

Each handler gets the walk (``ctx``: emits layers, reports refusals), the node, its input values and its
attributes, and returns its output values. Weights are never read, only their shapes; each layer that has
parameters is checked against the initializers it consumed (``ctx.emit(..., weights=...)``), so a mapping
that miscounted would be refused, not reported.
"""

from __future__ import annotations

import numpy as np
import sympy

from ... import layers as L
from ._reader import UNKNOWN, Const, Sizes, Tensor
from ._resize import resize
from ._sizes import FOLDABLE, SIZE_HANDLERS, OpError, _fold, _ints, _size_arithmetic, _sizes, _tensor, _values

__all__ = ["HANDLERS", "OpError", "FOLDABLE", "_fold"]


def _spatial(t: Tensor) -> int:
    return len(t.shape) - 1


def _layer_cls(prefix: str, n: int):
    if not 1 <= n <= 3:
        raise OpError(f"{n} spatial axes (symcnn's {prefix} layers take 1 to 3)")
    return getattr(L, f"{prefix}{n}d")


def _pairs(pads, n: int) -> tuple:
    """ONNX ``pads`` [x1_begin, x2_begin, ..., x1_end, x2_end, ...] as per-axis (begin, end) pairs."""
    pads = [int(p) for p in (pads or [0] * (2 * n))]
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


def _auto_pad(attrs) -> str:
    mode = attrs.get("auto_pad", "NOTSET") or "NOTSET"
    if mode not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise OpError(f"`auto_pad`={mode!r} is not an ONNX mode")
    return mode


def _window_padding(attrs, n: int):
    mode = _auto_pad(attrs)
    if mode == "VALID":
        return "valid"
    if mode == "SAME_UPPER":
        return "same"
    if mode == "SAME_LOWER":
        return "same_lower"
    return _padding_arg(_pairs(attrs.get("pads"), n))


def conv(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    w = ins[1]
    if not isinstance(w, Const):
        raise OpError("its weight is computed, not a constant initializer")
    n = _spatial(x)
    if len(w.dims) != n + 2:
        raise OpError(f"weight dims {w.dims} do not match an input with {n} spatial axes")
    group = int(attrs.get("group", 1))
    kernel = tuple(int(k) for k in attrs.get("kernel_shape", w.dims[2:]))
    strides = tuple(int(s) for s in attrs.get("strides", [1] * n))
    dilations = tuple(int(d) for d in attrs.get("dilations", [1] * n))
    bias = len(ins) > 2 and ins[2] is not None
    weights = [w] + ([ins[2]] if bias else [])
    if node.op_type == "ConvTranspose":
        return conv_transpose(ctx, node, x, w, attrs, n, group, kernel, strides, dilations, bias, weights)
    out_ch, in_ch = w.dims[0], w.dims[1] * group
    padding = _window_padding(attrs, n)
    layer = _layer_cls("Conv", n)(in_ch, out_ch, kernel, stride=strides, padding=padding, dilation=dilations,
                                  groups=group, bias=bias)
    return [ctx.emit(layer, [x], node, weights=weights)]


def conv_transpose(ctx, node, x, w, attrs, n, group, kernel, strides, dilations, bias, weights):
    in_ch, out_ch = w.dims[0], w.dims[1] * group
    output_padding = tuple(int(p) for p in attrs.get("output_padding", [0] * n))
    mode = _auto_pad(attrs)
    if "output_shape" in attrs:
        # the spec: total padding = S*(in - 1) + output_padding + ((K - 1)*D + 1) - output_shape, split by
        # auto_pad (SAME_UPPER: the extra pixel at the end, as in PyTorch); sizes must be numbers here
        target = [int(v) for v in attrs["output_shape"]][-n:]
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
        pairs = _pairs(attrs.get("pads"), n)
        if any(a != b for a, b in pairs):
            raise OpError(f"asymmetric `pads` {pairs} (PyTorch's transposed convolution pads symmetrically)")
        padding = tuple(a for a, _ in pairs)
    layer = _layer_cls("ConvTranspose", n)(in_ch, out_ch, kernel, stride=strides, padding=padding,
                                           output_padding=output_padding, groups=group, bias=bias,
                                           dilation=dilations)
    return [ctx.emit(layer, [x], node, weights=weights)]


def pool(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    n = _spatial(x)
    if len(node.output) > 1 and node.output[1] and ctx.is_used(node.output[1]):
        raise OpError("its second output (the argmax indices) is used")
    kernel = tuple(int(k) for k in attrs["kernel_shape"])
    strides = tuple(int(s) for s in attrs.get("strides", [1] * n))  # ONNX: stride 1 by default
    ceil_mode = bool(attrs.get("ceil_mode", 0))
    padding = _window_padding(attrs, n)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        else:
            raise OpError(f"`auto_pad`={attrs['auto_pad']!r} on a pooling layer is not supported yet")
    if node.op_type == "MaxPool":
        if int(attrs.get("storage_order", 0)):
            raise OpError("`storage_order`=1 is not supported")
        dilations = tuple(int(d) for d in attrs.get("dilations", [1] * n))
        layer = _layer_cls("MaxPool", n)(kernel, strides, padding, dilation=dilations, ceil_mode=ceil_mode)
    else:
        if any(int(d) != 1 for d in attrs.get("dilations", [1] * n)):
            raise OpError("dilated average pooling has no PyTorch counterpart")
        layer = _layer_cls("AvgPool", n)(kernel, strides, padding, ceil_mode=ceil_mode,
                                         count_include_pad=bool(attrs.get("count_include_pad", 0)))
    return [ctx.emit(layer, [x], node)] + [UNKNOWN] * (len(node.output) - 1)


def global_pool(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    kind = "AdaptiveAvgPool" if node.op_type == "GlobalAveragePool" else "AdaptiveMaxPool"
    return [ctx.emit(_layer_cls(kind, _spatial(x))(1), [x], node)]


def reduce_mean(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    n = _spatial(x)
    axes = attrs.get("axes")
    if axes is None and len(ins) > 1 and ins[1] is not None:
        axes = _ints(ins[1], "axes")
    if axes is None:
        raise OpError("a mean over every axis (no `axes`) is not a pooling layer")
    rank = n + 2
    axes = sorted(int(a) % rank for a in axes)
    if axes != list(range(2, rank)):
        raise OpError(f"a mean over axes {axes} (only the mean over all spatial axes {list(range(2, rank))} reads "
                      "as global average pooling)")
    out = ctx.emit(_layer_cls("AdaptiveAvgPool", n)(1), [x], node)
    if int(attrs.get("keepdims", 1)):
        return [out]
    return [ctx.emit(L.Flatten(), [out], node, suffix="flatten")]


def batch_norm(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    if int(attrs.get("training_mode", 0)):
        raise OpError("`training_mode`=1 (batch statistics) is not supported")
    n = _spatial(x)
    layer = _layer_cls("BatchNorm", max(n, 1))(ins[1].dims[0] if isinstance(ins[1], Const) else x.shape[0])
    return [ctx.emit(layer, [x], node, weights=[ins[1], ins[2]])]


def gemm(ctx, node, ins, attrs):
    a, b = ins[0], ins[1]
    x = _tensor(a)
    if not isinstance(b, Const) or len(b.dims) != 2:
        raise OpError("its B operand is not a constant matrix (a learned weight)")
    if int(attrs.get("transA", 0)):
        raise OpError("`transA`=1 (a transposed activation) is not supported")
    k, m = (b.dims[1], b.dims[0]) if int(attrs.get("transB", 0)) else b.dims
    bias = len(ins) > 2 and isinstance(ins[2], Const)
    if len(ins) > 2 and ins[2] is not None and not bias:
        raise OpError("its C operand (the bias) is computed, not a constant")
    weights = [b] + ([ins[2]] if bias else [])
    return [ctx.emit(L.Linear(k, m, bias=bias), [x], node, weights=weights)]


def matmul(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    b = ins[1]
    if not isinstance(b, Const) or len(b.dims) != 2:
        raise OpError("its second operand is not a constant matrix (a learned weight)")
    k, m = b.dims
    bias = ctx.fused_bias(node, m)
    weights = [b] + ([bias] if bias is not None else [])
    return [ctx.emit(L.Linear(k, m, bias=bias is not None), [x], node, weights=weights)]


_ACTIVATIONS = {
    "Relu": "ReLU", "LeakyRelu": "LeakyReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Elu": "ELU", "Selu": "SELU",
    "Celu": "CELU", "Gelu": "GELU", "Softplus": "Softplus", "HardSigmoid": "Hardsigmoid",
    "HardSwish": "Hardswish", "Mish": "Mish", "Softmax": "Softmax", "LogSoftmax": "LogSoftmax",
    "Dropout": "Dropout",
}


def activation(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    layer = getattr(L, _ACTIVATIONS[node.op_type])()
    return [ctx.emit(layer, [x], node)] + [UNKNOWN] * (len(node.output) - 1)


def clip(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    bounds = []
    for i, key in ((1, "min"), (2, "max")):
        if len(ins) > i and ins[i] is not None:
            bounds.append(float(np.asarray(ins[i].value).reshape(-1)[0]) if isinstance(ins[i], Const)
                          and ins[i].value is not None else None)
        else:
            bounds.append(attrs.get(key))
    layer = L.ReLU6() if bounds == [0.0, 6.0] else L.Hardtanh()
    return [ctx.emit(layer, [x], node)]


def prelu(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    slope = ins[1]
    if not isinstance(slope, Const):
        raise OpError("its slope is not a constant")
    return [ctx.emit(L.PReLU(num_parameters=slope.numel), [x], node, weights=[slope])]


def identity(ctx, node, ins, attrs):
    return [ins[0]]


def flatten(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    axis = int(attrs.get("axis", 1))
    if axis % (len(x.shape) + 1) != 1:
        raise OpError(f"`axis`={axis} (only axis 1, keeping the batch axis, reads as torch.flatten(x, 1))")
    if len(x.shape) == 1:
        return [x]
    return [ctx.emit(L.Flatten(), [x], node)]


def reshape(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    target = _sizes(ins[1], "shape")
    total = sympy.Integer(1)
    for s in x.shape:
        total *= s
    batch = ctx.batch
    if len(target) == len(x.shape) + 1 and all(
            sympy.simplify(t - s) == 0 or t == 0 for t, s in zip(target[1:], x.shape, strict=True)):
        return [x]  # the same shape: a view that changes nothing
    if len(target) == 2:
        first, second = target
        first_ok = first == 0 or sympy.simplify(first - batch) == 0 or (first == -1 and second != -1)
        second_ok = second == -1 or sympy.simplify(second - total) == 0
        if first_ok and second_ok:
            return [x] if len(x.shape) == 1 else [ctx.emit(L.Flatten(), [x], node)]
    raise OpError(f"a reshape of (N, {', '.join(map(str, x.shape))}) to {tuple(target)} regroups more than the "
                  "flatten to (N, -1) symcnn reads")


def transpose(ctx, node, ins, attrs):
    from ._reader import to_first, to_last

    x = _tensor(ins[0], any_layout=True)
    perm = [int(p) for p in attrs.get("perm", [])]
    rank = len(x.shape) + 1
    if perm and perm == list(range(len(perm))):
        return [x]
    if rank >= 3 and perm == (to_first(rank) if x.channels_last else to_last(rank)):
        return [Tensor(x.node, x.shape, not x.channels_last)]  # the same values in the other layout
    raise OpError(f"a transpose with `perm`={perm} moves axes (only the identity permutation and the change "
                  "between channels-first and channels-last regroup nothing)")


def binary(ctx, node, ins, attrs):
    a, b = ins[0], ins[1]
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        layer = L.Add() if node.op_type in ("Add", "Sub") else L.Mul()
        return [ctx.emit(layer, [a, b], node)]
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        x, c = (a, b) if isinstance(a, Tensor) else (b, a)
        if not isinstance(c, Const):
            raise OpError("one operand is computed from shapes, the other an activation")
        if c.numel == 1 and c.value is not None:
            value = float(np.asarray(c.value).reshape(-1)[0])
            op = "add" if node.op_type in ("Add", "Sub") else "mul"
            return [ctx.emit(L.ScalarOp(op, value), [x], node)]
        return [ctx.emit(_constant_operand(node.op_type, c), [x], node, weights=[c])]
    return [_size_arithmetic(node.op_type, a, b)]


def _constant_operand(op: str, c: Const):
    """``x op c`` with a constant tensor ``c`` (a per-channel scale or shift, layer scale): its elements are
    counted as parameters, one FLOP per output element."""
    numel = c.numel

    def shape(s):
        return s

    def flops(s):
        out = sympy.Integer(1)
        for d in s:
            out *= d
        return out

    return L.Opaque(output_shape=shape, params=numel, macs=0, flops=flops, name=f"{op} constant {c.dims}")


def concat(ctx, node, ins, attrs):
    if all(isinstance(v, Tensor) for v in ins):
        if len(ins) == 1:
            return [ins[0]]
        return [ctx.emit(L.Concat(dim=int(attrs["axis"])), list(ins), node)]
    if any(isinstance(v, Tensor) for v in ins):
        raise OpError("a concatenation of activations with constants")
    out = []
    for v in ins:
        out.extend(_values(v)[0])
    return [Sizes(tuple(out))]


def _crop(ctx, node, x: Tensor, ins):
    """A Slice of an activation along spatial axes with step 1 (U-Net's centre crop): a negative pad."""
    from ..._intmath import decide, smin

    starts, ends = _sizes(ins[1], "starts"), _sizes(ins[2], "ends")
    rank = len(x.shape) + 1
    axes = _ints(ins[3], "axes") if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = _ints(ins[4], "steps") if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    n = _spatial(x)
    per_axis = [(sympy.Integer(0), sympy.Integer(0))] * n
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        axis %= rank
        if step != 1 or axis < 2:
            raise OpError(f"a slice of an activation along axis {axis} with step {step} (only crops of spatial "
                          "axes with step 1 are read)")
        size = x.shape[axis - 1]
        if end.is_number and end >= 2**31:
            end = size
        start = start + size if start.is_number and start < 0 else start
        end = end + size if end.is_number and end < 0 else end
        if decide(sympy.Ge(start, 0)) is not True:
            raise OpError(f"a slice starting at {start}, which symcnn cannot prove nonnegative")
        if decide(sympy.Le(end, size)) is not True:
            end = smin(end, size)  # the spec clamps the end to the axis size
        per_axis[axis - 2] = (-start, -(size - end))
    flat = tuple(p for pair in per_axis[::-1] for p in pair)
    return [ctx.emit(_layer_cls("ConstantPad", n)(flat, 0), [x], node)]


def slice_op(ctx, node, ins, attrs):
    if isinstance(ins[0], Tensor):
        return _crop(ctx, node, ins[0], ins)
    values, _ = _values(ins[0])
    starts, ends = _ints(ins[1], "starts"), _ints(ins[2], "ends")
    axes = _ints(ins[3], "axes") if len(ins) > 3 and ins[3] is not None else [0]
    steps = _ints(ins[4], "steps") if len(ins) > 4 and ins[4] is not None else [1]
    if axes != [0] or len(starts) != 1:
        raise OpError("Slice of a size list along an axis other than 0")
    big = 2**62
    s, e = starts[0], ends[0]
    e = None if e >= big else e
    return [Sizes(tuple(values[slice(s, e, steps[0])]))]


def pad(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    n = _spatial(x)
    pads = attrs.get("pads")
    if pads is None:
        pads = _sizes(ins[1], "pads")
    if len(ins) > 3 and ins[3] is not None:
        raise OpError("Pad with `axes` is not supported")
    rank = n + 2
    pads = [int(p) for p in pads]
    if len(pads) != 2 * rank:
        raise OpError(f"`pads` has {len(pads)} entries for a rank-{rank} input")
    if any(pads[i] or pads[i + rank] for i in (0, 1)):
        raise OpError("padding the batch or channel axis")
    mode = attrs.get("mode", "constant")
    prefix = {"constant": "ConstantPad", "reflect": "ReflectionPad", "edge": "ReplicationPad"}.get(mode)
    if prefix is None:
        raise OpError(f"`mode`={mode!r}")
    per_axis = [(pads[2 + i], pads[2 + i + rank]) for i in range(n)]
    flat = tuple(p for pair in per_axis[::-1] for p in pair)  # PyTorch's order: last axis first
    cls = _layer_cls(prefix, n)
    layer = cls(flat) if prefix != "ConstantPad" else cls(flat, 0)
    return [ctx.emit(layer, [x], node)]


HANDLERS = {
    "Conv": conv, "ConvTranspose": conv, "MaxPool": pool, "AveragePool": pool,
    "GlobalAveragePool": global_pool, "GlobalMaxPool": global_pool, "ReduceMean": reduce_mean,
    "BatchNormalization": batch_norm, "Gemm": gemm, "MatMul": matmul,
    **{op: activation for op in _ACTIVATIONS}, "Clip": clip, "PRelu": prelu, "Identity": identity,
    "Flatten": flatten, "Reshape": reshape, "Transpose": transpose,
    "Add": binary, "Sub": binary, "Mul": binary, "Div": binary,
    "Concat": concat, "Slice": slice_op, **SIZE_HANDLERS,
    "Resize": resize, "Upsample": resize, "Pad": pad,
}
