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

from ..._intmath import ceildiv, floordiv
from ._reader import Const, Sizes, Tensor

__all__ = ["OpError", "FOLDABLE", "SIZE_HANDLERS"]


class OpError(Exception):
    """A node symcnn cannot read: the message says why (raised to the walk, which names the node)."""


def _tensor(v, what: str = "input", *, any_layout: bool = False) -> Tensor:
    if not isinstance(v, Tensor):
        raise OpError(f"its {what} must be an activation tensor, got a {type(v).__name__.lower()}")
    if v.channels_last and not any_layout:
        raise OpError(f"its {what} is laid out channels-last (N, *spatial, C); symcnn reads operators on "
                      "channels-first tensors (tf2onnx wraps them in Transposes)")
    return v


def _ints(v, what: str) -> list[int]:
    if isinstance(v, Const) and v.value is not None:
        return [int(a) for a in np.asarray(v.value).reshape(-1)]
    if isinstance(v, Sizes) and all(isinstance(a, sympy.Integer) for a in v.values):
        return [int(a) for a in v.values]
    raise OpError(f"its `{what}` is not a constant")


def _sizes(v, what: str) -> list[sympy.Expr]:
    if isinstance(v, Sizes):
        return list(v.values)
    if isinstance(v, Const) and v.value is not None:
        return [sympy.Integer(int(a)) for a in np.asarray(v.value).reshape(-1)]
    raise OpError(f"its `{what}` is neither a constant nor computed from shapes")


def _values(v) -> tuple[list, bool]:
    if isinstance(v, Sizes):
        return list(v.values), v.scalar
    if isinstance(v, Const) and v.value is not None:
        arr = np.asarray(v.value)
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
    if isinstance(p, sympy.Expr) and p.is_integer and q.is_integer:
        return floordiv(p, q)  # integer Div truncates; sizes are positive, so it floors
    return p / q


def shape_op(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    full = (ctx.batch, *x.shape)
    start, end = int(attrs.get("start", 0)), attrs.get("end")
    return [Sizes(tuple(full[start:None if end is None else int(end)]))]


def constant(ctx, node, ins, attrs):
    from ._reader import const_from_tensor

    if "value" in attrs:
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
    data, idx = ins[0], ins[1]
    values, _ = _values(data)
    if int(attrs.get("axis", 0)) != 0:
        raise OpError("Gather on a size list along an axis other than 0")
    picks = _ints(idx, "indices")
    scalar = isinstance(idx, Const) and idx.value is not None and np.asarray(idx.value).ndim == 0
    return [Sizes(tuple(values[i] for i in picks), scalar)]


def unsqueeze(ctx, node, ins, attrs):
    if isinstance(ins[0], Tensor):
        raise OpError("Unsqueeze of an activation (a new axis) is not supported")
    values, _ = _values(ins[0])
    return [Sizes(tuple(values))]


def squeeze(ctx, node, ins, attrs):
    if isinstance(ins[0], Tensor):
        x = ins[0]
        return [x]  # an activation of shape (N, C) squeezed of nothing, or of size-1 axes: read as a view
    values, _ = _values(ins[0])
    return [Sizes(tuple(values), len(values) == 1)]


def cast(ctx, node, ins, attrs):
    return [ins[0]]


def rounding(ctx, node, ins, attrs):
    values, scalar = _values(ins[0])
    fn = (lambda v: floordiv(sympy.numer(v), sympy.denom(v))) if node.op_type == "Floor" else (
        lambda v: ceildiv(sympy.numer(v), sympy.denom(v)))
    return [Sizes(tuple(sympy.together(v) if v.is_integer else fn(sympy.together(v)) for v in values), scalar)]


def _fold(node, ins, attrs):
    """A node whose inputs are all small constants, evaluated with NumPy (shape constants, axes lists)."""
    arrs = [None if v is None else np.asarray(v.value) for v in ins]
    op = node.op_type
    a = arrs[0]
    if op == "Reshape":
        shape = [int(d) for d in arrs[1].reshape(-1)]
        shape = [a.shape[i] if d == 0 and not int(attrs.get("allowzero", 0)) else d for i, d in enumerate(shape)]
        out = a.reshape(shape)
    elif op == "Unsqueeze":
        axes = attrs.get("axes") or [int(d) for d in arrs[1].reshape(-1)]
        out = a
        for ax in sorted(int(x) % (a.ndim + len(axes)) for x in axes):
            out = np.expand_dims(out, ax)
    elif op == "Squeeze":
        axes = attrs.get("axes") or ([int(d) for d in arrs[1].reshape(-1)] if len(arrs) > 1 and arrs[1] is not None
                                     else None)
        out = np.squeeze(a, axis=None if axes is None else tuple(int(x) for x in axes))
    elif op == "Concat":
        out = np.concatenate(arrs, axis=int(attrs.get("axis", 0)))
    elif op in ("Cast", "Identity"):
        return [ins[0]]  # the same constant (an initializer stays one: exporters alias weights through Identity)
    elif op == "Gather":
        out = np.take(a, arrs[1], axis=int(attrs.get("axis", 0)))
    elif op in ("Add", "Sub", "Mul"):
        out = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](a, arrs[1])
    elif op == "Div":
        out = a // arrs[1] if a.dtype.kind in "iu" and arrs[1].dtype.kind in "iu" else a / arrs[1]
    elif op == "Transpose":
        out = np.transpose(a, attrs.get("perm"))
    else:
        return None
    out = np.asarray(out)
    return [Const(tuple(out.shape), out, False)]


FOLDABLE = ("Reshape", "Unsqueeze", "Squeeze", "Concat", "Cast", "Identity", "Gather", "Add", "Sub", "Mul", "Div",
            "Transpose")


SIZE_HANDLERS = {
    "Shape": shape_op, "Constant": constant, "Gather": gather, "Unsqueeze": unsqueeze, "Squeeze": squeeze,
    "Cast": cast, "Floor": rounding, "Ceil": rounding,
}
