"""``Opaque``: a layer whose formulas the user supplies (a module symcnn has no formulas for).

Used by :func:`symcnn.from_torch` through its ``custom=`` argument, or directly in a network. Every
quantity is given explicitly, as a number, an integer SymPy expression, or a callable of the input shape
(a :class:`~symcnn.layers.Shape` of SymPy integers, without the batch dimension); nothing defaults to a
silent zero except what the docstring says:

* ``output_shape`` (required): a callable ``shape -> tuple``;
* ``params``, ``macs`` (required): the trainable parameter count and the multiply-accumulates per sample;
* ``flops`` (default ``2*macs``), ``buffers`` (default 0), ``connections`` (default ``macs``).

The receptive field of an opaque layer is not known: symcnn takes the worst case (every output reads the
whole input along each spatial axis) and flags it ``exact=False``.
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from ._base import AxisMap, Layer, LayerResult, Shape, fmt, to_expr

__all__ = ["Opaque"]

_REQUIRED = object()


class Opaque(Layer):
    """A layer with user-supplied formulas.

    Args:
        output_shape: callable mapping the input shape ``(C, *spatial)`` to the output shape.
        params: trainable parameters (int, integer expression, or callable of the input shape).
        macs: multiply-accumulates per sample (same forms).
        flops: FLOPs per sample; default ``2*macs``.
        buffers: non-trainable stored values; default 0.
        connections: default ``macs``.
        name: shown in messages and in ``repr``.

    Examples:
        >>> import symcnn as sc
        >>> se = sc.Opaque(output_shape=lambda s: s, params=lambda s: 2 * s[0] * (s[0] // 4) + s[0] + s[0] // 4,
        ...                macs=lambda s: 2 * s[0] * (s[0] // 4), name="SqueezeExcite")
        >>> a = sc.analyze(se, (64, sc.H, sc.W))
        >>> a.output_shape, a.params, a.macs     # 2*64*16 + 64 + 16 = 2128
        ((64, H, W), 2128, 2048)
    """

    def __init__(self, output_shape=_REQUIRED, params=_REQUIRED, macs=_REQUIRED, flops=None, buffers=0,
                 connections=None, name: str = "Opaque"):
        if not isinstance(name, str) or not name:
            raise SymcnnError(f"Opaque: `name`={name!r} must be a non-empty string")
        label = f"Opaque '{name}'"
        missing = [n for n, v in (("output_shape", output_shape), ("params", params), ("macs", macs))
                   if v is _REQUIRED]
        if missing:
            raise SymcnnError(
                f"{label}: give {', '.join(f'`{n}`' for n in missing)}; an opaque layer has no formulas of its "
                "own (never a silent zero)"
            )
        if not callable(output_shape):
            raise SymcnnError(
                f"{label}: `output_shape`={output_shape!r} must be a callable taking the input shape "
                "(C, *spatial) and returning the output shape"
            )
        for arg, value in (("params", params), ("macs", macs), ("flops", flops), ("buffers", buffers),
                           ("connections", connections)):
            if value is None or callable(value):
                continue
            to_expr(label, arg, value, minimum=0)  # refuse a bad constant now, not at analysis time
        self._set(output_shape=output_shape, params=params, macs=macs, flops=flops, buffers=buffers,
                  connections=connections, name=name)
        self._freeze()

    @property
    def label(self) -> str:
        return f"Opaque '{self.name}'"

    def __repr__(self) -> str:
        return f"Opaque(name={self.name!r})"

    def _call(self, arg: str, fn, shape: Shape):
        try:
            return fn(shape)
        except SymcnnError:
            raise
        except Exception as e:  # the user's callable: report it with its context, not a deep traceback
            raise SymcnnError(
                f"{self.label}: the `{arg}` callable raised {type(e).__name__}: {e} (input shape {fmt(tuple(shape))})"
            ) from None

    def _quantity(self, arg: str, value, shape: Shape) -> sympy.Expr:
        if callable(value):
            value = self._call(arg, value, shape)
        return to_expr(self.label, arg, value, minimum=0)

    def infer(self, *xs: Shape) -> LayerResult:
        if len(xs) != 1:
            raise SymcnnError(f"{self.label}: takes 1 input, got {len(xs)}")
        x = Shape(xs[0])
        out = self._call("output_shape", self.output_shape, x)
        if isinstance(out, (int, sympy.Basic)) and not isinstance(out, bool):
            out = (out,)
        if not isinstance(out, (tuple, list)) or not out:
            raise SymcnnError(
                f"{self.label}: `output_shape` returned {out!r}; expected a non-empty tuple (C, *spatial)"
            )
        shape = Shape(tuple(to_expr(self.label, "output_shape", v, minimum=1) for v in out))
        macs = self._quantity("macs", self.macs, x)
        flops = 2 * macs if self.flops is None else self._quantity("flops", self.flops, x)
        connections = macs if self.connections is None else self._quantity("connections", self.connections, x)
        axes = tuple(AxisMap("global", w, w, exact=False) for w in x[1:])
        return LayerResult(
            output_shape=shape,
            params=self._quantity("params", self.params, x),
            buffers=self._quantity("buffers", self.buffers, x),
            macs=macs,
            flops=flops,
            connections=connections,
            axes=axes or None,
            notes=(f"{self.label}: user-supplied formulas",),
        )
