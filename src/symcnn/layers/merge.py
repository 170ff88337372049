"""Merging branches: ``Add`` (residual), ``Mul`` (gating), ``Concat`` and ``CropConcat`` (U-Net skips); and
``ScalarOp``, a tensor combined with a number (``x * 0.5``, ``x + 1``), and ``Clamp`` by constants.

``Add``/``Mul`` broadcast like PyTorch (dims aligned from the right, equal or 1), for symbolic sizes too
(the rule stays a condition when it cannot be decided); FLOPs ``(k - 1)`` per output element for ``k`` inputs.
``Concat`` sums the sizes along ``dim`` (batch counted, so channels are
``dim=1``); other dims must agree. ``CropConcat`` first centre-crops every input to the spatial size of the
last one (offset ``floor((big - small)/2)``), as the original U-Net does with its skip connections.
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from .._intmath import decide, floordiv, smax
from ._base import AxisMap, Checker, Layer, LayerResult, Shape, fmt, prod

__all__ = ["Add", "Mul", "Sub", "Concat", "CropConcat", "ScalarOp", "Clamp"]


class _Broadcast(Layer):
    n_inputs = None

    def __init__(self):
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}()"

    def infer(self, *xs: Shape) -> LayerResult:
        if len(xs) < 2:
            raise SymcnnError(f"{self.label}: needs at least 2 inputs, got {len(xs)}")
        ck = Checker(self.label)
        rank = max(len(x) for x in xs)
        out = []
        for i in range(1, rank + 1):
            dims = [x[-i] for x in xs if len(x) >= i]

            def message(a, b, i=i):  # built only when the condition is not plainly true
                return ("input shapes " + ", ".join(fmt(tuple(x)) for x in xs)
                        + f" do not match (dim {rank - i + 1}, batch counted, is {fmt(a)} and {fmt(b)}; "
                        "broadcasting needs sizes equal or 1)")

            out.append(broadcast_dim(dims, ck, message))
        shape = Shape(tuple(out[::-1]))
        return LayerResult(output_shape=shape, flops=(len(xs) - 1) * prod(shape), conditions=tuple(ck.conditions))


def broadcast_dim(dims, ck: Checker, message) -> sympy.Expr:
    """The size PyTorch's broadcasting gives one axis of sizes ``dims``: sizes equal or 1, the result the
    largest. Symbolic sizes keep exactly that rule as a condition (never a stronger one), so substituting
    numbers later gives what the numbers give: ``a = b``, or ``(b - a)*(b - 1) = 0`` when ``a`` is known to
    be at least 2, or ``(a - b)*(a - 1)*(b - 1) = 0`` (with the size ``max(a, b)``) when either may be 1.

    >>> from symcnn import H, W
    >>> ck, why = Checker("Add"), lambda a, b: f"{a} and {b} do not broadcast"
    >>> broadcast_dim([H, sympy.Integer(1)], ck, why), broadcast_dim([2 * H, W], ck, why), ck.conditions
    (H, 2*H, [(W - 2*H)*(W - 1) == 0])
    """
    target = sympy.Integer(1)
    for d in dims:
        if d == 1 or d == target:
            continue
        if target == 1:
            target = d
            continue
        a, b = target, d
        if decide(sympy.Eq(a, b)) is True:
            continue
        a_big = decide(sympy.Eq(a, 1)) is False
        b_big = decide(sympy.Eq(b, 1)) is False
        lazy = lambda a=a, b=b: message(a, b)  # noqa: E731
        if a_big and b_big:
            ck.require(sympy.Eq(b, a), lazy)
        elif a_big:
            ck.require(sympy.Eq((b - a) * (b - 1), 0), lazy)
        elif b_big:
            ck.require(sympy.Eq((a - b) * (a - 1), 0), lazy)
            target = b
        else:
            ck.require(sympy.Eq((a - b) * (a - 1) * (b - 1), 0), lazy)
            target = smax(a, b)
    return target


class Add(_Broadcast):
    """Element-wise sum of branches (residual connection): ``x + y``."""


class Mul(_Broadcast):
    """Element-wise product of branches (gating, squeeze-and-excitation): ``x * y``."""


class Sub(Add):
    """Element-wise difference of two branches: ``x - y`` (PoolFormer's token mixer ``pool(x) - x``).

    Shapes broadcast as for :class:`Add`; one FLOP per output element, no parameters, no MACs. A subclass of
    ``Add``: every rule that holds for a sum (counted by no tool, nothing saved for backward) holds for it.

    >>> import symcnn as sc
    >>> x = sc.Input()
    >>> sc.analyze(sc.Graph(x, sc.Sub()(sc.AvgPool2d(3, 1, 1)(x), x)), (8, sc.H, sc.W)).flops
    80*H*W
    """

    n_inputs = 2


class ScalarOp(Layer):
    """A tensor and a number, element-wise: ``op`` is ``"add"`` (``x + value``), ``"mul"`` (``x * value``),
    ``"div"`` (``x / value``) or ``"rsub"`` (``value - x``).

    No parameters, no MACs, one FLOP per element. ``x / 0`` is accepted, as in PyTorch (the values are infinite or
    NaN; the shape and the cost are those of any other divisor). :func:`symcnn.from_torch` reads ``x * 0.5``, ``x + 1``,
    ``torch.mul(x, 2)``, ``x - 1`` (an ``"add"`` of -1), ``x / 255`` and ``1 - x`` as this layer.

    >>> import symcnn as sc
    >>> sc.analyze(sc.ScalarOp("mul", 0.5), (8, sc.H, sc.W)).flops
    8*H*W
    """

    _OPS = ("add", "mul", "div", "rsub")

    def __init__(self, op, value):
        if op not in self._OPS:
            raise SymcnnError(f"{self.kind}: `op`={op!r} must be one of {', '.join(map(repr, self._OPS))}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SymcnnError(f"{self.kind}: `value`={value!r} must be an int or a float")
        self._set(op=op, value=value)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({self.op!r}, {self.value!r})"

    def infer(self, x: Shape) -> LayerResult:
        return LayerResult(output_shape=Shape(x), flops=prod(x))


class Clamp(Layer):
    """``torch.clamp(x, min, max)`` with constant bounds (``clamp_min``, ``clamp_max``: one bound): no parameters,
    no MACs, one FLOP (a comparison) per element per bound given. PyTorch refuses a clamp without bounds.

    >>> import symcnn as sc
    >>> sc.analyze(sc.Clamp(0, 6), (8, sc.H, sc.W)).flops
    16*H*W
    """

    def __init__(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        for name, v in (("min", min), ("max", max)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v != v):
                raise SymcnnError(f"{self.kind}: `{name}`={v!r} must be None or a number (int or float, not NaN)")
        if min is None and max is None:
            raise SymcnnError(f"{self.kind}: at least one of `min` and `max` must be given (PyTorch refuses a clamp "
                              "without bounds)")
        self._set(min=min, max=max)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}(min={self.min!r}, max={self.max!r})"

    def infer(self, x: Shape) -> LayerResult:
        bounds = (self.min is not None) + (self.max is not None)
        return LayerResult(output_shape=Shape(x), flops=bounds * prod(x))


class Concat(Layer):
    """``torch.cat(tensors, dim=1)``: concatenate branches along ``dim`` (batch counted)."""

    n_inputs = None

    def __init__(self, dim=1):
        if isinstance(dim, bool) or not isinstance(dim, int) or dim == 0:
            raise SymcnnError(f"{self.kind}: `dim`={dim!r} must be a non-zero int (0 is the batch dimension)")
        self._set(dim=dim)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}(dim={self.dim})"

    def _axis(self, rank: int) -> int:
        d = self.dim if self.dim > 0 else rank + 1 + self.dim
        if not 1 <= d <= rank:
            raise SymcnnError(f"{self.label}: `dim`={self.dim} is out of range for inputs of rank {rank + 1}")
        return d - 1

    def _concat(self, xs, ck: Checker) -> Shape:
        if len(xs) < 2:
            raise SymcnnError(f"{self.label}: needs at least 2 inputs, got {len(xs)}")
        ranks = {len(x) for x in xs}
        if len(ranks) != 1:
            raise SymcnnError(f"{self.label}: inputs " + ", ".join(fmt(tuple(x)) for x in xs) + " differ in rank")
        rank = ranks.pop()
        a = self._axis(rank)
        for i in range(rank):
            if i == a:
                continue
            for x in xs[1:]:
                ck.require(  # the message is built only when the condition is not plainly true
                    sympy.Eq(x[i], xs[0][i]),
                    lambda i=i, x=x: "input shapes " + ", ".join(fmt(tuple(y)) for y in xs)
                    + f" differ along dim {i + 1} ({fmt(xs[0][i])} vs {fmt(x[i])}); only dim {a + 1} may differ",
                )
        return Shape(tuple(sum((x[a] for x in xs), sympy.Integer(0)) if i == a else xs[0][i] for i in range(rank)))

    def infer(self, *xs: Shape) -> LayerResult:
        ck = Checker(self.label)
        return LayerResult(output_shape=self._concat(xs, ck), conditions=tuple(ck.conditions))


class CropConcat(Concat):
    """U-Net skip: centre-crop every input to the last input's spatial size, then concatenate channels."""

    def infer(self, *xs: Shape) -> LayerResult:
        if len(xs) < 2:
            raise SymcnnError(f"{self.label}: needs at least 2 inputs, got {len(xs)}")
        ck = Checker(self.label)
        ref = xs[-1]
        cropped, maps = [], []
        for x in xs:
            if len(x) != len(ref):
                raise SymcnnError(f"{self.label}: inputs {fmt(tuple(x))} and {fmt(tuple(ref))} differ in rank")
            axes = []
            for w, r in zip(x[1:], ref[1:], strict=True):
                ck.require(sympy.Ge(w, r), lambda w=w, r=r: f"cannot crop size {fmt(w)} to the larger {fmt(r)}")
                axes.append(AxisMap("window", sympy.Integer(1), sympy.Integer(1), -floordiv(w - r, 2)))
            cropped.append(Shape((x[0], *ref[1:])))
            maps.append(tuple(axes))
        return LayerResult(output_shape=self._concat(cropped, ck), axes=tuple(maps), conditions=tuple(ck.conditions))
