"""Dense layers: ``Linear`` and ``Flatten``.

``Linear(in, out)`` acts on the last dimension; with ``R`` rows (the product of the other dimensions)::

    params = in*out + out*[bias]      MACs = R*in*out      FLOPs = R*out*(2*in - 1 + [bias])
    connections = R*out*(in + [bias])
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from ._base import IDENTITY_AXIS, AxisMap, Checker, Layer, LayerResult, Shape, check_device_dtype, fmt, prod, to_expr

__all__ = ["Linear", "Flatten"]


class Linear(Layer):
    """``torch.nn.Linear(in_features, out_features, bias=True)``.

    >>> import symcnn as sc
    >>> sc.analyze(sc.Linear(25088, 4096), (25088,)).params   # 25088*4096 + 4096
    102764544
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        check_device_dtype(self.kind, device, dtype)
        ck = Checker(self.kind)
        self._set(
            in_features=to_expr(self.kind, "in_features", in_features, minimum=1, checker=ck),
            out_features=to_expr(self.kind, "out_features", out_features, minimum=1, checker=ck),
        )
        if not isinstance(bias, bool):
            raise SymcnnError(f"{self.kind}: `bias`={bias!r} must be True or False")
        self._set(bias=bias, _arg_conditions=tuple(ck.conditions))
        self._freeze()

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"Linear(in_features={fmt(self.in_features)}, out_features={fmt(self.out_features)}{extra})"

    def infer(self, x: Shape) -> LayerResult:
        ck = Checker(self.label)
        ck.conditions.extend(self._arg_conditions)
        if len(x) < 1:
            raise SymcnnError(f"{self.label}: input shape {fmt(tuple(x))} has no dimension for `in_features`")
        ck.require(
            sympy.Eq(x[-1], self.in_features),
            f"input has {fmt(x[-1])} features (last dim of {fmt(tuple(x))}) but `in_features`="
            f"{fmt(self.in_features)}",
        )
        rows = prod(x[:-1])
        i, o, b = self.in_features, self.out_features, (1 if self.bias else 0)
        axes = None if len(x) == 1 else tuple(AxisMap("window", sympy.Integer(1), sympy.Integer(1))
                                              for _ in x[1:-1]) + (AxisMap("global", x[-1], x[-1]),)
        return LayerResult(
            output_shape=Shape((*x[:-1], o)),
            params=i * o + b * o,
            macs=rows * i * o,
            flops=rows * o * (2 * i - 1 + b),
            connections=rows * o * (i + b),
            axes=axes,
            axis0=None if len(x) == 1 else IDENTITY_AXIS,  # channels last: dim 0 is a spatial axis, untouched
            conditions=tuple(ck.conditions),
        )


class Flatten(Layer):
    """``torch.nn.Flatten(start_dim=1, end_dim=-1)``; dims count the batch dimension as PyTorch does.

    >>> import symcnn as sc
    >>> sc.analyze(sc.Flatten(), (512, 7, 7)).output_shape
    (25088,)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise SymcnnError(f"Flatten: `{name}`={v!r} must be an int")
        if start_dim == 0:
            raise SymcnnError("Flatten: `start_dim`=0 would merge the batch dimension; use start_dim >= 1")
        self._set(start_dim=start_dim, end_dim=end_dim)
        self._freeze()

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"

    def infer(self, x: Shape) -> LayerResult:
        rank = len(x) + 1  # with batch
        start = self.start_dim if self.start_dim >= 0 else rank + self.start_dim
        end = self.end_dim if self.end_dim >= 0 else rank + self.end_dim
        if not (1 <= start <= end < rank):
            raise SymcnnError(
                f"{self.label}: `start_dim`={self.start_dim}, `end_dim`={self.end_dim} do not fit input "
                f"{fmt(tuple(x))} (rank {rank} with batch); need 1 <= start_dim <= end_dim < {rank}"
            )
        a, b = start - 1, end - 1
        out = Shape((*x[:a], prod(x[a:b + 1]), *x[b + 1:]))
        axes = tuple(
            AxisMap("global", w, w) if a <= i + 1 <= b else AxisMap("window", sympy.Integer(1), sympy.Integer(1))
            for i, w in enumerate(x[1:])
        )
        return LayerResult(output_shape=out, axes=axes)
