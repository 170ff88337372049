"""ONNX's size arithmetic: the Shape / Gather / Slice / Concat / Cast / Floor chains exporters write to compute
sizes, read as SymPy formulas (never executed), and small constants folded with NumPy.

A size list is a :class:`~._reader.Sizes` (batch axis included); a constant a :class:`~._reader.Const`. The
layer handlers (:mod:`._ops`) read their ``shape``, ``sizes``, ``pads`` and ``axes`` operands through
:func:`_sizes` and :func:`_ints`.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy

from ... import layers as L
from ..._intmath import ceildiv, floordiv
from ._reader import MAX_CONST_VALUES, Const, OpError, Sizes, Tensor, View

__all__ = ["OpError", "FOLDABLE", "SIZE_HANDLERS"]


def _tensor(v, what: str = "input", *, any_layout: bool = False) -> Tensor:
    if isinstance(v, View):
        raise OpError(f"its {what} is {v.describe()}, which only the pattern's next operator reads")
    if not isinstance(v, Tensor):
        raise OpError(f"its {what} must be an activation tensor, got a {type(v).__name__.lower()}")
    if v.channels_last and not any_layout:
        raise OpError(f"its {what} is laid out channels-last (N, *spatial, C); symcnn reads operators on "
                      "channels-first tensors (tf2onnx wraps them in Transposes)")
    return v


def _int_array(v: Const, what: str) -> np.ndarray:
    arr = np.asarray(v.value)
    if arr.dtype.kind not in "iub":
        raise OpError(f"its `{what}` is a {arr.dtype} constant, not integers")
    return arr.astype(np.int64).reshape(-1)


def _ints(v, what: str) -> list[int]:
    if isinstance(v, Const) and v.value is not None:
        return [int(a) for a in _int_array(v, what)]
    if isinstance(v, Sizes) and all(isinstance(a, sympy.Integer) for a in v.values):
        return [int(a) for a in v.values]
    raise OpError(f"its `{what}` is not a constant")


def _sizes(v, what: str) -> list[sympy.Expr]:
    if isinstance(v, Sizes):
        return list(v.values)
    if isinstance(v, Const) and v.value is not None:
        return [sympy.Integer(int(a)) for a in _int_array(v, what)]
    raise OpError(f"its `{what}` is neither a constant nor computed from shapes")


def _values(v) -> tuple[list, bool]:
    if isinstance(v, Sizes):
        return list(v.values), v.scalar
    if isinstance(v, Const) and v.value is not None:
        arr = np.asarray(v.value)
        if arr.dtype.kind not in "iubf" or (arr.dtype.kind == "f" and not np.all(np.isfinite(arr))):
            raise OpError(f"an operand of size arithmetic is a {arr.dtype} constant with values {arr.reshape(-1)[:4]}")
        vals = [sympy.Integer(int(a)) if float(a).is_integer() else sympy.Rational(Fraction(float(a)))
                for a in arr.reshape(-1)]
        return vals, arr.ndim == 0
    raise OpError("an operand of size arithmetic is not known")


def _size_arithmetic(op: str, a, b) -> Sizes:
    va, sa = _values(a)
    vb, sb = _values(b)
    if len(va) == 1 and len(vb) > 1:
        va = va * len(vb)
    if len(vb) == 1 and len(va) > 1:
        vb = vb * len(va)
    if len(va) != len(vb):
        raise OpError(f"size arithmetic on lengths {len(va)} and {len(vb)}")
    fn = {"Add": lambda p, q: p + q, "Sub": lambda p, q: p - q, "Mul": lambda p, q: p * q,
          "Div": _divide}[op]
    return Sizes(tuple(fn(p, q) for p, q in zip(va, vb, strict=True)), sa and sb)


def _divide(p, q):
    if q == 0:
        raise OpError("a size divided by zero")
    if isinstance(p, sympy.Expr) and p.is_integer and q.is_integer:
        return floordiv(p, q)  # integer Div truncates; sizes are positive, so it floors
    return p / q


def arg(ins, i: int, what: str, *, required: bool = True):
    """The node's ``i``-th operand, or None when absent (refused when ``required``)."""
    v = ins[i] if i < len(ins) else None
    if v is None and required:
        raise OpError(f"its operand `{what}` (input {i}) is missing")
    return v


def shape_op(ctx, node, ins, attrs):
    x = arg(ins, 0, "data")
    if isinstance(x, Const):
        return [Const((len(x.dims),), np.asarray(x.dims, dtype=np.int64), False)]
    x = _tensor(x, any_layout=True)
    full = (ctx.batch, *x.shape)
    if x.channels_last:
        full = (full[0], *full[2:], full[1])
    start, end = attrs.int("start", 0), attrs.int("end")
    return [Sizes(tuple(full[start:end]))]


def constant(ctx, node, ins, attrs):
    from ._reader import const_from_tensor

    if "value" in attrs:
        if not hasattr(attrs["value"], "dims"):
            raise OpError(f"`value`={attrs['value']!r} must be a tensor")
        return [const_from_tensor(attrs["value"], initializer=False)]
    for key in ("value_int", "value_float"):
        if key in attrs:
            return [Const((), np.asarray(attrs[key]), False)]
    for key in ("value_ints", "value_floats"):
        if key in attrs:
            arr = np.asarray(attrs[key])
            return [Const(arr.shape, arr, False)]
    raise OpError(f"a Constant with attributes {sorted(attrs)} is not supported")


def gather(ctx, node, ins, attrs):
    data, idx = arg(ins, 0, "data"), arg(ins, 1, "indices")
    if isinstance(data, Tensor):
        raise OpError("Gather of an activation (an embedding or index lookup) is not supported")
    values, _ = _values(data)
    if attrs.int("axis", 0) != 0:
        raise OpError(f"`axis`={attrs['axis']} on a size list (only axis 0)")
    picks = _ints(idx, "indices")
    if any(not -len(values) <= i < len(values) for i in picks):
        raise OpError(f"`indices` {picks} out of range for {len(values)} sizes")
    scalar = isinstance(idx, Const) and idx.value is not None and np.asarray(idx.value).ndim == 0
    return [Sizes(tuple(values[i] for i in picks), scalar)]


def unsqueeze(ctx, node, ins, attrs):
    if isinstance(arg(ins, 0, "data"), Tensor):
        raise OpError("Unsqueeze of an activation (a new axis) is not supported")
    values, _ = _values(ins[0])
    return [Sizes(tuple(values))]


def squeeze(ctx, node, ins, attrs):
    x = arg(ins, 0, "data")
    if isinstance(x, Tensor):
        axes = attrs.ints("axes")
        if axes is None and len(ins) > 1 and ins[1] is not None:
            axes = _ints(ins[1], "axes")
        rank = len(x.shape) + 1
        if axes is not None:
            if any(not -rank <= a < rank for a in axes):
                raise OpError(f"`axes`={axes} out of range for rank {rank}")
            dropped = sorted({a % rank for a in axes})
            if 0 in dropped or any(x.shape[a - 1] != 1 for a in dropped):
                raise OpError(f"`axes`={axes} squeezes an axis whose size is not 1 (or the batch axis)")
            if dropped and dropped == list(range(2, rank)):
                return [ctx.emit(L.Flatten(), [x], node)]  # (N, C, 1, 1) -> (N, C)
            if dropped:
                raise OpError(f"`axes`={axes} squeezes some of the spatial axes (only all of them, to (N, C))")
        return [x]  # an activation of shape (N, C) squeezed of nothing: read as a view
    values, _ = _values(x)
    return [Sizes(tuple(values), len(values) == 1)]


def cast(ctx, node, ins, attrs):
    return [arg(ins, 0, "input")]


def rounding(ctx, node, ins, attrs):
    values, scalar = _values(arg(ins, 0, "X"))
    fn = (lambda v: floordiv(sympy.numer(v), sympy.denom(v))) if node.op_type == "Floor" else (
        lambda v: ceildiv(sympy.numer(v), sympy.denom(v)))
    return [Sizes(tuple(sympy.together(v) if v.is_integer else fn(sympy.together(v)) for v in values), scalar)]


def _fold(node, ins, attrs):
    """A node whose inputs are all small constants, evaluated with NumPy (shape constants, axes lists); None
    when the operator is not one folded here. NumPy's refusal (a reshape that does not fit, an axis out of
    range) is the node's refusal, as onnxruntime's would be."""
    arrs = [None if v is None else np.asarray(v.value) for v in ins]
    if not arrs or arrs[0] is None:
        return None
    try:
        with np.errstate(all="raise"):
            out = _fold_op(node.op_type, arrs, attrs)
    except OpError:
        raise
    except (ValueError, IndexError, TypeError, ArithmeticError, FloatingPointError, MemoryError) as e:
        raise OpError(f"its constant inputs cannot be computed ({type(e).__name__}: {e})") from None
    if out is None:
        return None
    if out is arrs[0]:
        return [ins[0]]  # the same constant: an initializer stays one (exporters alias weights through Identity)
    out = np.asarray(out)
    if out.size > MAX_CONST_VALUES:
        raise OpError(f"it computes a constant of {out.size:,} values (more than {MAX_CONST_VALUES:,})")
    return [Const(tuple(out.shape), out, False)]


def _second(arrs, what):
    if len(arrs) < 2 or arrs[1] is None:
        raise OpError(f"its operand `{what}` is missing")
    return arrs[1]


def _axes_operand(arrs, attrs, i=1):
    axes = attrs.ints("axes")
    if axes is None and len(arrs) > i and arrs[i] is not None:
        axes = [int(d) for d in arrs[i].reshape(-1)]
    return axes


def _fold_op(op, arrs, attrs):
    a = arrs[0]
    if op == "Reshape":
        shape = [int(d) for d in _second(arrs, "shape").reshape(-1)]
        keep = not attrs.int("allowzero", 0)
        shape = [a.shape[i] if d == 0 and keep and i < a.ndim else d for i, d in enumerate(shape)]
        return a.reshape(shape)
    if op == "Unsqueeze":
        axes = _axes_operand(arrs, attrs) or []
        rank = a.ndim + len(axes)
        if any(not -rank <= x < rank for x in axes) or len({x % rank for x in axes}) != len(axes):
            raise OpError(f"`axes`={axes} out of range or repeated for rank {rank}")
        out = a
        for ax in sorted(x % rank for x in axes):
            out = np.expand_dims(out, ax)
        return out
    if op == "Squeeze":
        axes = _axes_operand(arrs, attrs)
        return np.squeeze(a, axis=None if axes is None else tuple(axes))
    if op == "Concat":
        return np.concatenate([x for x in arrs if x is not None], axis=attrs.int("axis", 0))
    if op == "Identity":
        return a
    if op == "Cast":
        from onnx import helper

        try:
            dtype = helper.tensor_dtype_to_np_dtype(attrs.int("to", 1))
        except (KeyError, ValueError, TypeError):
            raise OpError(f"`to`={attrs.get('to')!r} is not an ONNX element type") from None
        if np.dtype(dtype).kind == a.dtype.kind == "f":
            return a  # a float weight cast to another float: the same constant (and the same initializer)
        return a.astype(dtype)
    if op == "Gather":
        idx = _second(arrs, "indices")
        if idx.dtype.kind not in "iu":
            raise OpError(f"`indices` are {idx.dtype}, not integers")
        return np.take(a, idx, axis=attrs.int("axis", 0))
    if op in ("Add", "Sub", "Mul"):
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](a, _second(arrs, "B"))
    if op == "Div":
        b = _second(arrs, "B")
        if a.dtype.kind in "iu" and b.dtype.kind in "iu":
            if np.any(b == 0):
                raise OpError("an integer division by zero")
            return np.trunc(a / b).astype(np.result_type(a, b))
        return a / b
    if op == "Transpose":
        return np.transpose(a, attrs.ints("perm"))
    if op == "ConstantOfShape":
        shape = [int(d) for d in a.reshape(-1)]
        if any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.float64)) > MAX_CONST_VALUES:
            raise OpError(f"the shape {shape} is negative or larger than {MAX_CONST_VALUES:,} values")
        value = attrs.get("value")
        from onnx import numpy_helper

        fill = numpy_helper.to_array(value).reshape(-1)[:1] if value is not None else np.zeros(1, np.float32)
        return np.full(shape, fill[0] if fill.size else 0, dtype=fill.dtype)
    if op == "Slice":
        return _fold_slice(arrs, attrs)
    if op == "Neg":
        return -a
    if op in ("Equal", "Less", "Greater"):
        return {"Equal": np.equal, "Less": np.less, "Greater": np.greater}[op](a, _second(arrs, "B"))
    if op == "Where":
        if len(arrs) < 3 or arrs[1] is None or arrs[2] is None:
            raise OpError("Where needs three operands")
        return np.where(a.astype(bool), arrs[1], arrs[2])
    if op == "Range":
        if len(arrs) < 3 or arrs[1] is None or arrs[2] is None or not np.all(arrs[2]):
            raise OpError("Range needs a start, a limit and a non-zero delta")
        n = int(np.ceil((float(arrs[1]) - float(a)) / float(arrs[2])))
        if n > MAX_CONST_VALUES:
            raise OpError(f"Range of {n:,} values")
        return np.arange(a.item(), arrs[1].item(), arrs[2].item())
    return None


def _fold_slice(arrs, attrs):
    a = arrs[0]
    starts = attrs.ints("starts") if "starts" in attrs else [int(v) for v in _second(arrs, "starts").reshape(-1)]
    ends = attrs.ints("ends") if "ends" in attrs else (
        [int(v) for v in arrs[2].reshape(-1)] if len(arrs) > 2 and arrs[2] is not None else None)
    if ends is None or len(starts) != len(ends):
        raise OpError(f"`starts` {starts} and `ends` {ends} differ in length")
    axes = attrs.ints("axes") if "axes" in attrs else (
        [int(v) for v in arrs[3].reshape(-1)] if len(arrs) > 3 and arrs[3] is not None else list(range(len(starts))))
    steps = [int(v) for v in arrs[4].reshape(-1)] if len(arrs) > 4 and arrs[4] is not None else [1] * len(starts)
    if not len(axes) == len(steps) == len(starts) or 0 in steps:
        raise OpError(f"`axes` {axes} / `steps` {steps} do not match `starts` {starts} (or a step is 0)")
    index = [slice(None)] * a.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps, strict=True):
        if not -a.ndim <= ax < a.ndim:
            raise OpError(f"`axes` {axes} out of range for rank {a.ndim}")
        index[ax % a.ndim] = slice(s, e, st)
    return a[tuple(index)]


FOLDABLE = ("Reshape", "Unsqueeze", "Squeeze", "Concat", "Cast", "Identity", "Gather", "Add", "Sub", "Mul", "Div",
            "Transpose", "ConstantOfShape", "Slice", "Neg", "Equal", "Less", "Greater", "Where", "Range")


SIZE_HANDLERS = {
    "Shape": shape_op, "Constant": constant, "Gather": gather, "Unsqueeze": unsqueeze, "Squeeze": squeeze,
    "Cast": cast, "Floor": rounding, "Ceil": rounding,
}
